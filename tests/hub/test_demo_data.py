"""The demo seed: realistic volumes, valid identities, a rota, an audit log and a live board."""

from __future__ import annotations

import hashlib
import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from hub.db import make_engine
from hub.demo_data import DemoSummary, demo_referral_args, seed_demo
from hub.migrate import upgrade
from hub.public import LIVE_VISIT_STATUSES
from hub.schemas import ReferralCreate
from messaging.protocol import split_key
from models.clock import clock_state
from models.enums import (
    ClockState,
    Outcome,
    ReferralSource,
    ReferralStatus,
    StaffRole,
    StaffStatus,
    TeamCode,
)
from models.nhs import is_test_range, is_valid_nhs_number
from models.postcode import is_valid_postcode, postcode_district
from models.tables import (
    AuditEvent,
    Note,
    Patient,
    Referral,
    Shift,
    Staff,
    Team,
    Visit,
    VisitStaff,
)

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
MONTHS = 2
LE_DISTRICTS = {f"LE{n}" for n in range(1, 20)}


def fresh_engine(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path / 'demo.db'}")
    upgrade(engine)
    return engine


def seeded(path: Path, **kwargs: object) -> tuple[Engine, DemoSummary]:
    engine = fresh_engine(path)
    options = {"seed": 7, "now": NOW, "months": MONTHS} | kwargs
    return engine, seed_demo(engine, **options)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, DemoSummary]:
    engine, summary = seeded(tmp_path_factory.mktemp("demo"))
    yield engine, summary  # type: ignore[misc]
    engine.dispose()


@pytest.fixture
def session(demo: tuple[Engine, DemoSummary]) -> Session:
    # one per test: on SQLite every transaction begins IMMEDIATE, so an open one blocks others
    with Session(demo[0]) as s:
        yield s  # type: ignore[misc]


def on_shift_at(session: Session, when: datetime) -> set[int]:
    rows = session.exec(select(Shift).where(Shift.starts_at <= when, Shift.ends_at > when))
    return {shift.staff_id for shift in rows}


def digest(engine: Engine) -> str:
    h = hashlib.sha256()
    with Session(engine) as s:
        for query in (
            select(Staff.id, Staff.name, Staff.status, Staff.patch).order_by(Staff.id),
            select(Shift.staff_id, Shift.starts_at).order_by(Shift.id),
            select(Patient.id, Patient.name, Patient.nhs_number, Patient.postcode),
            select(Referral.id, Referral.received_at, Referral.status, Referral.outcome),
            select(VisitStaff.visit_id, VisitStaff.staff_id),
            select(AuditEvent.seq, AuditEvent.command_id, AuditEvent.action, AuditEvent.at),
        ):
            for row in s.exec(query):
                h.update(repr(tuple(row)).encode())
    return h.hexdigest()


def test_volumes_are_like_leicesters(demo: tuple[Engine, DemoSummary], session: Session) -> None:
    _, summary = demo
    assert summary.teams == 5
    assert 28 <= summary.staff <= 32
    assert 450 <= summary.referrals_closed / MONTHS <= 650
    assert summary.referrals_open == 14
    assert 0.35 <= summary.joint_visit_share <= 0.45
    assert 0.70 <= summary.stayed_home_share <= 0.80
    statuses = Counter(session.exec(select(Referral.status)))
    assert statuses[ReferralStatus.CLOSED] + statuses[ReferralStatus.DECLINED] == (
        summary.referrals_closed
    )
    assert 0.01 <= statuses[ReferralStatus.DECLINED] / summary.referrals_closed <= 0.06
    open_count = sum(n for status, n in statuses.items() if ReferralStatus(status).is_open)
    assert open_count == summary.referrals_open


