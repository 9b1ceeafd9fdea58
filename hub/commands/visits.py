"""Visit commands: plan a (joint) visit, set off, arrive (stops the clock), complete, cancel.

The people on one visit change status together. The hub refuses a clash: someone already
booked then, someone not on shift, or the same team twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from hub.changes import Changes
from hub.commands.alerts import CLOCK_ALERTS, withdraw_alerts
from hub.commands.common import (
    check_version,
    get_or_raise,
    publish_referral,
    publish_staff,
    publish_visit,
    stamp,
)
from hub.public import LIVE_VISIT_STATUSES, live_visits, visit_staff_ids
from hub.schemas import VisitArgs, VisitPlan
from models.enums import ReferralStatus, StaffStatus, VisitStatus
from models.errors import Clash, InvalidTransition, ValidationError
from models.lifecycle import check_transition, status_after_visit_planned
from models.tables import Referral, Shift, Staff, Team, Visit, VisitStaff

PAST_PLANNING_LIMIT = timedelta(hours=1)


def _hhmm(changes: Changes, when: Any) -> str:
    return when.astimezone(changes.tz).strftime("%H:%M")


def covering_shift(session: Session, staff_id: int, start: datetime, end: datetime) -> Shift | None:
    """The shift that covers the whole of start..end for this person, if any."""
    query = select(Shift).where(
        Shift.staff_id == staff_id, Shift.starts_at <= start, Shift.ends_at >= end
    )
    return session.exec(query).first()


def booking_during(session: Session, staff_id: int, start: datetime, end: datetime) -> Visit | None:
    """A live visit of this person's that overlaps start..end, if any."""
    booked = session.exec(
        select(Visit)
        .join(VisitStaff, col(VisitStaff.visit_id) == col(Visit.id))
        .where(
            VisitStaff.staff_id == staff_id,
            col(Visit.status).in_(LIVE_VISIT_STATUSES),
            Visit.planned_at < end,
        )
        .order_by(col(Visit.planned_at))
    ).all()
    for other in booked:
        if other.planned_at + timedelta(minutes=other.duration_minutes) > start:
            return other
    return None


def _check_clashes(changes: Changes, args: VisitPlan) -> list[Staff]:
    session = changes.session
    start = args.planned_at
    end = start + timedelta(minutes=args.duration_minutes)
    people: list[Staff] = []
    teams: dict[int, str] = {}
    for staff_id in dict.fromkeys(args.staff_ids):
        person = get_or_raise(session, Staff, staff_id)
        team = session.get(Team, person.team_id)
        team_code = team.code if team else "?"
        if person.team_id in teams:
            raise Clash(
                f"{person.name} and {teams[person.team_id]} are both from {team_code}: "
                "a joint visit needs people from different teams"
            )
        teams[person.team_id] = person.name
        if person.status == StaffStatus.OFF:
            raise Clash(f"{person.name} is off and cannot be booked")
        if covering_shift(session, staff_id, start, end) is None:
            span = f"{_hhmm(changes, start)} to {_hhmm(changes, end)}"
            raise Clash(f"{person.name} is not on shift from {span}")
        other = booking_during(session, staff_id, start, end)
        if other is not None:
            other_end = other.planned_at + timedelta(minutes=other.duration_minutes)
            raise Clash(
                f"{person.name} is already booked from {_hhmm(changes, other.planned_at)} "
                f"to {_hhmm(changes, other_end)} (visit {other.id})"
            )
        people.append(person)
    return people


def plan_visit(changes: Changes, args: VisitPlan) -> dict[str, Any]:
    session = changes.session
    referral = get_or_raise(session, Referral, args.referral_id)
    check_version(changes, referral, args.version)
    new_status = status_after_visit_planned(referral.status)
    if args.planned_at < changes.now - PAST_PLANNING_LIMIT:
        raise ValidationError("A visit cannot be planned in the past", field="planned_at")
    people = _check_clashes(changes, args)
    visit = Visit(
        referral_id=referral.id,  # type: ignore[arg-type]
        planned_at=args.planned_at,
        duration_minutes=args.duration_minutes,
        status=VisitStatus.PLANNED,
    )
    stamp(changes, visit)
    session.flush()
    for person in people:
        session.add(VisitStaff(visit_id=visit.id, staff_id=person.id))  # type: ignore[arg-type]
    names = " and ".join(p.name for p in people)
    kind = "Joint visit" if len(people) > 1 else "Visit"
    summary = f"{kind} planned for {_hhmm(changes, args.planned_at)} with {names}"
    publish_visit(changes, visit, "visit_planned", summary)
    if new_status != referral.status:
        referral.status = new_status
    stamp(changes, referral)
    publish_referral(changes, referral, "visit_planned", summary)
    return {"visit_id": visit.id}


def _move_staff(changes: Changes, visit: Visit, status: StaffStatus, action: str) -> list[str]:
    names = []
    assert visit.id is not None
    for staff_id in visit_staff_ids(changes.session, visit.id):
        person = get_or_raise(changes.session, Staff, staff_id)
        names.append(person.name)
        if person.status != status:
            person.status = status
            stamp(changes, person)
            publish_staff(changes, person, action, f"{person.name} is {status.label}")
    return names


def _visit_for(
    changes: Changes, args: VisitArgs, allowed: tuple[VisitStatus, ...], verb: str
) -> Visit:
    visit = get_or_raise(changes.session, Visit, args.visit_id)
    check_version(changes, visit, args.version)
    referral = get_or_raise(changes.session, Referral, visit.referral_id)
    if referral.status in (ReferralStatus.CLOSED, ReferralStatus.DECLINED):
        raise InvalidTransition(f"Cannot {verb}: the referral is {referral.status}")
    if visit.status not in allowed:
        raise InvalidTransition(f"Cannot {verb}: the visit is {visit.status}")
    return visit


