"""Who can go on a referral's visit at a proposed time: a read-only command for the desk.

Every clinician of the teams the referral needs is listed with whether they are on shift
and free then (the same checks `plan_visit` makes, so what is offered is what the hub will
accept), their visits today and their patch; `models.matching` suggests the best pair.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from hub.changes import Changes
from hub.commands.common import get_or_raise
from hub.commands.visits import booking_during, covering_shift
from hub.public import iso
from hub.schemas import AvailabilityQuery
from models.enums import StaffRole, VisitStatus
from models.errors import ValidationError
from models.matching import Candidate, parse_patch, rank_candidates, suggest_team
from models.postcode import postcode_district
from models.tables import Patient, Referral, Staff, Team, Visit, VisitStaff

VISITING_ROLES = (StaffRole.CLINICIAN,)
"""Who goes on visits: coordinators, supervisors, liaison and admin staff stay at the hub."""


def _district(session: Session, referral: Referral) -> str | None:
    patient = session.get(Patient, referral.patient_id)
    if patient is None or not patient.postcode:
        return None
    try:
        return postcode_district(patient.postcode)
    except ValidationError:
        return None


def _loads(
    session: Session, staff_ids: Sequence[int], start: datetime, end: datetime
) -> dict[int, int]:
    """Visits (not cancelled) planned from start to end, per person."""
    if not staff_ids:
        return {}
    rows = session.exec(
        select(VisitStaff.staff_id, func.count())
        .join(Visit, col(Visit.id) == col(VisitStaff.visit_id))
        .where(
            col(VisitStaff.staff_id).in_(staff_ids),
            Visit.planned_at >= start,
            Visit.planned_at < end,
            Visit.status != VisitStatus.CANCELLED,
        )
        .group_by(col(VisitStaff.staff_id))
    ).all()
    return dict(rows)  # type: ignore[arg-type]


def available_staff(changes: Changes, args: AvailabilityQuery) -> dict[str, Any]:
    session = changes.session
    referral = get_or_raise(session, Referral, args.referral_id)
    needs = list(dict.fromkeys(referral.needs))
    district = _district(session, referral)
    start = args.planned_at
    end = start + timedelta(minutes=args.duration_minutes)
    today = changes.now.astimezone(changes.tz).date()
    day_start = datetime.combine(today, time(0), tzinfo=changes.tz)
    day_end = datetime.combine(today + timedelta(days=1), time(0), tzinfo=changes.tz)
    people = session.exec(
        select(Staff, Team.code)
        .join(Team, col(Team.id) == col(Staff.team_id))
        .where(col(Team.code).in_(needs), col(Staff.role).in_(VISITING_ROLES))
        .order_by(col(Staff.name), col(Staff.id))
    ).all()
    loads = _loads(session, [p.id for p, _ in people if p.id is not None], day_start, day_end)
    found: list[tuple[Candidate, Staff, Visit | None]] = []
    for person, team in people:
        assert person.id is not None
        booking = booking_during(session, person.id, start, end)
        candidate = Candidate(
            staff_id=person.id,
            name=person.name,
            team=team,
            status=person.status,
            patch=parse_patch(person.patch),
            on_shift=covering_shift(session, person.id, start, end) is not None,
            free=booking is None,
            load_today=loads.get(person.id, 0),
        )
        found.append((candidate, person, booking))
    candidates = [c for c, _, _ in found]
    ranked = rank_candidates(candidates, needs=needs, district=district)
    place = {c.staff_id: i for members in ranked.values() for i, c in enumerate(members)}
    # each team in needs order: the eligible best first, then the rest by name
    found.sort(key=lambda f: (needs.index(f[0].team), place.get(f[0].staff_id, len(candidates))))
    return {
        "referral_id": referral.id,
        "version": referral.version,
        "planned_at": iso(start),
        "duration_minutes": args.duration_minutes,
        "needs": needs,
        "district": district,
        "candidates": [_public(c, person, booking, district) for c, person, booking in found],
        "suggested": [c.staff_id for c in suggest_team(candidates, needs=needs, district=district)],
    }


def _public(
    candidate: Candidate, person: Staff, booking: Visit | None, district: str | None
) -> dict[str, Any]:
    booked = None
    if booking is not None:
        booked = {
            "visit_id": booking.id,
            "from": iso(booking.planned_at),
            "to": iso(booking.planned_at + timedelta(minutes=booking.duration_minutes)),
        }
    return {
        "id": candidate.staff_id,
        "name": candidate.name,
        "team": candidate.team,
        "role": person.role,
        "status": candidate.status,
        "patch": list(candidate.patch),
        "in_patch": candidate.in_patch(district),
        "on_shift": candidate.on_shift,
        "free": candidate.free,
        "eligible": candidate.eligible,
        "load_today": candidate.load_today,
        "booked": booked,
        "version": person.version,
    }