def test_closed_history_is_realistic(session: Session) -> None:
    closed = session.exec(select(Referral).where(Referral.status == ReferralStatus.CLOSED)).all()
    within = [r for r in closed if r.responded_at <= r.due_at]  # type: ignore[operator]
    assert 0.84 <= len(within) / len(closed) <= 0.92
    minutes = [(r.responded_at - r.received_at) / timedelta(minutes=1) for r in closed]  # type: ignore[operator]
    assert sum(40 <= m <= 110 for m in minutes) / len(minutes) >= 0.6
    for r in closed:
        assert r.received_at < r.triaged_at < r.responded_at < r.closed_at < NOW  # type: ignore[operator]
        assert r.closed_at - r.responded_at <= timedelta(hours=72)  # type: ignore[operator]
        assert r.outcome is not None
        assert 1 <= len(r.needs) <= 2
    outcomes = Counter(r.outcome for r in closed)
    assert set(outcomes) == set(Outcome)
    assert outcomes.most_common(1)[0][0] == Outcome.STAYED_AT_HOME
    sources = Counter(session.exec(select(Referral.source)))
    assert set(sources) == set(ReferralSource)
    assert {s for s, _ in sources.most_common(2)} == {ReferralSource.GP, ReferralSource.AMBULANCE}
    declined = session.exec(select(Referral).where(Referral.status == ReferralStatus.DECLINED))
    assert all(r.decline_reason and r.closed_at for r in declined)


def test_joint_visits_pair_two_teams(session: Session) -> None:
    team_of = {s.id: s.team_id for s in session.exec(select(Staff))}
    code_of = {t.id: t.code for t in session.exec(select(Team))}
    people: dict[int, list[int]] = {}
    for link in session.exec(select(VisitStaff)):
        people.setdefault(link.visit_id, []).append(link.staff_id)
    for visit in session.exec(select(Visit)):
        referral = session.get(Referral, visit.referral_id)
        assert referral is not None
        teams = [code_of[team_of[s]] for s in people[visit.id]]  # type: ignore[index]
        assert len(set(teams)) == len(teams)
        assert set(teams) <= set(referral.needs)


def test_patients_have_test_range_nhs_numbers_and_leicester_postcodes(session: Session) -> None:
    patients = session.exec(select(Patient)).all()
    numbers = [p.nhs_number for p in patients if p.nhs_number is not None]
    assert all(is_test_range(n) and is_valid_nhs_number(n) for n in numbers)
    assert len(set(numbers)) == len(numbers)
    assert 0.05 <= 1 - len(numbers) / len(patients) <= 0.15
    assert all(is_valid_postcode(p.postcode) for p in patients)
    assert {postcode_district(p.postcode) for p in patients} <= LE_DISTRICTS
    ages = [(NOW.date() - p.date_of_birth).days / 365.25 for p in patients]  # type: ignore[operator]
    assert sum(65 <= a <= 95 for a in ages) / len(ages) >= 0.8
    referred = Counter(session.exec(select(Referral.patient_id)))
    assert any(n > 1 for n in referred.values())


def test_staff_roles_patches_and_first_user(session: Session) -> None:
    first = session.get(Staff, 1)
    assert first is not None
    assert (first.name, first.role) == ("Alex Morgan", StaffRole.COORDINATOR)
    staff = session.exec(select(Staff)).all()
    roles = Counter(s.role for s in staff)
    assert roles[StaffRole.COORDINATOR] == 3
    assert roles[StaffRole.LIAISON] == 2
    assert roles[StaffRole.SUPERVISOR] == roles[StaffRole.ADMIN] == 1
    assert roles[StaffRole.CLINICIAN] >= 20
    for person in staff:
        if person.role == StaffRole.CLINICIAN:
            patch = person.patch.split()
            assert 1 <= len(patch) <= 3
            assert set(patch) <= LE_DISTRICTS
    assert {t.code for t in session.exec(select(Team))} == {c.value for c in TeamCode}


