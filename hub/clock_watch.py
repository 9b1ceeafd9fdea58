"""The clock watcher: raises due-soon, breach and crisis-window alerts from the rows alone.

The database is the truth. Each threshold has an "alerted at" stamp on the referral, set in
the same transaction as the alert it raised, and an alert kind is raised at most once per
referral (a unique constraint backs this), so a sweep can run at start-up, every minute and
at each due moment, as often as it likes: nothing fires twice and nothing due is lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from hub.changes import Changes
from hub.commands.alerts import CLOCK_ALERTS, CRISIS_ALERTS, raise_alert, withdraw_alerts
from models.clock import CRISIS_REVIEW_LEAD, CRISIS_WINDOW, DUE_SOON_WINDOW
from models.enums import AlertKind, ReferralStatus
from models.tables import Alert, Patient, Referral

AWAITING_RESPONSE = (ReferralStatus.RECEIVED, ReferralStatus.TRIAGED, ReferralStatus.ASSIGNED)
IN_CRISIS_CARE = (ReferralStatus.RESPONDED, ReferralStatus.CRISIS_CARE)
REVIEW_AFTER = CRISIS_WINDOW - CRISIS_REVIEW_LEAD


@dataclass(frozen=True)
class Raised:
    referral_id: int
    kind: AlertKind


def _local(when: datetime, tz: ZoneInfo) -> str:
    return when.astimezone(tz).strftime("%H:%M")


def _name(session: Session, referral: Referral) -> str:
    patient = session.get(Patient, referral.patient_id)
    return patient.name if patient else f"referral {referral.id}"


def sweep(changes: Changes) -> list[Raised]:
    """Raise every alert now due and withdraw those whose clock stopped; idempotent."""
    session, now, tz = changes.session, changes.now, changes.tz
    raised: list[Raised] = []

    def fire(referral: Referral, kind: AlertKind, message: str) -> None:
        assert referral.id is not None
        if raise_alert(changes, referral.id, kind, message) is not None:
            raised.append(Raised(referral.id, kind))

    due_soon = session.exec(
        select(Referral)
        .where(
            col(Referral.status).in_(AWAITING_RESPONSE),
            col(Referral.responded_at).is_(None),
            col(Referral.due_at).is_not(None),
            col(Referral.due_at) <= now + DUE_SOON_WINDOW,
            col(Referral.due_soon_alerted_at).is_(None) | col(Referral.breach_alerted_at).is_(None),
        )
        .order_by(col(Referral.due_at), col(Referral.id))
    ).all()
    for referral in due_soon:
        assert referral.due_at is not None
        assert referral.id is not None
        name, due = _name(session, referral), _local(referral.due_at, tz)
        if referral.due_at <= now and referral.breach_alerted_at is None:
            withdraw_alerts(changes, referral.id, [AlertKind.DUE_SOON], "the clock breached")
            fire(referral, AlertKind.BREACH, f"BREACHED: {name} was due to be seen by {due}")
            _stamp(
                session,
                referral,
                breach_alerted_at=now,
                due_soon_alerted_at=referral.due_soon_alerted_at or now,
            )
        elif referral.due_soon_alerted_at is None:
            left = int((referral.due_at - now).total_seconds() // 60)
            fire(
                referral,
                AlertKind.DUE_SOON,
                f"Due soon: {name} must be seen by {due} ({left} min left)",
            )
            _stamp(session, referral, due_soon_alerted_at=now)

    in_care = session.exec(
        select(Referral)
        .where(
            col(Referral.status).in_(IN_CRISIS_CARE),
            col(Referral.responded_at) <= now - REVIEW_AFTER,
            col(Referral.review_alerted_at).is_(None) | col(Referral.window_alerted_at).is_(None),
        )
        .order_by(col(Referral.responded_at), col(Referral.id))
    ).all()
    for referral in in_care:
        assert referral.responded_at is not None
        assert referral.id is not None
        name = _name(session, referral)
        ends = referral.responded_at + CRISIS_WINDOW
        if ends <= now and referral.window_alerted_at is None:
            withdraw_alerts(changes, referral.id, [AlertKind.CRISIS_REVIEW_DUE], "the window ended")
            fire(
                referral,
                AlertKind.CRISIS_WINDOW_ENDED,
                f"72 hours of crisis care ended for {name}: close with an outcome "
                "or record why care continues",
            )
            _stamp(
                session,
                referral,
                window_alerted_at=now,
                review_alerted_at=referral.review_alerted_at or now,
            )
        elif referral.review_alerted_at is None:
            fire(
                referral,
                AlertKind.CRISIS_REVIEW_DUE,
                f"Crisis review due: {name} reaches 72 hours of crisis care at "
                f"{_local(ends, tz)}: close with an outcome or record why care continues",
            )
            _stamp(session, referral, review_alerted_at=now)

    _withdraw_stale(changes)
    return raised


def _stamp(session: Session, referral: Referral, **stamps: datetime) -> None:
    """Set "alerted at" stamps without bumping the referral's version: they are the watcher's
    bookkeeping, not a change a coordinator could conflict with (a bulk UPDATE skips the
    version check on purpose here)."""
    session.execute(update(Referral).where(col(Referral.id) == referral.id).values(**stamps))


def _withdraw_stale(changes: Changes) -> None:
    """Alerts whose referral has been responded to or closed since they were raised."""
    session = changes.session
    rows = session.exec(
        select(Alert, Referral)
        .join(Referral, col(Referral.id) == col(Alert.referral_id))
        .where(col(Alert.withdrawn_at).is_(None))
    ).all()
    for alert, referral in rows:
        closed = referral.status in (ReferralStatus.CLOSED, ReferralStatus.DECLINED)
        clock_stopped = referral.responded_at is not None and alert.kind in CLOCK_ALERTS
        if closed or clock_stopped:
            assert referral.id is not None
            kinds = CLOCK_ALERTS + CRISIS_ALERTS if closed else CLOCK_ALERTS
            withdraw_alerts(changes, referral.id, kinds, "the clock stopped")


def next_due(session: Session, now: datetime) -> datetime | None:
    """The next moment a sweep would raise something, for an on-time wake-up."""
    candidates: list[datetime] = []
    soon = session.exec(
        select(func.min(Referral.due_at)).where(
            col(Referral.status).in_(AWAITING_RESPONSE),
            col(Referral.due_soon_alerted_at).is_(None),
        )
    ).one()
    if soon is not None:
        candidates.append(_aware(soon) - DUE_SOON_WINDOW)
    breach = session.exec(
        select(func.min(Referral.due_at)).where(
            col(Referral.status).in_(AWAITING_RESPONSE),
            col(Referral.breach_alerted_at).is_(None),
        )
    ).one()
    if breach is not None:
        candidates.append(_aware(breach))
    review = session.exec(
        select(func.min(Referral.responded_at)).where(
            col(Referral.status).in_(IN_CRISIS_CARE),
            col(Referral.review_alerted_at).is_(None),
        )
    ).one()
    if review is not None:
        candidates.append(_aware(review) + REVIEW_AFTER)
    window = session.exec(
        select(func.min(Referral.responded_at)).where(
            col(Referral.status).in_(IN_CRISIS_CARE),
            col(Referral.window_alerted_at).is_(None),
        )
    ).one()
    if window is not None:
        candidates.append(_aware(window) + CRISIS_WINDOW)
    future = [c for c in candidates if c > now]
    if len(future) < len(candidates):
        return now
    return min(future, default=None)


def _aware(value: datetime) -> datetime:
    # func.min() bypasses the column type, so SQLite hands back a naive UTC value
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
