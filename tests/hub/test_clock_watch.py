"""The 2-hour clock and the 72-hour crisis window, with a manual clock (no real waiting)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from hub.changes import Changes
from hub.clock import ManualClock
from hub.clock_watch import Raised, next_due, sweep
from hub.dispatch import Dispatcher
from hub.handover import next_shift_change, record_handover
from hub.scheduler import ClockScheduler
from hub.settings import HubSettings
from models.enums import AlertKind
from models.tables import Alert, AuditEvent
from tests.hub.conftest import NOW, Desk, People, add_people
from tests.hub.test_commands import create, referral_args

LONDON = ZoneInfo("Europe/London")


def run_sweep(dispatcher: Dispatcher) -> list[Raised]:
    raised: list[Raised] = []
    dispatcher.record_system_change("clock_sweep", lambda c: raised.extend(sweep(c)))
    return raised


def alerts(engine: Engine) -> list[Alert]:
    with Session(engine) as session:
        return list(session.exec(select(Alert).order_by(Alert.id)))


def test_due_soon_then_breach_at_the_right_moments(
    desk: Desk, dispatcher: Dispatcher, clock: ManualClock
) -> None:
    referral_id = create(desk)  # due at 12:00
    clock.set(NOW + timedelta(minutes=89, seconds=59))
    assert run_sweep(dispatcher) == []
    clock.set(NOW + timedelta(minutes=90))
    assert run_sweep(dispatcher) == [Raised(referral_id, AlertKind.DUE_SOON)]
    clock.set(NOW + timedelta(minutes=119))
    assert run_sweep(dispatcher) == []
    clock.set(NOW + timedelta(minutes=120))
    assert run_sweep(dispatcher) == [Raised(referral_id, AlertKind.BREACH)]
    assert run_sweep(dispatcher) == []
    [due_soon, breach] = alerts(dispatcher.engine)
    assert due_soon.withdrawn_at is not None  # superseded by the breach
    assert breach.message == "BREACHED: Edna Marsh was due to be seen by 12:00"


def test_a_due_soon_alert_does_not_bump_the_referral_version(
    desk: Desk, dispatcher: Dispatcher, clock: ManualClock
) -> None:
    referral_id = create(desk)
    clock.advance(timedelta(minutes=95))
    run_sweep(dispatcher)
    # the coordinator's copy (version 1) is still current: no false "changed by" refusal
    desk.ok("triage_referral", {"referral_id": referral_id, "version": 1})


def _arrive(
    desk: Desk, people: People, clock: ManualClock, referral_id: int, after: timedelta
) -> None:
    desk.ok("triage_referral", {"referral_id": referral_id, "version": 1})
    visit = desk.ok(
        "plan_visit",
        {
            "referral_id": referral_id,
            "version": 2,
            "planned_at": NOW.isoformat(),
            "staff_ids": [people.nurse],
        },
    )
    clock.set(NOW + after)
    desk.ok("record_arrival", {"visit_id": visit["visit_id"], "version": 1})


def test_no_alert_after_arrival_and_a_stopped_clock_withdraws_its_alert(
    desk: Desk, dispatcher: Dispatcher, clock: ManualClock, people: People
) -> None:
    early = create(desk)
    late = create(
        desk, patient={**referral_args()["patient"], "nhs_number": None, "name": "Bo Late"}
    )
    _arrive(desk, people, clock, early, timedelta(minutes=40))
    clock.set(NOW + timedelta(minutes=95))
    assert run_sweep(dispatcher) == [Raised(late, AlertKind.DUE_SOON)]
    desk.ok("triage_referral", {"referral_id": late, "version": 1})
    at = (NOW + timedelta(minutes=100)).isoformat()
    visit = desk.ok(
        "plan_visit",
        {"referral_id": late, "version": 2, "planned_at": at, "staff_ids": [people.therapist]},
    )
    clock.set(NOW + timedelta(minutes=110))
    desk.ok("record_arrival", {"visit_id": visit["visit_id"], "version": 1})
    clock.set(NOW + timedelta(hours=5))
    assert run_sweep(dispatcher) == []
    [only] = alerts(dispatcher.engine)
    assert only.referral_id == late
    assert only.withdrawn_at == NOW + timedelta(minutes=110)


def test_an_alert_due_while_the_hub_was_down_fires_once_after_restart(
    desk: Desk, dispatcher: Dispatcher, clock: ManualClock
) -> None:
    referral_id = create(desk)
    clock.set(NOW + timedelta(hours=3))  # the hub was stopped through both thresholds
    restarted = Dispatcher(dispatcher.engine, clock=clock)
    assert run_sweep(restarted) == [Raised(referral_id, AlertKind.BREACH)]
    again = Dispatcher(dispatcher.engine, clock=clock)
    assert run_sweep(again) == []
    assert [a.kind for a in alerts(dispatcher.engine)] == [AlertKind.BREACH]


def test_two_sweeps_at_once_never_send_one_alert_twice(
    engine: Engine, desk: Desk, clock: ManualClock
) -> None:
    for n in range(5):
        create(desk, patient={**referral_args()["patient"], "nhs_number": None, "name": f"P {n}"})
    clock.set(NOW + timedelta(minutes=100))
    results: list[Any] = []

    def one_hub() -> None:
        try:
            results.append(run_sweep(Dispatcher(engine, clock=clock)))
        except IntegrityError as exc:  # the loser of a race on PostgreSQL: nothing committed
            results.append(exc)

    threads = [threading.Thread(target=one_hub) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    raised = [r for result in results if isinstance(result, list) for r in result]
    assert len(raised) == 5
    assert len(alerts(engine)) == 5
    with Session(engine) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "alert_due_soon")).all()
    assert len(events) == 5


def test_acknowledgement_is_audited_with_who_and_when(
    desk: Desk, dispatcher: Dispatcher, clock: ManualClock, people: People
) -> None:
    create(desk)
    clock.advance(timedelta(minutes=91))
    run_sweep(dispatcher)
    [alert] = alerts(dispatcher.engine)
    clock.advance(timedelta(minutes=2))
    outcome = desk.send("acknowledge_alert", {"alert_id": alert.id, "version": alert.version})
    assert outcome.reply.ok, outcome.reply.message
    body = outcome.published[0].json()
    assert body["acknowledged_by"]["name"] == "Alex Morgan"
    assert body["acknowledged_at"] == (NOW + timedelta(minutes=93)).isoformat()
    with Session(dispatcher.engine) as session:
        event = session.exec(
            select(AuditEvent).where(AuditEvent.action == "alert_acknowledged")
        ).one()
    assert (event.actor_id, event.desk, event.at) == (
        people.coordinator,
        "desk-a",
        NOW + timedelta(minutes=93),
    )
    again = desk.refused("acknowledge_alert", {"alert_id": alert.id, "version": alert.version + 1})
    assert "already acknowledged" in again.reply.message


def test_crisis_window_review_then_end_and_continuing_care(
    desk: Desk, dispatcher: Dispatcher, clock: ManualClock, people: People
) -> None:
    referral_id = create(desk)
    _arrive(desk, people, clock, referral_id, timedelta(minutes=45))  # responded 10:45
    desk.ok("begin_crisis_care", {"referral_id": referral_id, "version": 4})
    clock.set(NOW + timedelta(minutes=45) + timedelta(hours=69, minutes=59))
    assert run_sweep(dispatcher) == []
    clock.set(NOW + timedelta(minutes=45) + timedelta(hours=70))
    assert run_sweep(dispatcher) == [Raised(referral_id, AlertKind.CRISIS_REVIEW_DUE)]
    clock.set(NOW + timedelta(minutes=45) + timedelta(hours=72))
    assert run_sweep(dispatcher) == [Raised(referral_id, AlertKind.CRISIS_WINDOW_ENDED)]
    desk.ok(
        "begin_crisis_care",
        {"referral_id": referral_id, "version": 5, "reason": "Carer still in hospital"},
    )
    assert all(a.withdrawn_at is not None for a in alerts(dispatcher.engine))


def test_handover_lists_what_the_next_shift_must_know(
    desk: Desk, dispatcher: Dispatcher, clock: ManualClock, people: People
) -> None:
    at_risk = create(desk)
    planned = create(
        desk, patient={**referral_args()["patient"], "nhs_number": None, "name": "Vi Plan"}
    )
    desk.ok("triage_referral", {"referral_id": planned, "version": 1})
    desk.ok(
        "plan_visit",
        {"referral_id": planned, "version": 2, "planned_at": (NOW + timedelta(hours=4)).isoformat(),
         "staff_ids": [people.nurse, people.therapist]},
    )  # fmt: skip
    clock.set(NOW + timedelta(minutes=100))
    run_sweep(dispatcher)
    published = dispatcher.record_system_change(
        "handover",
        lambda c: record_handover(c, label="14:00 handover", shift_ends=NOW + timedelta(hours=11)),
    )
    body = published[-1].json()
    assert published[-1].key == "/handover/current"
    assert body["open_referrals"] == 2
    # a visit planned beyond the 2-hour mark does not stop the clock: both are at risk
    assert [r["referral_id"] for r in body["at_risk"]] == [at_risk, planned]
    assert {r["clock"] for r in body["at_risk"]} == {"due_soon"}
    [visit] = body["visits_next_shift"]
    assert visit["name"] == "Vi Plan"
    assert {s["name"] for s in visit["staff"]} == {"Priya Shah", "Ade Cole"}
    assert [a["name"] for a in body["unacknowledged_alerts"]] == ["Edna Marsh", "Vi Plan"]
    assert desk.ok("get_handover", {})["label"] == "14:00 handover"


def test_a_referral_at_0030_on_the_night_the_clocks_go_back(engine: Engine) -> None:
    # 2026-10-25: BST ends at 02:00 BST (01:00 UTC). 00:30 BST is 23:30 UTC the day before.
    received = datetime(2026, 10, 25, 0, 30, tzinfo=LONDON)
    assert received.utcoffset() == timedelta(hours=1)
    clock = ManualClock(received)
    people = add_people(engine, now=received)
    dispatcher = Dispatcher(engine, clock=clock)
    desk = Desk(dispatcher, people.coordinator)
    referral_id = create(desk)
    due = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # two real hours later: 01:30 GMT
    body = desk.ok("get_referral", {"referral_id": referral_id})["referral"]
    assert datetime.fromisoformat(body["due_at"]) == due
    clock.set(due - timedelta(minutes=30, seconds=1))
    assert run_sweep(dispatcher) == []
    clock.set(due - timedelta(minutes=30))
    assert run_sweep(dispatcher) == [Raised(referral_id, AlertKind.DUE_SOON)]
    [alert] = alerts(engine)
    assert "must be seen by 01:30" in alert.message  # 01:30 GMT, not 02:30 by wall-clock sums
    clock.set(due)
    assert run_sweep(dispatcher) == [Raised(referral_id, AlertKind.BREACH)]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # the morning the clocks go forward: 08:00 BST is 07:00 UTC
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), datetime(2026, 3, 29, 7, 0, tzinfo=UTC)),
        # the morning they go back: 08:00 GMT is 08:00 UTC
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 25, 8, 0, tzinfo=UTC)),
        (datetime(2026, 11, 23, 21, 0, tzinfo=UTC), datetime(2026, 11, 24, 8, 0, tzinfo=UTC)),
    ],
)
def test_shift_changes_follow_local_time(now: datetime, expected: datetime) -> None:
    times = [time(8, 0), time(14, 0), time(21, 0)]
    assert next_shift_change(now, times, LONDON) == expected


async def test_scheduler_keeps_missed_jobs_and_sweeps_on_demand(
    desk: Desk, dispatcher: Dispatcher, clock: ManualClock
) -> None:
    published: list[Any] = []

    async def commit(action: str, apply: Any) -> list[Any]:
        messages = dispatcher.record_system_change(action, apply)
        published.extend(messages)
        return messages

    settings = HubSettings(db_url="sqlite://", handover_times="08:00,14:00,21:00")
    scheduler = ClockScheduler(dispatcher, commit, settings)
    scheduler.start(paused=True)
    try:
        jobs = scheduler.scheduler.get_jobs()
        # at 10:00 with no handover yet, the 08:00 one is caught up too
        assert {j.id for j in jobs} == {
            "sweep",
            "handover-0800",
            "handover-1400",
            "handover-2100",
            "handover-catch-up",
        }
        assert all(j.misfire_grace_time is None and j.coalesce for j in jobs)
        referral_id = create(desk)
        clock.advance(timedelta(hours=2))
        assert await scheduler.run_sweep() == [Raised(referral_id, AlertKind.BREACH)]
        assert [m.key for m in published] == ["/alert/1"]
        await scheduler.run_handover("14:00 handover")
        assert published[-1].key == "/handover/current"
    finally:
        scheduler.shutdown()


def test_sweep_changes_nothing_when_nothing_is_due(desk: Desk, dispatcher: Dispatcher) -> None:
    create(desk)
    before = dispatcher.sequence
    assert run_sweep(dispatcher) == []
    assert dispatcher.sequence == before
    _ = Changes  # the sweep runs inside the dispatcher's own Changes


def test_after_a_sweep_nothing_is_left_due_so_the_wake_never_spins(
    desk: Desk, dispatcher: Dispatcher, clock: ManualClock, people: People
) -> None:
    referral_id = create(desk)
    _arrive(desk, people, clock, referral_id, timedelta(minutes=45))
    desk.ok("begin_crisis_care", {"referral_id": referral_id, "version": 4})
    create(desk, patient={**referral_args()["patient"], "nhs_number": None, "name": "Open One"})
    moments = [timedelta(minutes=m) for m in (50, 95, 130)] + [
        timedelta(minutes=45) + timedelta(hours=h) for h in (70, 71, 72, 73)
    ]
    for offset in moments:
        clock.set(NOW + offset)
        run_sweep(dispatcher)
        with Session(dispatcher.engine) as session:
            due = next_due(session, clock())
        assert due is None or due > clock(), f"still due after a sweep at +{offset}"
    # between the review (70 h) and the end of the window (72 h) the next wake is the end
    clock.set(NOW + timedelta(minutes=45) + timedelta(hours=1))
    with Session(dispatcher.engine) as session:
        assert next_due(session, clock()) is None  # everything already alerted


async def test_a_handover_missed_while_the_hub_was_down_is_built_at_start(
    dispatcher: Dispatcher, clock: ManualClock
) -> None:
    async def commit(action: str, apply: Any) -> list[Any]:
        return dispatcher.record_system_change(action, apply)

    settings = HubSettings(db_url="sqlite://", handover_times="08:00,14:00,21:00")
    clock.set(datetime(2026, 11, 23, 14, 5, tzinfo=UTC))  # 14:05 GMT: 14:00 passed while down
    scheduler = ClockScheduler(dispatcher, commit, settings)
    scheduler.start(paused=True)
    try:
        catch_up = scheduler.scheduler.get_job("handover-catch-up")
        assert catch_up is not None
        assert catch_up.kwargs == {"label": "14:00 handover"}
        await scheduler.run_handover(**catch_up.kwargs)
    finally:
        scheduler.shutdown()
    again = ClockScheduler(dispatcher, commit, settings)  # a second restart: nothing missed now
    again.start(paused=True)
    try:
        assert again.scheduler.get_job("handover-catch-up") is None
    finally:
        again.shutdown()
