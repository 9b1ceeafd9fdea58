"""The live map at start-up: every open referral, live visit, staff member and alert,
read from the database the hub serves snapshots from."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from hub.public import (
    LIVE_VISIT_STATUSES,
    alert_public,
    referral_public,
    staff_public,
    visit_public,
)
from messaging.kvmsg import KVMsg
from messaging.protocol import alert_key, referral_key, staff_key, visit_key
from models.enums import ReferralStatus
from models.tables import Alert, Referral, Staff, Visit


def live_messages(engine: Engine, sequence: int, now: datetime) -> list[KVMsg]:
    with Session(engine) as session:
        return list(_live(session, sequence, now))


def _live(session: Session, sequence: int, now: datetime) -> Iterator[KVMsg]:
    open_referrals = select(Referral).where(
        col(Referral.status).not_in((ReferralStatus.CLOSED, ReferralStatus.DECLINED))
    )
    for referral in session.exec(open_referrals):
        assert referral.id is not None
        yield KVMsg.from_json(
            referral_key(referral.id), sequence, referral_public(session, referral)
        )
    for visit in session.exec(select(Visit).where(col(Visit.status).in_(LIVE_VISIT_STATUSES))):
        assert visit.id is not None
        yield KVMsg.from_json(visit_key(visit.id), sequence, visit_public(session, visit))
    for person in session.exec(select(Staff)):
        assert person.id is not None
        yield KVMsg.from_json(staff_key(person.id), sequence, staff_public(session, person, now))
    for alert in session.exec(select(Alert).where(col(Alert.withdrawn_at).is_(None))):
        body = alert_public(session, alert)
        if body is not None and alert.id is not None:
            yield KVMsg.from_json(alert_key(alert.id), sequence, body)