def _check_at(
    changes: Changes, at: datetime, earliest: datetime, what: str, since: str
) -> datetime:
    """Refuse a time in the future or before `earliest` (when `since` happened)."""
    if at > changes.now:
        raise ValidationError(f"{what} cannot be in the future", field="at")
    if at < earliest:
        raise ValidationError(
            f"{what} cannot be before {since} at {_hhmm(changes, earliest)}", field="at"
        )
    return at


def _withdraw_visit(changes: Changes, visit: Visit) -> None:
    """Cancel a planned or travelling visit: its own event, and travelling staff freed."""
    was_travelling = visit.status == VisitStatus.TRAVELLING
    visit.status = VisitStatus.CANCELLED
    stamp(changes, visit)
    if was_travelling:
        _move_staff(changes, visit, StaffStatus.AVAILABLE, "visit_cancelled")
    publish_visit(changes, visit, "visit_cancelled", "Visit cancelled")


def end_live_visits(changes: Changes, referral: Referral, verb: str) -> int:
    """Before a referral is closed or declined: refuse while someone is on a visit, and
    cancel its planned and travelling visits as cancel_visit would. Returns how many."""
    assert referral.id is not None
    visits = live_visits(changes.session, referral.id)
    for visit in visits:
        if visit.status == VisitStatus.ARRIVED:
            raise InvalidTransition(f"Cannot {verb}: complete visit {visit.id} first")
    for visit in visits:
        _withdraw_visit(changes, visit)
    return len(visits)


def set_off(changes: Changes, args: VisitArgs) -> dict[str, Any]:
    visit = _visit_for(changes, args, (VisitStatus.PLANNED,), "set off")
    referral = get_or_raise(changes.session, Referral, visit.referral_id)
    at = _check_at(
        changes, args.at or changes.now, referral.received_at, "Setting off", "the referral came in"
    )
    visit.status = VisitStatus.TRAVELLING
    visit.set_off_at = at
    stamp(changes, visit)
    names = _move_staff(changes, visit, StaffStatus.TRAVELLING, "visit_set_off")
    publish_visit(changes, visit, "visit_set_off", f"{' and '.join(names)} set off")
    return {"visit_id": visit.id}


def record_arrival(changes: Changes, args: VisitArgs) -> dict[str, Any]:
    """First face-to-face contact: the 2-hour clock stops at the arrival time."""
    visit = _visit_for(
        changes, args, (VisitStatus.PLANNED, VisitStatus.TRAVELLING), "record arrival"
    )
    referral = get_or_raise(changes.session, Referral, visit.referral_id)
    if visit.set_off_at is not None and visit.set_off_at > referral.received_at:
        earliest, since = visit.set_off_at, "setting off"
    else:
        earliest, since = referral.received_at, "the referral came in"
    at = _check_at(changes, args.at or changes.now, earliest, "Arrival", since)
    if referral.responded_at is None:
        check_transition(referral.status, ReferralStatus.RESPONDED, action="record arrival")
    visit.status = VisitStatus.ARRIVED
    visit.arrived_at = at
    stamp(changes, visit)
    names = _move_staff(changes, visit, StaffStatus.ON_VISIT, "visit_arrived")
    summary = f"{' and '.join(names)} arrived at {_hhmm(changes, at)}"
    publish_visit(changes, visit, "visit_arrived", summary)
    if referral.responded_at is None:
        referral.status = ReferralStatus.RESPONDED
        referral.responded_at = at
        stamp(changes, referral)
        summary += " (first face-to-face contact: clock stopped)"
        withdraw_alerts(changes, referral.id, CLOCK_ALERTS, "the clock stopped")  # type: ignore[arg-type]
    publish_referral(changes, referral, "visit_arrived", summary)
    return {"visit_id": visit.id, "referral_id": referral.id}


def complete_visit(changes: Changes, args: VisitArgs) -> dict[str, Any]:
    visit = _visit_for(changes, args, (VisitStatus.ARRIVED,), "complete the visit")
    assert visit.arrived_at is not None
    at = _check_at(changes, args.at or changes.now, visit.arrived_at, "Completion", "arrival")
    visit.status = VisitStatus.COMPLETED
    visit.completed_at = at
    stamp(changes, visit)
    names = _move_staff(changes, visit, StaffStatus.AVAILABLE, "visit_completed")
    summary = f"Visit completed by {' and '.join(names)}"
    publish_visit(changes, visit, "visit_completed", summary)
    referral = get_or_raise(changes.session, Referral, visit.referral_id)
    publish_referral(changes, referral, "visit_completed", summary)
    return {"visit_id": visit.id}


def cancel_visit(changes: Changes, args: VisitArgs) -> dict[str, Any]:
    visit = _visit_for(
        changes, args, (VisitStatus.PLANNED, VisitStatus.TRAVELLING), "cancel the visit"
    )
    _withdraw_visit(changes, visit)
    referral = get_or_raise(changes.session, Referral, visit.referral_id)
    if referral.status == ReferralStatus.ASSIGNED and not live_visits(changes.session, referral.id):  # type: ignore[arg-type]
        referral.status = ReferralStatus.TRIAGED
        stamp(changes, referral)
    publish_referral(changes, referral, "visit_cancelled", "Visit cancelled")
    return {"visit_id": visit.id}
