"""Joint-visit matching: ranking candidates by team and suggesting the best people."""

from __future__ import annotations

import subprocess
import sys

from hypothesis import given
from hypothesis import strategies as st

from models.enums import StaffStatus, TeamCode
from models.matching import Candidate, parse_patch, rank_candidates, suggest_team

TEAMS = [code.value for code in TeamCode]
DISTRICTS = ["LE1", "LE2", "LE3", "LE4", "LE5"]


def person(
    staff_id: int,
    team: str,
    *,
    name: str | None = None,
    status: str = StaffStatus.AVAILABLE,
    patch: tuple[str, ...] = ("LE1",),
    on_shift: bool = True,
    free: bool = True,
    load: int = 0,
) -> Candidate:
    return Candidate(
        staff_id=staff_id,
        name=name or f"Person {staff_id}",
        team=team,
        status=status,
        patch=patch,
        on_shift=on_shift,
        free=free,
        load_today=load,
    )


def test_parse_patch_reads_districts_as_typed() -> None:
    assert parse_patch("le1, LE2  LE3;le1") == ("LE1", "LE2", "LE3")
    assert parse_patch("") == ()


def test_ranks_by_patch_then_load_then_name_in_needs_order() -> None:
    people = [
        person(1, "CRT", name="Zed", patch=("LE2",), load=0),
        person(2, "CRT", name="Amy", patch=("LE1",), load=3),
        person(3, "CRT", name="Bea", patch=("LE1", "LE5"), load=1),
        person(4, "CRT", name="Cal", patch=("LE1",), load=1),
        person(5, "NUR", name="Nia", patch=(), load=2),
        person(6, "NUR", name="Ola", patch=(), load=0),
        person(7, "THY", name="Tia"),  # a team the referral does not need
    ]
    ranked = rank_candidates(people, needs=["NUR", "CRT"], district="LE1")
    assert list(ranked) == ["NUR", "CRT"]
    assert [c.name for c in ranked["CRT"]] == ["Bea", "Cal", "Amy", "Zed"]
    assert [c.name for c in ranked["NUR"]] == ["Ola", "Nia"]
    assert [c.name for c in suggest_team(people, needs=["NUR", "CRT"], district="LE1")] == [
        "Ola",
        "Bea",
    ]


def test_without_a_district_the_least_loaded_goes_first() -> None:
    people = [person(1, "MH", name="Al", load=2), person(2, "MH", name="Bo", load=1)]
    assert [c.name for c in suggest_team(people, needs=["MH"], district=None)] == ["Bo"]


def test_ineligible_people_are_never_ranked() -> None:
    people = [
        person(1, "CRT", on_shift=False),
        person(2, "CRT", free=False),
        person(3, "CRT", status=StaffStatus.OFF),
        person(4, "CRT", status=StaffStatus.TRAVELLING, load=4),  # free at that time
    ]
    ranked = rank_candidates(people, needs=["CRT", "NUR"], district="LE1")
    assert [c.staff_id for c in ranked["CRT"]] == [4]
    assert ranked["NUR"] == []
    assert suggest_team(people, needs=["CRT", "NUR"], district="LE1") == []
    assert [c.staff_id for c in suggest_team(people, needs=["CRT"], district="LE1")] == [4]


def test_repeated_needs_count_once() -> None:
    people = [person(1, "NUR"), person(2, "NUR")]
    assert len(suggest_team(people, needs=["NUR", "NUR"], district=None)) == 1


candidates = st.lists(
    st.builds(
        Candidate,
        staff_id=st.integers(1, 10_000),
        name=st.text(max_size=8),
        team=st.sampled_from(TEAMS),
        status=st.sampled_from(list(StaffStatus)),
        patch=st.lists(st.sampled_from(DISTRICTS), max_size=3).map(tuple),
        on_shift=st.booleans(),
        free=st.booleans(),
        load_today=st.integers(0, 12),
    ),
    max_size=25,
    unique_by=lambda c: c.staff_id,
)
needs_lists = st.lists(st.sampled_from(TEAMS), min_size=1, max_size=4)
districts = st.none() | st.sampled_from(DISTRICTS)


@given(candidates, needs_lists, districts)
def test_a_suggestion_never_has_two_people_from_one_team(people, needs, district) -> None:
    teams = [c.team for c in suggest_team(people, needs=needs, district=district)]
    assert len(teams) == len(set(teams))


@given(candidates, needs_lists, districts)
def test_a_suggestion_never_includes_someone_off_shift_booked_or_off(
    people, needs, district
) -> None:
    for chosen in suggest_team(people, needs=needs, district=district):
        assert chosen.on_shift
        assert chosen.free
        assert chosen.status != StaffStatus.OFF


@given(candidates, needs_lists, districts)
def test_a_suggestion_covers_every_need_when_possible(people, needs, district) -> None:
    suggestion = suggest_team(people, needs=needs, district=district)
    possible = all(any(c.team == team and c.eligible for c in people) for team in needs)
    if possible:
        assert [c.team for c in suggestion] == list(dict.fromkeys(needs))
    else:
        assert suggestion == []


@given(candidates, needs_lists, districts)
def test_each_suggested_person_is_the_best_of_their_team(people, needs, district) -> None:
    ranked = rank_candidates(people, needs=needs, district=district)
    for chosen in suggest_team(people, needs=needs, district=district):
        rivals = [c for c in people if c.team == chosen.team and c.eligible]
        assert ranked[chosen.team][0] == chosen
        assert chosen.in_patch(district) or not any(c.in_patch(district) for c in rivals)
        same_patch = [c for c in rivals if c.in_patch(district) == chosen.in_patch(district)]
        assert chosen.load_today == min(c.load_today for c in same_patch)


def test_matching_imports_without_the_database_layer_or_textual() -> None:
    code = (
        "import sys, models.matching\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('sqlmodel', 'sqlalchemy', 'textual', 'zmq', 'hub', 'messaging', 'screens'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""
