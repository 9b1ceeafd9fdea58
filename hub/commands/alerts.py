"""Alert commands and the alert rows' lifecycle: raise once, acknowledge, withdraw."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlmodel import col, select

from hub.changes import Changes
from hub.commands.common import check_version, get_or_raise, publish_alert, stamp
from hub.schemas import AlertAck
from models.enums import AlertKind
from models.errors import InvalidTransition
from models.tables import Alert

CLOCK_ALERTS = (AlertKind.DUE_SOON, AlertKind.BREACH)
CRISIS_ALERTS = (AlertKind.CRISIS_REVIEW_DUE, AlertKind.CRISIS_WINDOW_ENDED)


def raise_alert(changes: Changes, referral_id: int, kind: AlertKind, message: str) -> Alert | None:
    """Raise an alert unless one of this kind was ever raised for the referral (never twice)."""
    session = changes.session
    existing = session.exec(
        select(Alert).where(Alert.referral_id == referral_id, Alert.kind == kind)
    ).first()
    if existing is not None:
        return None
    alert = Alert(referral_id=referral_id, kind=kind, raised_at=changes.now, message=message)
    stamp(changes, alert)
    session.flush()
    publish_alert(changes, alert, f"alert_{kind}", message)
    return alert


def withdraw_alerts(
    changes: Changes, referral_id: int, kinds: Iterable[AlertKind], reason: str
) -> int:
    """Withdraw the live alerts of these kinds (their clock stopped or was superseded)."""
    live = changes.session.exec(
        select(Alert).where(
            Alert.referral_id == referral_id,
            col(Alert.kind).in_(list(kinds)),
            col(Alert.withdrawn_at).is_(None),
        )
    ).all()
    for alert in live:
        alert.withdrawn_at = changes.now
        stamp(changes, alert)
        publish_alert(changes, alert, "alert_withdrawn", f"Alert withdrawn: {reason}")
    return len(live)


def acknowledge_alert(changes: Changes, args: AlertAck) -> dict[str, Any]:
    alert = get_or_raise(changes.session, Alert, args.alert_id)
    check_version(changes, alert, args.version)
    if alert.withdrawn_at is not None:
        raise InvalidTransition("Cannot acknowledge: the alert was withdrawn")
    if alert.acknowledged_at is not None:
        raise InvalidTransition("This alert is already acknowledged")
    alert.acknowledged_at = changes.now
    alert.acknowledged_by = changes.actor_id
    stamp(changes, alert)
    publish_alert(changes, alert, "alert_acknowledged", f"Alert acknowledged: {alert.message}")
    return {"alert_id": alert.id}
