"""Look-ups and checks every handler shares."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlmodel import Session, SQLModel

from hub.changes import Changes
from hub.public import (
    LIVE_VISIT_STATUSES,
    alert_public,
    referral_public,
    staff_brief,
    staff_public,
    visit_public,
)
from messaging.protocol import alert_key, referral_key, staff_key, visit_key
from models.errors import NotFound, StaleVersion
from models.tables import Alert, Referral, Staff, Visit

Row = TypeVar("Row", bound=SQLModel)

_NAMES = {Referral: "referral", Staff: "staff member", Visit: "visit", Alert: "alert"}


def get_or_raise(session: Session, model: type[Row], row_id: int) -> Row:
    row = session.get(model, row_id)
    if row is None:
        raise NotFound(f"No {_NAMES.get(model, model.__name__.lower())} with id {row_id}")
    return row


def check_version(changes: Changes, row: Any, expected: int) -> None:
    """Refuse a write made against an older version, naming who changed it and when."""
    if row.version == expected:
        return
    what = _NAMES.get(type(row), type(row).__name__.lower())
    who = staff_brief(changes.session, row.updated_by)
    name = who["name"] if who else "someone"
    when = row.updated_at.astimezone(changes.tz).strftime("%H:%M") if row.updated_at else "?"
    raise StaleVersion(
        f"This {what} was changed by {name} at {when} (version {row.version}, "
        f"you had {expected}). Reload to see the change, then try again."
    )


def stamp(changes: Changes, row: Any) -> None:
    row.updated_at = changes.now
    row.updated_by = changes.actor_id
    changes.session.add(row)


def publish_referral(
    changes: Changes, referral: Referral, action: str, summary: str, *, unchanged: bool = False
) -> int:
    """Record a change to the referral's key. With `unchanged` (a note, say) the body the desks
    already hold is reused rather than built again from the rows."""
    assert referral.id is not None
    key = referral_key(referral.id)
    body = changes.live_body(key) if unchanged else None
    if body is None:
        changes.session.flush()
        body = referral_public(changes.session, referral)
    return changes.record(
        key=key, action=action, summary=summary, body=body, referral_id=referral.id
    )


def publish_visit(changes: Changes, visit: Visit, action: str, summary: str) -> int:
    changes.session.flush()
    assert visit.id is not None
    body = visit_public(changes.session, visit) if visit.status in LIVE_VISIT_STATUSES else None
    return changes.record(
        key=visit_key(visit.id),
        action=action,
        summary=summary,
        body=body,
        referral_id=visit.referral_id,
    )


def publish_staff(changes: Changes, person: Staff, action: str, summary: str) -> int:
    changes.session.flush()
    assert person.id is not None
    return changes.record(
        key=staff_key(person.id),
        action=action,
        summary=summary,
        body=staff_public(changes.session, person, changes.now),
    )


def publish_alert(changes: Changes, alert: Alert, action: str, summary: str) -> int:
    changes.session.flush()
    assert alert.id is not None
    return changes.record(
        key=alert_key(alert.id),
        action=action,
        summary=summary,
        body=alert_public(changes.session, alert),
        referral_id=alert.referral_id,
    )
