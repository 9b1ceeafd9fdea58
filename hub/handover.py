"""Shift handover: what the next shift must know, built by the hub at each shift change."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from hub.changes import Changes
from hub.public import LIVE_VISIT_STATUSES, iso, staff_brief, visit_staff_ids
from messaging.protocol import handover_key
from models.clock import clock_state
from models.enums import ClockState, ReferralStatus
from models.tables import Alert, Handover, Patient, Referral, Visit

AT_RISK = (ClockState.DUE_SOON, ClockState.BREACHED)


def next_shift_change(now: datetime, times: list[time], tz: ZoneInfo) -> datetime:
    """The next configured shift change after `now`, in UTC (correct across DST changes)."""
    local = now.astimezone(tz)
    for days in range(0, 3):
        day = (local + timedelta(days=days)).date()
        for t in sorted(times):
            candidate = datetime.combine(day, t, tzinfo=tz)
            if candidate > local:
                return candidate.astimezone(now.tzinfo)
    raise ValueError("no shift change times configured")


def last_shift_change(now: datetime, times: list[time], tz: ZoneInfo) -> datetime:
    """The most recent configured shift change at or before `now`, in UTC."""
    local = now.astimezone(tz)
    for days in range(0, 3):
        day = (local - timedelta(days=days)).date()
        for t in sorted(times, reverse=True):
            candidate = datetime.combine(day, t, tzinfo=tz)
            if candidate <= local:
                return candidate.astimezone(now.tzinfo)
    raise ValueError("no shift change times configured")


def build_handover(
    session: Session, *, now: datetime, tz: ZoneInfo, shift_ends: datetime, label: str
) -> dict[str, Any]:
    open_rows = session.exec(
        select(Referral, Patient)
        .join(Patient, col(Patient.id) == col(Referral.patient_id))
        .where(col(Referral.status).not_in((ReferralStatus.CLOSED, ReferralStatus.DECLINED)))
        .order_by(col(Referral.received_at))
    ).all()
    by_status: dict[str, int] = {}
    at_risk = []
    for referral, patient in open_rows:
        by_status[referral.status] = by_status.get(referral.status, 0) + 1
        state = clock_state(
            due_at=referral.due_at,
            responded_at=referral.responded_at,
            now=now,
            status=referral.status,
        )
        if state in AT_RISK:
            at_risk.append(
                {
                    "referral_id": referral.id,
                    "name": patient.name,
                    "clock": state,
                    "due_at": iso(referral.due_at),
                }
            )
    visits = session.exec(
        select(Visit, Patient)
        .join(Referral, col(Referral.id) == col(Visit.referral_id))
        .join(Patient, col(Patient.id) == col(Referral.patient_id))
        .where(
            col(Visit.status).in_(LIVE_VISIT_STATUSES),
            Visit.planned_at >= now - timedelta(hours=1),
            Visit.planned_at < shift_ends,
        )
        .order_by(col(Visit.planned_at))
    ).all()
    alerts = session.exec(
        select(Alert, Patient)
        .join(Referral, col(Referral.id) == col(Alert.referral_id))
        .join(Patient, col(Patient.id) == col(Referral.patient_id))
        .where(col(Alert.withdrawn_at).is_(None), col(Alert.acknowledged_at).is_(None))
        .order_by(col(Alert.raised_at), col(Alert.id))
    ).all()
    return {
        "label": label,
        "at": iso(now),
        "shift_ends": iso(shift_ends),
        "timezone": str(tz),
        "open_referrals": len(open_rows),
        "by_status": by_status,
        "at_risk": at_risk,
        "visits_next_shift": [
            {
                "visit_id": v.id,
                "referral_id": v.referral_id,
                "planned_at": iso(v.planned_at),
                "name": p.name,
                "staff": [staff_brief(session, s) for s in visit_staff_ids(session, v.id)],  # type: ignore[arg-type]
                "status": v.status,
            }
            for v, p in visits
        ],
        "unacknowledged_alerts": [
            {
                "alert_id": a.id,
                "referral_id": a.referral_id,
                "kind": a.kind,
                "message": a.message,
                "name": p.name,
            }
            for a, p in alerts
        ],
    }


def record_handover(changes: Changes, *, label: str, shift_ends: datetime) -> Handover:
    """Build, store and publish the handover; desks show the latest one."""
    body = build_handover(
        changes.session, now=changes.now, tz=changes.tz, shift_ends=shift_ends, label=label
    )
    handover = Handover(at=changes.now, shift=label, body=body)
    changes.session.add(handover)
    changes.session.flush()
    changes.record(
        key=handover_key("current"),
        action="handover_built",
        summary=f"{label}: {body['open_referrals']} open, {len(body['at_risk'])} at risk",
        body={**body, "id": handover.id},
    )
    return handover


def latest_handover(session: Session) -> Handover | None:
    return session.exec(select(Handover).order_by(col(Handover.at).desc()).limit(1)).first()
