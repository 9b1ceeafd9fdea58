"""Referral commands: intake, triage, decline, crisis care, close, notes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlmodel import col, select

from hub.changes import Changes
from hub.commands.alerts import CLOCK_ALERTS, CRISIS_ALERTS, withdraw_alerts
from hub.commands.common import check_version, get_or_raise, publish_referral, stamp
from hub.commands.visits import end_live_visits
from hub.schemas import (
    CloseArgs,
    CrisisCareArgs,
    DeclineArgs,
    NoteCreate,
    PatientIn,
    ReferralCreate,
    TriageArgs,
)
from messaging.protocol import referral_key
from models.clock import response_due_at
from models.enums import Priority, ReferralStatus
from models.errors import ValidationError
from models.lifecycle import check_transition
from models.tables import Note, Patient, Referral

_NOTES = Note.__table__  # type: ignore[attr-defined]
_INSERT_NOTE = insert(_NOTES).returning(_NOTES.c.id)

# Patient details a later referral may bring up to date, with the words for the audit trail.
_UPDATABLE = (
    ("address", "address"),
    ("postcode", "postcode"),
    ("phone", "phone"),
    ("access_notes", "access notes"),
    ("date_of_birth", "date of birth"),
)


def _update_patient(changes: Changes, patient: Patient, data: PatientIn) -> list[str]:
    """Take the new referral's non-empty details that differ; return what changed."""
    changed = []
    for attr, label in _UPDATABLE:
        value = getattr(data, attr)
        if value in (None, "") or value == getattr(patient, attr):
            continue
        setattr(patient, attr, value)
        changed.append(label)
    if changed:
        stamp(changes, patient)
        changes.session.flush()
    return changed


def _patient_for(changes: Changes, args: ReferralCreate) -> tuple[Patient, list[str]]:
    """The referral's patient, and which of a known patient's details this referral updated."""
    session = changes.session
    if args.patient_id is not None:
        return get_or_raise(session, Patient, args.patient_id), []
    if args.patient is None:
        raise ValidationError(
            "Give the person's details or pick an existing patient", field="patient"
        )
    data: PatientIn = args.patient
    if data.nhs_number:
        existing = session.exec(
            select(Patient).where(Patient.nhs_number == data.nhs_number)
        ).first()
        if existing is not None:
            if existing.name.casefold() != data.name.casefold():
                raise ValidationError(
                    f"NHS number already belongs to {existing.name}; check the number or "
                    "pick that patient",
                    field="nhs_number",
                )
            return existing, _update_patient(changes, existing, data)
    patient = Patient(**data.model_dump(), updated_at=changes.now, updated_by=changes.actor_id)
    session.add(patient)
    session.flush()
    return patient, []


def create_referral(changes: Changes, args: ReferralCreate) -> dict[str, Any]:
    received = args.received_at or changes.now
    if received > changes.now:
        raise ValidationError("A referral cannot be received in the future", field="received_at")
    patient, updated = _patient_for(changes, args)
    referral = Referral(
        patient_id=patient.id,  # type: ignore[arg-type]
        source=args.source,
        referrer_name=args.referrer_name,
        referrer_contact=args.referrer_contact,
        reason=args.reason,
        needs=[str(n) for n in args.needs],
        priority=args.priority,
        status=ReferralStatus.RECEIVED,
        received_at=received,
        due_at=response_due_at(received, args.priority),
        created_by=changes.actor_id,
    )
    stamp(changes, referral)
    changes.session.flush()
    summary = f"Referral received from {args.source.label}"
    if updated:
        summary += f"; details updated: {', '.join(updated)}"
    publish_referral(changes, referral, "referral_created", summary)
    if updated:
        # Every other open referral of this patient embeds the patient's details.
        others = changes.session.exec(
            select(Referral)
            .where(
                Referral.patient_id == patient.id,
                Referral.id != referral.id,
                col(Referral.status).not_in([ReferralStatus.CLOSED, ReferralStatus.DECLINED]),
            )
            .order_by(col(Referral.id))
        ).all()
        for other in others:
            publish_referral(
                changes,
                other,
                "patient_updated",
                f"Patient details updated by referral {referral.id}: {', '.join(updated)}",
            )
    return {"referral_id": referral.id, "patient_id": patient.id}


