"""Read-only commands: history and search go through the hub, since desks never open the
database."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, or_, select

from hub.changes import Changes
from hub.commands.common import get_or_raise
from hub.handover import build_handover, latest_handover
from hub.public import iso, patient_public, referral_public, staff_brief, visit_public
from hub.schemas import HandoverQuery, PatientSearch, ReferralList, ReferralQuery
from models.enums import ReferralStatus
from models.errors import ValidationError
from models.nhs import normalise_nhs_number
from models.tables import AuditEvent, Note, Patient, Referral, Visit

CLOSED = (ReferralStatus.CLOSED, ReferralStatus.DECLINED)


def referral_summary(session: Session, referral: Referral) -> dict[str, Any]:
    """The live body for open referrals; a short record for closed ones."""
    body = referral_public(session, referral)
    if body is not None:
        return body
    patient = session.get(Patient, referral.patient_id)
    return {
        "id": referral.id,
        "version": referral.version,
        "status": referral.status,
        "priority": referral.priority,
        "source": referral.source,
        "patient": patient_public(patient) if patient else None,
        "needs": list(referral.needs),
        "received_at": iso(referral.received_at),
        "due_at": iso(referral.due_at),
        "responded_at": iso(referral.responded_at),
        "closed_at": iso(referral.closed_at),
        "outcome": referral.outcome,
        "decline_reason": referral.decline_reason,
    }


def list_referrals(changes: Changes, args: ReferralList) -> dict[str, Any]:
    session = changes.session
    query = select(Referral)
    if args.open_only:
        query = query.where(col(Referral.status).not_in(CLOSED))
    query = query.order_by(col(Referral.received_at).desc()).limit(args.limit)
    return {"referrals": [referral_summary(session, r) for r in session.exec(query)]}


def get_referral(changes: Changes, args: ReferralQuery) -> dict[str, Any]:
    """Everything about one referral: the record, its visits and its timeline in order."""
    session = changes.session
    referral = get_or_raise(session, Referral, args.referral_id)
    visits = session.exec(
        select(Visit).where(Visit.referral_id == referral.id).order_by(col(Visit.planned_at))
    ).all()
    events = session.exec(
        select(AuditEvent)
        .where(AuditEvent.referral_id == referral.id)
        .order_by(col(AuditEvent.seq))
    ).all()
    timeline = [
        {
            "at": iso(e.at),
            "seq": e.seq,
            "kind": "note" if e.action == "note_added" else "event",
            "action": e.action,
            "summary": e.summary,
            "by": staff_brief(session, e.actor_id),
            "desk": e.desk,
        }
        for e in events
    ]
    # Notes written as part of another command (closing with a note) are not audit events.
    noted = {(t["at"], t["summary"]) for t in timeline}
    for note in session.exec(select(Note).where(Note.referral_id == referral.id)):
        if (iso(note.at), note.text) not in noted:
            timeline.append(
                {
                    "at": iso(note.at),
                    "seq": None,
                    "kind": "note",
                    "action": "note_added",
                    "summary": note.text,
                    "by": staff_brief(session, note.author_id),
                    "desk": note.desk,
                }
            )
    timeline.sort(key=lambda t: (t["at"] or "", t["seq"] or 0))
    return {
        "referral": referral_summary(session, referral),
        "visits": [visit_public(session, v) for v in visits],
        "timeline": timeline,
    }


def find_patient(changes: Changes, args: PatientSearch) -> dict[str, Any]:
    """Find an existing patient by NHS number, or by name and date of birth."""
    session = changes.session
    query = select(Patient)
    if args.nhs_number:
        query = query.where(Patient.nhs_number == normalise_nhs_number(args.nhs_number))
    elif args.name:
        pattern = f"%{args.name.strip()}%"
        query = query.where(or_(col(Patient.name).ilike(pattern)))
        if args.date_of_birth:
            query = query.where(Patient.date_of_birth == args.date_of_birth)
    else:
        raise ValidationError("Search by NHS number, or by name (and date of birth)", field="name")
    return {"patients": [patient_public(p) for p in session.exec(query.limit(20))]}


def get_handover(changes: Changes, args: HandoverQuery) -> dict[str, Any]:
    """The latest shift handover, or one built now (not stored) when asked or when none yet."""
    stored = None if args.build_now else latest_handover(changes.session)
    if stored is not None:
        return {**stored.body, "id": stored.id}
    now = changes.now
    body = build_handover(
        changes.session, now=now, tz=changes.tz, shift_ends=now + timedelta(hours=8), label="Now"
    )
    return {**body, "id": None}
