"""Staff commands: add people and their shifts, set someone's status (available,
travelling, on visit, off), list the staff."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from hub.changes import Changes
from hub.commands.common import check_version, get_or_raise, publish_staff, stamp
from hub.public import staff_public
from hub.schemas import ShiftCreate, StaffCreate, StaffList, StaffStatusUpdate
from models.enums import StaffStatus
from models.errors import Clash, NotFound
from models.tables import Shift, Staff, Team


def set_staff_status(changes: Changes, args: StaffStatusUpdate) -> dict[str, Any]:
    person = get_or_raise(changes.session, Staff, args.staff_id)
    check_version(changes, person, args.version)
    person.status = args.status
    stamp(changes, person)
    publish_staff(changes, person, "staff_status_set", f"{person.name} is {args.status.label}")
    return {"staff_id": person.id}


def add_staff(changes: Changes, args: StaffCreate) -> dict[str, Any]:
    session = changes.session
    team = session.exec(select(Team).where(Team.code == args.team)).first()
    if team is None:
        raise NotFound(f"No team {args.team} in this hub: run hubdesk init")
    person = Staff(name=args.name, team_id=team.id, role=args.role, patch=args.patch,  # type: ignore[arg-type]
                   status=StaffStatus.OFF)  # fmt: skip
    stamp(changes, person)
    publish_staff(
        changes, person, "staff_added", f"{person.name} joined {team.name} as {args.role}"
    )
    return {"staff_id": person.id}


def add_shift(changes: Changes, args: ShiftCreate) -> dict[str, Any]:
    session = changes.session
    person = get_or_raise(session, Staff, args.staff_id)
    overlap = session.exec(
        select(Shift).where(
            Shift.staff_id == args.staff_id,
            Shift.starts_at < args.ends_at,
            Shift.ends_at > args.starts_at,
        )
    ).first()
    if overlap is not None:
        raise Clash(f"{person.name} already has a shift overlapping that time (shift {overlap.id})")
    shift = Shift(staff_id=args.staff_id, starts_at=args.starts_at, ends_at=args.ends_at)
    session.add(shift)
    session.flush()
    # Rostered means bookable: the shift itself decides when (plan_visit checks it), so a
    # shift that has not ended yet takes the person off "off".
    if person.status == StaffStatus.OFF and changes.now < args.ends_at:
        person.status = StaffStatus.AVAILABLE
        stamp(changes, person)
    local = args.starts_at.astimezone(changes.tz)
    ends = args.ends_at.astimezone(changes.tz)
    summary = f"{person.name} on shift {local:%a %d %b %H:%M}-{ends:%H:%M}"
    publish_staff(changes, person, "shift_added", summary)
    return {"shift_id": shift.id, "staff_id": person.id}


def list_staff(changes: Changes, args: StaffList) -> dict[str, Any]:
    session = changes.session
    query = select(Staff).order_by(col(Staff.name))
    if args.team is not None:
        query = query.join(Team, col(Team.id) == col(Staff.team_id)).where(Team.code == args.team)
    return {"staff": [staff_public(session, p, changes.now) for p in session.exec(query)]}