def triage_referral(changes: Changes, args: TriageArgs) -> dict[str, Any]:
    referral = get_or_raise(changes.session, Referral, args.referral_id)
    check_version(changes, referral, args.version)
    check_transition(referral.status, ReferralStatus.TRIAGED, action="triage")
    referral.status = ReferralStatus.TRIAGED
    referral.triaged_at = changes.now
    if args.needs:
        referral.needs = [str(n) for n in dict.fromkeys(args.needs)]
    if args.priority is not None and args.priority != referral.priority:
        referral.priority = args.priority
        referral.due_at = response_due_at(referral.received_at, args.priority)
    stamp(changes, referral)
    publish_referral(changes, referral, "referral_triaged", f"Triaged as {referral.priority}")
    if referral.priority != Priority.CRISIS:
        withdraw_alerts(changes, referral.id, CLOCK_ALERTS, f"triaged as {referral.priority}")  # type: ignore[arg-type]
    return {"referral_id": referral.id}


def decline_referral(changes: Changes, args: DeclineArgs) -> dict[str, Any]:
    referral = get_or_raise(changes.session, Referral, args.referral_id)
    check_version(changes, referral, args.version)
    check_transition(referral.status, ReferralStatus.DECLINED, action="decline")
    end_live_visits(changes, referral, "decline")
    referral.status = ReferralStatus.DECLINED
    referral.decline_reason = args.reason
    referral.closed_at = changes.now
    stamp(changes, referral)
    publish_referral(changes, referral, "referral_declined", f"Declined: {args.reason}")
    withdraw_alerts(changes, referral.id, CLOCK_ALERTS + CRISIS_ALERTS, "declined")  # type: ignore[arg-type]
    return {"referral_id": referral.id}


def begin_crisis_care(changes: Changes, args: CrisisCareArgs) -> dict[str, Any]:
    """Begin crisis care after the first contact, or (already in crisis care) record why
    care continues, which answers a crisis-window review alert."""
    referral = get_or_raise(changes.session, Referral, args.referral_id)
    check_version(changes, referral, args.version)
    continuing = referral.status == ReferralStatus.CRISIS_CARE
    if continuing and not args.reason:
        raise ValidationError("Say why crisis care continues", field="reason")
    if not continuing:
        check_transition(referral.status, ReferralStatus.CRISIS_CARE, action="begin crisis care")
    referral.status = ReferralStatus.CRISIS_CARE
    if args.reason:
        referral.care_continues_reason = args.reason
    stamp(changes, referral)
    if continuing:
        summary = f"Crisis care continues: {args.reason}"
        publish_referral(changes, referral, "crisis_care_continues", summary)
        withdraw_alerts(changes, referral.id, CRISIS_ALERTS, "care continues")  # type: ignore[arg-type]
    else:
        summary = "Crisis care began" + (f": {args.reason}" if args.reason else "")
        publish_referral(changes, referral, "crisis_care_began", summary)
    return {"referral_id": referral.id}


def close_referral(changes: Changes, args: CloseArgs) -> dict[str, Any]:
    referral = get_or_raise(changes.session, Referral, args.referral_id)
    check_version(changes, referral, args.version)
    check_transition(referral.status, ReferralStatus.CLOSED, action="close")
    end_live_visits(changes, referral, "close")
    referral.status = ReferralStatus.CLOSED
    referral.outcome = args.outcome
    referral.closed_at = changes.now
    stamp(changes, referral)
    if args.note:
        changes.session.add(
            Note(
                referral_id=referral.id,  # type: ignore[arg-type]
                author_id=changes.actor_id,  # type: ignore[arg-type]
                desk=changes.desk,
                at=changes.now,
                text=args.note,
            )
        )
    publish_referral(changes, referral, "referral_closed", f"Closed: {args.outcome.label}")
    withdraw_alerts(changes, referral.id, CLOCK_ALERTS + CRISIS_ALERTS, "closed")  # type: ignore[arg-type]
    return {"referral_id": referral.id}


def add_note(changes: Changes, args: NoteCreate) -> dict[str, Any]:
    """A note on the referral's timeline. It leaves the board's row as it is: for an open
    referral the hub republishes the body the desks hold and only inserts the note (one
    statement; the busiest command a hub runs)."""
    key = referral_key(args.referral_id)
    body = changes.live_body(key)
    referral = (
        None if body is not None else get_or_raise(changes.session, Referral, args.referral_id)
    )
    row = {
        "referral_id": args.referral_id,
        "author_id": changes.actor_id,
        "desk": changes.desk,
        "at": changes.now,
        "text": args.text,
    }
    note_id = changes.session.connection().execute(_INSERT_NOTE, row).scalar_one()
    if referral is not None:  # off the board (closed), or no live map to reuse
        publish_referral(changes, referral, "note_added", args.text, unchanged=True)
    else:
        changes.record(
            key=key, action="note_added", summary=args.text, body=body, referral_id=args.referral_id
        )
    return {"note_id": note_id}
