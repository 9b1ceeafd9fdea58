"""Review fixes: closing ends live visits, visit times are bounded, a known patient's new
details are kept, blank-after-cleaning text is refused, and a downgraded triage withdraws
its clock alerts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from hub.clock import ManualClock
from hub.clock_watch import sweep
from hub.dispatch import Dispatcher
from models.enums import AlertKind
from models.tables import Alert, AuditEvent, Patient, Referral, Staff, Visit
from tests.hub.conftest import NOW, Desk, People
from tests.hub.test_commands import body_of, counts, create, referral_args


def referral_version(dispatcher: Dispatcher, referral_id: int) -> int:
    with Session(dispatcher.engine) as session:
        row = session.get(Referral, referral_id)
        assert row is not None
        return row.version


def visit_row(dispatcher: Dispatcher, visit_id: int) -> Visit:
    with Session(dispatcher.engine) as session:
        row = session.get(Visit, visit_id)
        assert row is not None
        return row


def staff_status(dispatcher: Dispatcher, staff_id: int) -> str:
    with Session(dispatcher.engine) as session:
        row = session.get(Staff, staff_id)
        assert row is not None
        return str(row.status)


def triaged(desk: Desk, **overrides: Any) -> int:
    referral_id = create(desk, **overrides)
    desk.ok("triage_referral", {"referral_id": referral_id, "version": 1})
    return referral_id


def plan(desk: Desk, dispatcher: Dispatcher, referral_id: int, staff: list[int], at: Any) -> int:
    return desk.ok(
        "plan_visit",
        {
            "referral_id": referral_id,
            "version": referral_version(dispatcher, referral_id),
            "planned_at": at.isoformat(),
            "staff_ids": staff,
        },
    )["visit_id"]


def visit_cmd(desk: Desk, dispatcher: Dispatcher, command: str, visit_id: int, **extra: Any):  # type: ignore[no-untyped-def]
    args = {"visit_id": visit_id, "version": visit_row(dispatcher, visit_id).version, **extra}
    return desk.send(command, args)


def close_args(dispatcher: Dispatcher, referral_id: int) -> dict[str, Any]:
    return {
        "referral_id": referral_id,
        "version": referral_version(dispatcher, referral_id),
        "outcome": "stayed_at_home",
    }


def responded(desk: Desk, dispatcher: Dispatcher, clock: ManualClock, people: People) -> int:
    """A referral whose first visit (the therapist's) has arrived and been completed."""
    referral_id = triaged(desk)
    first = plan(desk, dispatcher, referral_id, [people.therapist], NOW)
    clock.advance(timedelta(minutes=10))
    assert visit_cmd(desk, dispatcher, "record_arrival", first).reply.ok
    clock.advance(timedelta(minutes=10))
    assert visit_cmd(desk, dispatcher, "complete_visit", first).reply.ok
    return referral_id


# 1. Closing a referral ends its live visits -------------------------------------------


def test_closing_cancels_a_travelling_visit_and_frees_the_staff(
    desk: Desk, dispatcher: Dispatcher, people: People, clock: ManualClock
) -> None:
    referral_id = responded(desk, dispatcher, clock, people)
    follow_up_at = NOW + timedelta(minutes=40)
    follow_up = plan(desk, dispatcher, referral_id, [people.nurse], follow_up_at)
    assert visit_cmd(desk, dispatcher, "set_off", follow_up).reply.ok
    assert staff_status(dispatcher, people.nurse) == "travelling"

    closed = desk.send("close_referral", close_args(dispatcher, referral_id))
    assert closed.reply.ok, closed.reply.message
    assert body_of(closed, f"/visit/{follow_up}") is None
    assert body_of(closed, f"/staff/{people.nurse}")["status"] == "available"
    assert body_of(closed, f"/referral/{referral_id}") is None
    assert visit_row(dispatcher, follow_up).status == "cancelled"
    assert staff_status(dispatcher, people.nurse) == "available"
    with Session(dispatcher.engine) as session:
        actions = session.exec(
            select(AuditEvent.action).where(AuditEvent.seq > closed.reply.sequence - 10)
        ).all()
    assert "visit_cancelled" in actions

    # the nurse is free again at that time for someone else
    other = triaged(desk, patient={**referral_args()["patient"], "nhs_number": None})
    plan(desk, dispatcher, other, [people.nurse], follow_up_at)

    # and the closed referral's visit takes no more actions
    refused = visit_cmd(desk, dispatcher, "record_arrival", follow_up)
    assert not refused.reply.ok
    assert refused.published == []
    assert refused.reply.error_code == "invalid_transition"
    assert "the referral is closed" in refused.reply.message


def test_closing_is_refused_while_someone_is_on_a_visit(
    desk: Desk, dispatcher: Dispatcher, people: People, clock: ManualClock
) -> None:
    referral_id = triaged(desk)
    visit_id = plan(desk, dispatcher, referral_id, [people.therapist], NOW)
    clock.advance(timedelta(minutes=10))
    assert visit_cmd(desk, dispatcher, "record_arrival", visit_id).reply.ok
    before = counts(dispatcher)
    refused = desk.refused("close_referral", close_args(dispatcher, referral_id))
    assert refused.reply.error_code == "invalid_transition"
    assert f"Complete visit {visit_id} first".lower() in refused.reply.message.lower()
    assert counts(dispatcher) == before
    assert visit_row(dispatcher, visit_id).status == "arrived"


def test_a_planned_visit_is_cancelled_on_close_and_its_staff_stay_put(
    desk: Desk, dispatcher: Dispatcher, people: People, clock: ManualClock
) -> None:
    referral_id = responded(desk, dispatcher, clock, people)
    later = plan(desk, dispatcher, referral_id, [people.nurse], NOW + timedelta(hours=2))
    closed = desk.send("close_referral", close_args(dispatcher, referral_id))
    assert closed.reply.ok, closed.reply.message
    assert visit_row(dispatcher, later).status == "cancelled"
    assert not [m for m in closed.published if m.key.startswith("/staff/")]


# 2. Visit times are bounded --------------------------------------------------------------


def test_visit_times_must_fall_between_the_referral_and_now(
    desk: Desk, dispatcher: Dispatcher, people: People, clock: ManualClock
) -> None:
    received = NOW - timedelta(hours=1)  # 09:00
    referral_id = triaged(desk, received_at=received.isoformat())
    visit_id = plan(desk, dispatcher, referral_id, [people.nurse], NOW)

    def refused(command: str, at: Any) -> str:
        outcome = visit_cmd(desk, dispatcher, command, visit_id, at=at.isoformat())
        assert not outcome.reply.ok, f"{command} at {at} was accepted"
        assert outcome.published == []
        assert outcome.reply.field == "at"
        return outcome.reply.message

    # an arrival at 07:00 would turn a breach into "met"
    assert "before the referral came in at 09:00" in refused(
        "record_arrival", NOW - timedelta(hours=3)
    )
    assert "future" in refused("record_arrival", NOW + timedelta(minutes=5))
    assert "before the referral came in" in refused("set_off", received - timedelta(minutes=1))
    assert "future" in refused("set_off", NOW + timedelta(minutes=1))

    set_off_at = NOW - timedelta(minutes=30)
    assert visit_cmd(desk, dispatcher, "set_off", visit_id, at=set_off_at.isoformat()).reply.ok
    assert "before setting off at 09:30" in refused(
        "record_arrival", set_off_at - timedelta(minutes=1)
    )
    arrived_at = NOW - timedelta(minutes=10)
    assert visit_cmd(
        desk, dispatcher, "record_arrival", visit_id, at=arrived_at.isoformat()
    ).reply.ok
    assert "before arrival at 09:50" in refused("complete_visit", arrived_at - timedelta(minutes=1))
    assert "future" in refused("complete_visit", NOW + timedelta(minutes=1))
    assert visit_cmd(desk, dispatcher, "complete_visit", visit_id, at=NOW.isoformat()).reply.ok
    with Session(dispatcher.engine) as session:
        referral = session.get(Referral, referral_id)
        assert referral is not None
        assert referral.responded_at == arrived_at


# 3. A known patient's new details are kept ----------------------------------------------


def test_a_second_referral_updates_the_known_patient_everywhere(
    desk: Desk, dispatcher: Dispatcher
) -> None:
    first = create(desk)
    patient = {
        **referral_args()["patient"],
        "address": "12 Mill Lane, Leicester",
        "access_notes": "Key safe 9876, side door",
        "phone": "",  # blank: keeps the number we have
    }
    outcome = desk.send("create_referral", referral_args(patient=patient))
    assert outcome.reply.ok, outcome.reply.message
    second = outcome.reply.result["referral_id"]
    for referral_id in (first, second):
        body = body_of(outcome, f"/referral/{referral_id}")
        assert body is not None
        assert body["patient"]["address"] == "12 Mill Lane, Leicester"
        assert body["patient"]["access_notes"] == "Key safe 9876, side door"
        assert body["patient"]["phone"] == "0116 496 0000"
    with Session(dispatcher.engine) as session:
        [row] = session.exec(select(Patient)).all()
        assert row.address == "12 Mill Lane, Leicester"
        assert row.access_notes == "Key safe 9876, side door"
        assert row.version == 2
        created = session.exec(
            select(AuditEvent).where(
                AuditEvent.referral_id == second, AuditEvent.action == "referral_created"
            )
        ).one()
    assert "details updated: address, access notes" in created.summary

    # the same details again change nothing more
    again = desk.send("create_referral", referral_args(patient=patient))
    assert again.reply.ok
    assert [m.key for m in again.published] == [f"/referral/{again.reply.result['referral_id']}"]


# 4. Text that is blank once cleaned is refused --------------------------------------------


def test_text_blank_after_cleaning_is_refused(
    desk: Desk, dispatcher: Dispatcher, people: People
) -> None:
    referral_id = create(desk)
    before = counts(dispatcher)
    note = desk.refused("add_note", {"referral_id": referral_id, "text": "   \x1b[2J  "})
    assert note.reply.field == "text"
    decline = desk.refused(
        "decline_referral", {"referral_id": referral_id, "version": 1, "reason": "  \t "}
    )
    assert decline.reply.field == "reason"
    blank_name = referral_args(patient={**referral_args()["patient"], "name": " \x1b[0m "})
    assert desk.refused("create_referral", blank_name).reply.field == "patient.name"
    assert counts(dispatcher) == before
    with Session(dispatcher.engine) as session:
        referral = session.get(Referral, referral_id)
        assert referral is not None
        assert referral.status == "received"


# 5. Large replies -----------------------------------------------------------------------


def test_list_limit_is_capped(desk: Desk) -> None:
    create(desk)
    assert desk.refused("list_referrals", {"limit": 1001}).reply.field == "limit"
    assert len(desk.ok("list_referrals", {"limit": 1000})["referrals"]) == 1


# 6. A downgraded triage withdraws its clock alerts -----------------------------------------


def test_triage_down_to_urgent_withdraws_the_clock_alerts(
    desk: Desk, dispatcher: Dispatcher, clock: ManualClock
) -> None:
    referral_id = create(desk)  # crisis, due at 12:00
    clock.set(NOW + timedelta(minutes=95))
    dispatcher.record_system_change("clock_sweep", sweep)
    with Session(dispatcher.engine) as session:
        [alert] = session.exec(select(Alert)).all()
        assert alert.kind == AlertKind.DUE_SOON
        assert alert.withdrawn_at is None
    triage = desk.send(
        "triage_referral", {"referral_id": referral_id, "version": 1, "priority": "urgent"}
    )
    assert triage.reply.ok, triage.reply.message
    assert body_of(triage, f"/alert/{alert.id}") is None
    assert body_of(triage, f"/referral/{referral_id}")["due_at"] is None
    with Session(dispatcher.engine) as session:
        [alert] = session.exec(select(Alert)).all()
        assert alert.withdrawn_at is not None
    # and the clock raises nothing more for it
    clock.set(NOW + timedelta(hours=3))
    dispatcher.record_system_change("clock_sweep", sweep)
    with Session(dispatcher.engine) as session:
        assert len(session.exec(select(Alert)).all()) == 1
