"""The referral lifecycle."""

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.enums import ReferralStatus as S
from models.errors import InvalidTransition
from models.lifecycle import (
    ALLOWED_TRANSITIONS,
    can_plan_visit,
    check_transition,
    status_after_visit_planned,
)

statuses = st.sampled_from(list(S))

ALLOWED = [
    (S.RECEIVED, S.TRIAGED),
    (S.RECEIVED, S.DECLINED),
    (S.TRIAGED, S.DECLINED),
    (S.TRIAGED, S.ASSIGNED),
    (S.ASSIGNED, S.RESPONDED),
    (S.ASSIGNED, S.TRIAGED),
    (S.RESPONDED, S.CRISIS_CARE),
    (S.RESPONDED, S.CLOSED),
    (S.CRISIS_CARE, S.CLOSED),
]


def test_every_status_has_a_defined_set():
    assert set(ALLOWED_TRANSITIONS) == set(S)
    assert all(isinstance(targets, frozenset) for targets in ALLOWED_TRANSITIONS.values())


def test_allowed_transitions_are_exactly_the_lifecycle():
    pairs = {(src, dst) for src, targets in ALLOWED_TRANSITIONS.items() for dst in targets}
    assert pairs == set(ALLOWED)


def test_table_is_read_only():
    with pytest.raises(TypeError):
        ALLOWED_TRANSITIONS[S.CLOSED] = frozenset({S.TRIAGED})  # type: ignore[index]


@pytest.mark.parametrize("terminal", [S.CLOSED, S.DECLINED])
def test_closed_and_declined_are_terminal(terminal):
    assert ALLOWED_TRANSITIONS[terminal] == frozenset()
    assert not terminal.is_open


def test_every_open_status_can_reach_closed_or_declined():
    for start in S:
        seen, frontier = {start}, [start]
        while frontier:
            for nxt in ALLOWED_TRANSITIONS[frontier.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append(nxt)
        assert seen & {S.CLOSED, S.DECLINED}


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_allowed_moves_pass(current, target):
    check_transition(current, target)
    check_transition(current, target, action="do it")


@given(statuses, statuses)
def test_check_transition_agrees_with_table(current, target):
    if target in ALLOWED_TRANSITIONS[current]:
        check_transition(current, target)
    else:
        with pytest.raises(InvalidTransition):
            check_transition(current, target)


def test_refusal_names_states_in_words():
    with pytest.raises(InvalidTransition, match="^Cannot move a referral from closed to triaged$"):
        check_transition(S.CLOSED, S.TRIAGED)
    with pytest.raises(InvalidTransition, match="from crisis care to assigned"):
        check_transition(S.CRISIS_CARE, S.ASSIGNED)


def test_refusal_with_action():
    with pytest.raises(
        InvalidTransition, match="^Cannot record arrival: the referral is declined$"
    ):
        check_transition(S.DECLINED, S.RESPONDED, action="record arrival")
    with pytest.raises(InvalidTransition, match="the referral is in crisis care$"):
        check_transition(S.CRISIS_CARE, S.TRIAGED, action="triage")


def test_refusal_of_same_state():
    with pytest.raises(InvalidTransition, match="^The referral is already closed$"):
        check_transition(S.CLOSED, S.CLOSED)


@pytest.mark.parametrize(
    ("status", "plannable"),
    [
        (S.RECEIVED, False),
        (S.TRIAGED, True),
        (S.DECLINED, False),
        (S.ASSIGNED, True),
        (S.RESPONDED, True),
        (S.CRISIS_CARE, True),
        (S.CLOSED, False),
    ],
)
def test_can_plan_visit(status, plannable):
    assert can_plan_visit(status) is plannable


def test_planning_a_visit_assigns_a_triaged_referral():
    assert status_after_visit_planned(S.TRIAGED) == S.ASSIGNED
    for unchanged in (S.ASSIGNED, S.RESPONDED, S.CRISIS_CARE):
        assert status_after_visit_planned(unchanged) == unchanged


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (S.RECEIVED, "received and not yet triaged"),
        (S.DECLINED, "declined"),
        (S.CLOSED, "closed"),
    ],
)
def test_planning_a_visit_refused(status, words):
    with pytest.raises(InvalidTransition, match=f"^Cannot plan a visit: the referral is {words}$"):
        status_after_visit_planned(status)


@given(statuses)
def test_visit_planning_result_is_reachable(status):
    if not can_plan_visit(status):
        return
    after = status_after_visit_planned(status)
    assert after == status or after in ALLOWED_TRANSITIONS[status]


@pytest.mark.parametrize(
    "module", ["models.nhs", "models.postcode", "models.lifecycle", "models.clock", "models.text"]
)
def test_rules_import_no_framework(module):
    """A desk loads the rules without the database, UI or messaging layers."""
    code = (
        f"import sys, {module}; "
        "heavy = {'sqlmodel', 'sqlalchemy', 'textual', 'zmq', 'apscheduler', 'rich'}; "
        "print(sorted(heavy & {name.split('.')[0] for name in sys.modules}))"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
