"""The first person in a new hub: an administrator who can add everyone else.

Run by `hubdesk init` before the hub serves; it goes through the dispatcher like any change,
so the new person has an audit event with the next sequence number."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from hub.changes import Changes
from hub.clock import Clock, system_clock
from hub.commands.common import publish_staff, stamp
from hub.dispatch import Dispatcher
from models.enums import StaffRole, StaffStatus, TeamCode
from models.errors import ValidationError
from models.tables import Staff, Team
from models.text import clean_text


def staff_count(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(Staff)).one()


def create_first_admin(engine: Engine, name: str, *, clock: Clock = system_clock) -> int:
    """Add the hub's first administrator; refused once anyone exists."""
    name = clean_text(name, max_length=120)
    if not name:
        raise ValidationError("Give the administrator's name", field="admin")
    if staff_count(engine):
        raise ValidationError("This hub already has staff: add people with hubdesk staff add")
    created: list[int] = []

    def apply(changes: Changes) -> None:
        team = changes.session.exec(select(Team).where(Team.code == TeamCode.CRISIS_RESPONSE)).one()
        person = Staff(name=name, team_id=team.id, role=StaffRole.ADMIN, status=StaffStatus.OFF)  # type: ignore[arg-type]
        stamp(changes, person)
        publish_staff(changes, person, "staff_added", f"{name} set up the hub as administrator")
        assert person.id is not None
        created.append(person.id)

    Dispatcher(engine, clock=clock).record_system_change("bootstrap", apply, desk="init")
    return created[0]