def test_every_team_is_on_shift_now_and_statuses_match(session: Session) -> None:
    on = on_shift_at(session, NOW)
    assert 1 in on
    teams = Counter(session.get(Staff, s).team_id for s in on)  # type: ignore[union-attr]
    assert len(teams) == 5
    assert sum(n >= 3 for n in teams.values()) >= 4
    for person in session.exec(select(Staff)):
        if person.id in on:
            assert person.status != StaffStatus.OFF
        else:
            assert person.status == StaffStatus.OFF
    shifts = session.exec(select(Shift)).all()
    assert min(s.starts_at for s in shifts) <= NOW - timedelta(days=7)
    assert max(s.ends_at for s in shifts) >= NOW + timedelta(days=3)
    london = ZoneInfo("Europe/London")
    starts = {s.starts_at.astimezone(london).strftime("%H:%M") for s in shifts}
    assert starts == {"08:00", "14:00", "21:00"}


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 7, 4, 2, 30, tzinfo=ZoneInfo("Europe/London")),  # a summer night
        datetime(2026, 3, 29, 14, 15, tzinfo=ZoneInfo("Europe/London")),  # clocks went forward
    ],
)
def test_rota_covers_any_now(tmp_path: Path, now: datetime) -> None:
    engine, summary = seeded(tmp_path, now=now, months=0)
    with Session(engine) as session:
        on = on_shift_at(session, now)
        teams = {session.get(Staff, s).team_id for s in on}  # type: ignore[union-attr]
        assert 1 in on
        assert len(teams) == 5
        live = [r for r in session.exec(select(Referral)) if ReferralStatus(r.status).is_open]
        states = {clock_state(due_at=r.due_at, responded_at=r.responded_at, now=now) for r in live}
    assert summary.referrals_closed == 0
    assert {ClockState.BREACHED, ClockState.DUE_SOON, ClockState.ON_TRACK, ClockState.MET} <= states
    engine.dispose()


def test_audit_log_is_contiguous_and_well_formed(
    demo: tuple[Engine, DemoSummary], session: Session
) -> None:
    events = session.exec(select(AuditEvent).order_by(col(AuditEvent.seq))).all()
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[-1].seq == demo[1].last_sequence
    assert all(a.at <= b.at for a, b in zip(events, events[1:], strict=False))
    assert events[-1].at <= NOW
    for event in events:
        assert re.fullmatch(r"[0-9a-f]{32}", event.command_id)
        assert event.body is None
        assert event.desk == "demo-desk-1"
        assert event.summary
        assert event.actor_id is not None
        split_key(event.key)
    actions = Counter(e.action for e in events)
    for action in ("referral_created", "referral_triaged", "visit_planned", "visit_arrived",
                   "visit_completed", "crisis_care_began", "referral_closed",
                   "referral_declined", "staff_status_set", "note_added"):  # fmt: skip
        assert actions[action] > 0, action
    referrals = session.exec(select(Referral)).all()
    created = {e.referral_id for e in events if e.action == "referral_created"}
    assert created == {r.id for r in referrals}


def test_live_board_shows_every_clock_state(session: Session) -> None:
    live = [r for r in session.exec(select(Referral)) if ReferralStatus(r.status).is_open]
    states = Counter(
        clock_state(due_at=r.due_at, responded_at=r.responded_at, now=NOW, status=r.status)
        for r in live
    )
    assert states[ClockState.BREACHED] >= 1
    assert states[ClockState.DUE_SOON] >= 1
    assert states[ClockState.ON_TRACK] >= 3
    assert states[ClockState.MET] >= 1
    statuses = {r.status for r in live}
    assert {
        ReferralStatus.RECEIVED,
        ReferralStatus.TRIAGED,
        ReferralStatus.ASSIGNED,
        ReferralStatus.RESPONDED,
        ReferralStatus.CRISIS_CARE,
    } <= statuses
    recent = [r for r in live if r.status != ReferralStatus.CRISIS_CARE]
    assert all(NOW - r.received_at <= timedelta(minutes=150) for r in recent)


def test_live_visits_use_staff_on_shift_without_clashes(session: Session) -> None:
    live = session.exec(select(Visit).where(col(Visit.status).in_(LIVE_VISIT_STATUSES))).all()
    assert live
    booked: dict[int, list[tuple[datetime, datetime]]] = {}
    for visit in live:
        end = visit.planned_at + timedelta(minutes=visit.duration_minutes)
        staff = session.exec(select(VisitStaff.staff_id).where(VisitStaff.visit_id == visit.id))
        for staff_id in staff:
            shifts = session.exec(select(Shift).where(Shift.staff_id == staff_id)).all()
            assert any(s.starts_at <= visit.planned_at and end <= s.ends_at for s in shifts)
            for start, other_end in booked.get(staff_id, []):
                assert end <= start or other_end <= visit.planned_at
            booked.setdefault(staff_id, []).append((visit.planned_at, end))


