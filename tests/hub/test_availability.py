"""`available_staff`: who can go on a referral's visit, and the suggested pair (SQLite, and
PostgreSQL where reachable)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from hub.dispatch import Dispatcher
from models.tables import AuditEvent, Staff
from tests.hub.conftest import NOW, Desk, People
from tests.hub.test_commands import create


def _triaged(desk: Desk, needs: list[str], postcode: str = "le1 5ww", name: str = "Edna") -> int:
    patient = {"name": name, "postcode": postcode}
    referral_id = create(desk, needs=needs, patient=patient)
    desk.ok("triage_referral", {"referral_id": referral_id, "version": 1})
    return referral_id


def _available(desk: Desk, referral_id: int, minutes: float, **extra: Any) -> dict[str, Any]:
    at = (NOW + timedelta(minutes=minutes)).isoformat()
    outcome = desk.send("available_staff", {"referral_id": referral_id, "planned_at": at, **extra})
    assert outcome.reply.ok, outcome.reply.message
    assert outcome.published == []
    return outcome.reply.result


def _by_name(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in result["candidates"]}


def _plan(desk: Desk, referral_id: int, version: int, minutes: float, staff: list[int]) -> Any:
    at = (NOW + timedelta(minutes=minutes)).isoformat()
    args = {"referral_id": referral_id, "version": version, "planned_at": at, "staff_ids": staff}
    return desk.send("plan_visit", args)


def _set_patch(dispatcher: Dispatcher, staff_id: int, patch: str) -> None:
    with Session(dispatcher.engine) as session:
        person = session.get(Staff, staff_id)
        assert person is not None
        person.patch = patch
        session.add(person)
        session.commit()


def test_lists_clinicians_of_the_needed_teams_and_suggests_a_pair(
    desk: Desk, people: People
) -> None:
    referral_id = _triaged(desk, ["CRT", "NUR"])
    result = _available(desk, referral_id, 30)
    assert result["needs"] == ["CRT", "NUR"]
    assert result["district"] == "LE1"
    assert result["planned_at"] == (NOW + timedelta(minutes=30)).isoformat()
    # coordinators and supervisors (also CRT) stay at the hub: only clinicians are offered
    assert [(c["name"], c["team"]) for c in result["candidates"]] == [
        ("Jo Bell", "CRT"),
        ("Priya Shah", "NUR"),
        ("Tom Hughes", "NUR"),
    ]
    jo = _by_name(result)["Jo Bell"]
    assert (jo["on_shift"], jo["free"], jo["eligible"]) == (True, True, True)
    assert (jo["status"], jo["patch"], jo["in_patch"], jo["load_today"]) == (
        "available",
        ["LE1", "LE2"],
        True,
        0,
    )
    assert jo["booked"] is None
    assert result["suggested"] == [people.social_worker, people.nurse]


def test_someone_booked_then_is_not_free_and_the_pair_needs_everyone(
    desk: Desk, people: People
) -> None:
    first = _triaged(desk, ["CRT", "NUR"])
    second = _triaged(desk, ["CRT", "NUR"], name="Bob")
    assert _plan(desk, first, 2, 30, [people.social_worker, people.nurse]).reply.ok
    result = _available(desk, second, 60)
    priya = _by_name(result)["Priya Shah"]
    assert (priya["free"], priya["eligible"], priya["load_today"]) == (False, False, 1)
    assert priya["booked"]["from"] == (NOW + timedelta(minutes=30)).isoformat()
    assert priya["booked"]["to"] == (NOW + timedelta(minutes=90)).isoformat()
    # in each team the eligible come first, then the rest
    assert [c["name"] for c in result["candidates"]] == ["Jo Bell", "Tom Hughes", "Priya Shah"]
    # the only CRT clinician is booked too: no pair can go, so nothing is suggested
    assert result["suggested"] == []
    # after that visit ends both are free again; the least loaded nurse comes first
    later = _available(desk, second, 120)
    assert later["suggested"] == [people.social_worker, people.nurse2]
    assert [c["name"] for c in later["candidates"]] == ["Jo Bell", "Tom Hughes", "Priya Shah"]


def test_the_patch_comes_before_the_load(
    desk: Desk, dispatcher: Dispatcher, people: People
) -> None:
    referral_id = _triaged(desk, ["NUR"], postcode="LE5 1AA")
    assert _available(desk, referral_id, 30)["district"] == "LE5"
    assert _available(desk, referral_id, 30)["suggested"] == [people.nurse]  # by name
    _set_patch(dispatcher, people.nurse2, "LE4 le5")
    result = _available(desk, referral_id, 30)
    assert result["suggested"] == [people.nurse2]
    assert _by_name(result)["Tom Hughes"]["patch"] == ["LE4", "LE5"]
    assert _by_name(result)["Tom Hughes"]["in_patch"] is True


def test_off_shift_and_past_the_shift_end_are_listed_but_not_eligible(
    desk: Desk, people: People
) -> None:
    referral_id = _triaged(desk, ["THY"])
    result = _by_name(_available(desk, referral_id, 30))
    assert result["Kim Lee"]["status"] == "off"
    assert (result["Kim Lee"]["on_shift"], result["Kim Lee"]["eligible"]) == (False, False)
    assert result["Ade Cole"]["eligible"] is True
    # shifts end at NOW + 6 h: a visit from 5 h 30 m for an hour runs past the end
    late = _available(desk, referral_id, 330)
    assert late["suggested"] == []
    assert _by_name(late)["Ade Cole"]["on_shift"] is False
    assert _by_name(_available(desk, referral_id, 330, duration_minutes=30))["Ade Cole"]["on_shift"]


def test_what_is_offered_is_what_plan_visit_accepts(desk: Desk, people: People) -> None:
    booked = _triaged(desk, ["CRT", "NUR", "THY"])
    assert _plan(desk, booked, 2, 0, [people.nurse]).reply.ok
    referral_id = _triaged(desk, ["CRT", "NUR", "THY"], name="Bob")
    version = 2
    for candidate in _available(desk, referral_id, 30)["candidates"]:
        outcome = _plan(desk, referral_id, version, 30, [candidate["id"]])
        assert outcome.reply.ok is candidate["eligible"], (candidate, outcome.reply.message)
        if outcome.reply.ok:
            visit_id = outcome.reply.result["visit_id"]
            desk.ok("cancel_visit", {"visit_id": visit_id, "version": 1})
            version += 2  # planned (+1), then cancelled back to triaged (+1)
        else:
            assert outcome.reply.error_code == "clash"


def test_cancelled_visits_do_not_count_as_load(desk: Desk, people: People) -> None:
    referral_id = _triaged(desk, ["NUR"])
    visit_id = _plan(desk, referral_id, 2, 0, [people.nurse]).reply.result["visit_id"]
    assert _by_name(_available(desk, referral_id, 120))["Priya Shah"]["load_today"] == 1
    desk.ok("cancel_visit", {"visit_id": visit_id, "version": 1})
    after = _by_name(_available(desk, referral_id, 0))["Priya Shah"]
    assert (after["load_today"], after["free"]) == (0, True)


def test_bad_questions_get_clear_refusals_and_write_nothing(
    desk: Desk, dispatcher: Dispatcher, people: People
) -> None:
    referral_id = _triaged(desk, ["NUR"], postcode="")
    assert _available(desk, referral_id, 0)["district"] is None
    with Session(dispatcher.engine) as session:
        events = len(session.exec(select(AuditEvent)).all())
    naive = desk.refused(
        "available_staff", {"referral_id": referral_id, "planned_at": "2026-11-23T10:00"}
    )
    assert naive.reply.field == "planned_at"
    missing = desk.refused("available_staff", {"referral_id": 999, "planned_at": NOW.isoformat()})
    assert missing.reply.error_code == "not_found"
    short = desk.refused(
        "available_staff",
        {"referral_id": referral_id, "planned_at": NOW.isoformat(), "duration_minutes": 1},
    )
    assert short.reply.field == "duration_minutes"
    supervisor = Desk(dispatcher, people.supervisor)
    assert supervisor.ok(
        "available_staff", {"referral_id": referral_id, "planned_at": NOW.isoformat()}
    )
    with Session(dispatcher.engine) as session:
        assert len(session.exec(select(AuditEvent)).all()) == events
