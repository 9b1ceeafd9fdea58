"""The hub's commands against a real database (SQLite, and PostgreSQL where reachable)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from hub.clock import ManualClock
from hub.dispatch import Dispatcher
from models.tables import AuditEvent, Note, Referral, Staff
from tests.hub.conftest import NOW, Desk, People

VALID_NHS = "9991111115"


def referral_args(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "patient": {
            "name": "Edna Marsh",
            "nhs_number": VALID_NHS,
            "date_of_birth": "1938-04-02",
            "address": "4 Orchard Row, Leicester",
            "postcode": "le1 5ww",
            "phone": "0116 496 0000",
            "access_notes": "Key safe 1234",
        },
        "source": "gp",
        "referrer_name": "Dr Rao",
        "reason": "Fall at home, no injury, cannot get up unaided",
        "needs": ["CRT", "NUR"],
        "priority": "crisis",
    }
    args.update(overrides)
    return args


def counts(dispatcher: Dispatcher) -> tuple[int, int]:
    with Session(dispatcher.engine) as session:
        referrals = session.exec(select(func.count()).select_from(Referral)).one()
        events = session.exec(select(func.count()).select_from(AuditEvent)).one()
    return referrals, events


def create(desk: Desk, **overrides: Any) -> int:
    return desk.ok("create_referral", referral_args(**overrides))["referral_id"]


def body_of(outcome: Any, key: str) -> dict[str, Any] | None:
    matches = [m for m in outcome.published if m.key == key]
    assert matches, f"{key} not published"
    return matches[-1].json()


def test_create_referral_commits_row_audit_and_update(desk: Desk, dispatcher: Dispatcher) -> None:
    outcome = desk.send("create_referral", referral_args())
    assert outcome.reply.ok
    referral_id = outcome.reply.result["referral_id"]
    [update] = outcome.published
    assert update.key == f"/referral/{referral_id}"
    assert update.sequence == outcome.reply.sequence == 1
    body = update.json()
    assert body["patient"]["nhs_number"] == VALID_NHS
    assert body["patient"]["postcode"] == "LE1 5WW"
    assert body["status"] == "received"
    assert body["due_at"] == (NOW + timedelta(hours=2)).isoformat()
    with Session(dispatcher.engine) as session:
        [event] = session.exec(select(AuditEvent)).all()
    assert (event.seq, event.actor_id, event.desk) == (1, desk.actor, "desk-a")
    assert event.action == "referral_created"


def test_bad_input_is_refused_and_changes_nothing(desk: Desk, dispatcher: Dispatcher) -> None:
    create(desk)
    before = counts(dispatcher)
    bad_nhs = referral_args(patient={**referral_args()["patient"], "nhs_number": "999 111 1116"})
    refused = desk.refused("create_referral", bad_nhs)
    assert refused.reply.field == "nhs_number"
    assert "check digit" in refused.reply.message
    bad_postcode = referral_args(patient={**referral_args()["patient"], "postcode": "NOT A CODE"})
    assert desk.refused("create_referral", bad_postcode).reply.field == "postcode"
    assert desk.refused("create_referral", referral_args(needs=[])).reply.field == "needs"
    assert desk.refused("create_referral", referral_args(source="pigeon")).reply.field == "source"
    stranger = Desk(dispatcher, actor=999)
    assert (
        "No staff member with id 999"
        in stranger.refused("create_referral", referral_args()).reply.message
    )
    assert counts(dispatcher) == before
    assert dispatcher.sequence == 1


def test_impossible_transition_names_the_current_state(desk: Desk) -> None:
    referral_id = create(desk)
    refused = desk.refused(
        "close_referral", {"referral_id": referral_id, "version": 1, "outcome": "stayed_at_home"}
    )
    assert refused.reply.error_code == "invalid_transition"
    assert "received" in refused.reply.message


def test_stale_version_is_refused_naming_who_changed_it(
    desk: Desk, dispatcher: Dispatcher, people: People, clock: ManualClock
) -> None:
    referral_id = create(desk)
    other = Desk(dispatcher, people.social_worker, desk="desk-b")
    clock.advance(timedelta(minutes=7))
    other.ok("triage_referral", {"referral_id": referral_id, "version": 1})
    refused = desk.refused("triage_referral", {"referral_id": referral_id, "version": 1})
    assert refused.reply.error_code == "stale_version"
    assert "Jo Bell" in refused.reply.message
    assert "10:07" in refused.reply.message  # shown in hub time (Europe/London, GMT in Nov)


def test_a_retried_command_gets_its_first_reply_and_changes_nothing(
    desk: Desk, dispatcher: Dispatcher
) -> None:
    command_id = "a" * 32
    first = desk.send("create_referral", referral_args(), command_id=command_id)
    again = desk.send("create_referral", referral_args(), command_id=command_id)
    assert again.reply == first.reply
    assert again.published == []
    assert counts(dispatcher) == (1, 1)


def test_supervisor_cannot_log_a_referral(dispatcher: Dispatcher, people: People) -> None:
    supervisor = Desk(dispatcher, people.supervisor)
    refused = supervisor.refused("create_referral", referral_args())
    assert refused.reply.error_code == "forbidden"


def _triaged(desk: Desk) -> int:
    referral_id = create(desk)
    desk.ok("triage_referral", {"referral_id": referral_id, "version": 1})
    return referral_id


def test_joint_visit_then_arrival_stops_the_clock(
    desk: Desk, people: People, clock: ManualClock
) -> None:
    referral_id = _triaged(desk)
    at = (NOW + timedelta(minutes=30)).isoformat()
    planned = desk.send(
        "plan_visit",
        {
            "referral_id": referral_id,
            "version": 2,
            "planned_at": at,
            "staff_ids": [people.nurse, people.social_worker],
        },
    )
    assert planned.reply.ok, planned.reply.message
    referral = body_of(planned, f"/referral/{referral_id}")
    assert referral["status"] == "assigned"
    assert {s["name"] for s in referral["staff"]} == {"Priya Shah", "Jo Bell"}
    visit_id = planned.reply.result["visit_id"]
    visit = body_of(planned, f"/visit/{visit_id}")
    assert visit["status"] == "planned"
    # planned for later: nobody is shown as on the way yet
    assert not [m for m in planned.published if m.key.startswith("/staff/")]

    clock.advance(timedelta(minutes=20))
    set_off = desk.send("set_off", {"visit_id": visit_id, "version": 1})
    staff_moves = {
        m.key: m.json()["status"] for m in set_off.published if m.key.startswith("/staff/")
    }
    assert staff_moves == {
        f"/staff/{people.nurse}": "travelling",
        f"/staff/{people.social_worker}": "travelling",
    }

    clock.advance(timedelta(minutes=25))
    arrived = desk.send("record_arrival", {"visit_id": visit_id, "version": 2})
    assert arrived.reply.ok, arrived.reply.message
    referral = body_of(arrived, f"/referral/{referral_id}")
    assert referral["status"] == "responded"
    assert referral["responded_at"] == (NOW + timedelta(minutes=45)).isoformat()
    on_visit = {m.json()["status"] for m in arrived.published if m.key.startswith("/staff/")}
    assert on_visit == {"on_visit"}


def test_visit_clashes_are_refused_with_the_reason(desk: Desk, people: People) -> None:
    first = _triaged(desk)
    second = _triaged(desk)
    at = (NOW + timedelta(minutes=30)).isoformat()

    def plan(referral_id: int, staff: list[int], when: str = at, version: int = 2) -> Any:
        return desk.send(
            "plan_visit",
            {
                "referral_id": referral_id,
                "version": version,
                "planned_at": when,
                "staff_ids": staff,
            },
        )

    same_team = plan(first, [people.nurse, people.nurse2])
    assert same_team.reply.error_code == "clash"
    assert "different teams" in same_team.reply.message
    off = plan(first, [people.off_shift])
    assert off.reply.error_code == "clash"
    assert "Kim Lee" in off.reply.message
    assert plan(first, [people.nurse, people.therapist]).reply.ok
    clash = plan(second, [people.nurse], (NOW + timedelta(minutes=60)).isoformat())
    assert clash.reply.error_code == "clash"
    assert "Priya Shah is already booked from 10:30 to 11:30" in clash.reply.message
    assert plan(second, [people.nurse2], (NOW + timedelta(minutes=60)).isoformat()).reply.ok


def test_closing_takes_the_referral_off_the_board(
    desk: Desk, people: People, clock: ManualClock
) -> None:
    referral_id = _triaged(desk)
    planned = desk.ok(
        "plan_visit",
        {
            "referral_id": referral_id,
            "version": 2,
            "planned_at": NOW.isoformat(),
            "staff_ids": [people.therapist],
        },
    )
    clock.advance(timedelta(minutes=50))
    desk.ok("record_arrival", {"visit_id": planned["visit_id"], "version": 1})
    # closing waits until nobody is on a visit
    desk.ok("complete_visit", {"visit_id": planned["visit_id"], "version": 2})
    closed = desk.send(
        "close_referral",
        {
            "referral_id": referral_id,
            "version": 4,
            "outcome": "stayed_at_home",
            "note": "Safe at home",
        },
    )
    assert closed.reply.ok, closed.reply.message
    assert body_of(closed, f"/referral/{referral_id}") is None
    history = desk.ok("get_referral", {"referral_id": referral_id})
    assert history["referral"]["outcome"] == "stayed_at_home"
    actions = [t["action"] for t in history["timeline"]]
    assert actions[0] == "referral_created"
    assert "referral_closed" in actions
    assert any(t["summary"] == "Safe at home" for t in history["timeline"])


def test_notes_keep_markup_literally_and_lose_control_characters(
    desk: Desk, dispatcher: Dispatcher
) -> None:
    referral_id = create(desk)
    desk.ok(
        "add_note", {"referral_id": referral_id, "text": "[b]urgent[/b] \x1b[31mred\x1b[0m [TODO]"}
    )
    with Session(dispatcher.engine) as session:
        [note] = session.exec(select(Note)).all()
    assert note.text == "[b]urgent[/b] red [TODO]"


def test_sequences_are_contiguous_and_staff_status_is_versioned(
    desk: Desk, dispatcher: Dispatcher, people: People
) -> None:
    create(desk)
    create(desk, patient={**referral_args()["patient"], "nhs_number": None, "name": "Bob Day"})
    outcome = desk.send(
        "set_staff_status", {"staff_id": people.nurse, "version": 1, "status": "off"}
    )
    assert outcome.reply.ok
    assert (
        desk.refused(
            "set_staff_status", {"staff_id": people.nurse, "version": 1, "status": "available"}
        ).reply.error_code
        == "stale_version"
    )
    with Session(dispatcher.engine) as session:
        seqs = session.exec(select(AuditEvent.seq).order_by(AuditEvent.seq)).all()
        assert session.get(Staff, people.nurse).status == "off"
    assert seqs == [1, 2, 3]
    assert dispatcher.sequence == 3
    # a new dispatcher (a restarted hub) carries on from the database
    assert Dispatcher(dispatcher.engine).sequence == 3


def test_a_note_republishes_the_body_the_desks_already_hold(
    desk: Desk, dispatcher: Dispatcher
) -> None:
    referral_id = create(desk)
    key = f"/referral/{referral_id}"
    # the hub hands the dispatcher its live map when it serves
    first = desk.send("triage_referral", {"referral_id": referral_id, "version": 1})
    dispatcher.live = {key: first.published[-1]}
    noted = desk.send("add_note", {"referral_id": referral_id, "text": "Daughter on her way"})
    assert noted.reply.ok
    assert noted.published[0].json() == first.published[-1].json()
    history = desk.ok("get_referral", {"referral_id": referral_id})
    assert history["timeline"][-1]["summary"] == "Daughter on her way"