def test_markup_like_note_is_stored_verbatim(session: Session) -> None:
    notes = session.exec(select(Note)).all()
    assert "Daughter says [b]urgent[/b] — key safe code in notes [TODO]" in {n.text for n in notes}
    for note in notes:
        referral = session.get(Referral, note.referral_id)
        assert referral is not None
        assert ReferralStatus(referral.status).is_open
        assert note.at <= NOW


def test_same_seed_same_data_other_seed_differs(
    tmp_path: Path, demo: tuple[Engine, DemoSummary]
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    same, same_summary = seeded(tmp_path / "a")
    other, _ = seeded(tmp_path / "b", seed=8)
    assert same_summary == demo[1]
    assert digest(same) == digest(demo[0])
    assert digest(other) != digest(demo[0])
    same.dispose()
    other.dispose()


def test_refuses_a_database_with_data_or_a_naive_now(
    tmp_path: Path, demo: tuple[Engine, DemoSummary]
) -> None:
    with pytest.raises(ValueError, match="no staff yet"):
        seed_demo(demo[0], now=NOW, months=0)
    engine = fresh_engine(tmp_path)
    with pytest.raises(ValueError, match="aware"):
        seed_demo(engine, now=datetime(2026, 11, 23, 10, 0), months=0)
    engine.dispose()


def test_new_rows_get_fresh_ids_after_seeding(engine: Engine) -> None:
    """Explicit ids in the seed must not trip later inserts (PostgreSQL sequences)."""
    summary = seed_demo(engine, now=NOW, months=0, open_referrals=3)
    with Session(engine) as session:
        patient = Patient(name="Nora Kelly", postcode="LE2 1AB")
        session.add(patient)
        session.flush()
        referral = Referral(patient_id=patient.id, source=ReferralSource.GP,  # type: ignore[arg-type]
                            received_at=NOW, needs=["CRT"])  # fmt: skip
        session.add(referral)
        session.commit()
        assert referral.id == summary.referrals_open + 1


def test_twelve_months_completes(tmp_path: Path) -> None:
    engine, summary = seeded(tmp_path, months=12)
    assert 12 * 450 <= summary.referrals_closed <= 12 * 650
    assert 0.35 <= summary.joint_visit_share <= 0.45
    with Session(engine) as session:
        assert session.get(AuditEvent, summary.last_sequence) is not None
    engine.dispose()


def test_demo_referral_args_are_valid_create_referral_commands() -> None:
    rng = random.Random(3)
    args = [demo_referral_args(rng, NOW) for _ in range(400)]
    for a in args:
        parsed = ReferralCreate.model_validate(a)
        assert parsed.patient is not None
        assert parsed.patient_id is None
        assert 1 <= len(parsed.needs) <= 2
        assert a["priority"] == "crisis"
        assert a["reason"]
        number = a["patient"]["nhs_number"]
        assert number is None or (is_test_range(number) and is_valid_nhs_number(number))
        assert postcode_district(a["patient"]["postcode"]) in LE_DISTRICTS
    assert 0.3 <= sum(len(a["needs"]) == 2 for a in args) / len(args) <= 0.5
    assert 0.05 <= sum(a["patient"]["nhs_number"] is None for a in args) / len(args) <= 0.15
    assert len({a["source"] for a in args}) == len(ReferralSource)
    again = random.Random(3)
    assert [demo_referral_args(again, NOW) for _ in range(400)] == args


def test_demo_referral_args_sometimes_refer_a_known_patient() -> None:
    rng = random.Random(5)
    args = [demo_referral_args(rng, NOW, patient_ids=[4, 9]) for _ in range(200)]
    known = [a for a in args if "patient_id" in a]
    assert 0.05 <= len(known) / len(args) <= 0.25
    assert all(a["patient_id"] in (4, 9) and "patient" not in a for a in known)
    assert all(ReferralCreate.model_validate(a).patient_id in (4, 9) for a in known)
