"""The public form of each live row: the JSON body desks replicate under its key.

Closed and declined referrals, finished visits and settled alerts leave the live map (their
key is deleted); their history stays in the database and is reached through commands.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from models.enums import ReferralStatus, VisitStatus
from models.tables import Alert, Patient, Referral, Shift, Staff, Team, Visit, VisitStaff

LIVE_VISIT_STATUSES = (VisitStatus.PLANNED, VisitStatus.TRAVELLING, VisitStatus.ARRIVED)


def iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def staff_brief(session: Session, staff_id: int | None) -> dict[str, Any] | None:
    if staff_id is None:
        return None
    person = session.get(Staff, staff_id)
    if person is None:
        return {"id": staff_id, "name": f"staff #{staff_id}", "team": ""}
    team = session.get(Team, person.team_id)
    return {"id": person.id, "name": person.name, "team": team.code if team else ""}


def patient_public(patient: Patient) -> dict[str, Any]:
    return {
        "id": patient.id,
        "name": patient.name,
        "nhs_number": patient.nhs_number,
        "date_of_birth": iso(patient.date_of_birth),
        "address": patient.address,
        "postcode": patient.postcode,
        "phone": patient.phone,
        "access_notes": patient.access_notes,
        "version": patient.version,
    }


def visit_staff_ids(session: Session, visit_id: int) -> list[int]:
    rows = session.exec(select(VisitStaff.staff_id).where(VisitStaff.visit_id == visit_id))
    return sorted(rows)


def visit_public(session: Session, visit: Visit) -> dict[str, Any]:
    assert visit.id is not None
    return {
        "id": visit.id,
        "referral_id": visit.referral_id,
        "planned_at": iso(visit.planned_at),
        "duration_minutes": visit.duration_minutes,
        "status": visit.status,
        "set_off_at": iso(visit.set_off_at),
        "arrived_at": iso(visit.arrived_at),
        "staff": [staff_brief(session, s) for s in visit_staff_ids(session, visit.id)],
        "version": visit.version,
        "updated_at": iso(visit.updated_at),
        "updated_by": staff_brief(session, visit.updated_by),
    }


def live_visits(session: Session, referral_id: int) -> list[Visit]:
    query = (
        select(Visit)
        .where(Visit.referral_id == referral_id, col(Visit.status).in_(LIVE_VISIT_STATUSES))
        .order_by(col(Visit.planned_at))
    )
    return list(session.exec(query))


def referral_public(session: Session, referral: Referral) -> dict[str, Any] | None:
    """The live body, or None once the referral has left the board (closed or declined)."""
    if referral.status in (ReferralStatus.CLOSED, ReferralStatus.DECLINED):
        return None
    patient = session.get(Patient, referral.patient_id)
    assert patient is not None
    assert referral.id is not None
    visits = live_visits(session, referral.id)
    staff_ids: list[int] = []
    for visit in visits:
        assert visit.id is not None
        staff_ids.extend(s for s in visit_staff_ids(session, visit.id) if s not in staff_ids)
    return {
        "id": referral.id,
        "version": referral.version,
        "status": referral.status,
        "priority": referral.priority,
        "source": referral.source,
        "patient": patient_public(patient),
        "referrer_name": referral.referrer_name,
        "referrer_contact": referral.referrer_contact,
        "reason": referral.reason,
        "needs": list(referral.needs),
        "received_at": iso(referral.received_at),
        "due_at": iso(referral.due_at),
        "triaged_at": iso(referral.triaged_at),
        "responded_at": iso(referral.responded_at),
        "staff": [staff_brief(session, s) for s in staff_ids],
        "visits": [v.id for v in visits],
        "next_visit_at": iso(visits[0].planned_at) if visits else None,
        "updated_at": iso(referral.updated_at),
        "updated_by": staff_brief(session, referral.updated_by),
    }


def current_shift(session: Session, staff_id: int, now: datetime) -> Shift | None:
    query = (
        select(Shift)
        .where(Shift.staff_id == staff_id, Shift.ends_at > now)
        .order_by(col(Shift.starts_at))
        .limit(1)
    )
    return session.exec(query).first()


def staff_public(session: Session, person: Staff, now: datetime) -> dict[str, Any]:
    team = session.get(Team, person.team_id)
    assert person.id is not None
    shift = current_shift(session, person.id, now)
    return {
        "id": person.id,
        "name": person.name,
        "team": team.code if team else "",
        "role": person.role,
        "status": person.status,
        "patch": person.patch,
        "shift_starts_at": iso(shift.starts_at) if shift else None,
        "shift_ends_at": iso(shift.ends_at) if shift else None,
        "version": person.version,
        "updated_at": iso(person.updated_at),
    }


def alert_public(session: Session, alert: Alert) -> dict[str, Any] | None:
    if alert.withdrawn_at is not None:
        return None
    referral = session.get(Referral, alert.referral_id)
    patient = session.get(Patient, referral.patient_id) if referral else None
    return {
        "id": alert.id,
        "referral_id": alert.referral_id,
        "kind": alert.kind,
        "raised_at": iso(alert.raised_at),
        "message": alert.message,
        "patient_name": patient.name if patient else "",
        "acknowledged_at": iso(alert.acknowledged_at),
        "acknowledged_by": staff_brief(session, alert.acknowledged_by),
        "version": alert.version,
    }
