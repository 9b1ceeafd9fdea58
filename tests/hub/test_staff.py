"""Setting up a hub's people: the first administrator, staff, shifts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from hub.bootstrap import create_first_admin
from hub.clock import ManualClock
from hub.dispatch import Dispatcher
from models.errors import ValidationError
from tests.hub.conftest import NOW, Desk, People


def test_first_admin_only_on_a_new_hub(engine: Engine) -> None:
    admin = create_first_admin(engine, "Morgan \x1b[31mAdmin", clock=ManualClock(NOW))
    desk = Desk(Dispatcher(engine, clock=ManualClock(NOW)), admin)
    [me] = [p for p in desk.ok("list_staff", {})["staff"] if p["id"] == admin]
    assert (me["name"], me["role"], me["team"]) == ("Morgan Admin", "admin", "CRT")
    with pytest.raises(ValidationError, match="already has staff"):
        create_first_admin(engine, "Second Admin")


def test_admin_adds_staff_and_a_coordinator_puts_them_on_shift(
    engine: Engine, dispatcher: Dispatcher, people: People, clock: ManualClock
) -> None:
    admin = create_first_admin_after(engine, people)
    as_admin = Desk(dispatcher, admin)
    added = as_admin.send(
        "add_staff", {"name": "Nia Roberts", "team": "MH", "role": "clinician", "patch": "le4, LE5"}
    )
    assert added.reply.ok, added.reply.message
    new_id = added.reply.result["staff_id"]
    assert added.published[0].json()["patch"] == "LE4 LE5"
    assert added.published[0].json()["status"] == "off"

    coordinator = Desk(dispatcher, people.coordinator)
    refused = coordinator.refused("add_staff", {"name": "X", "team": "MH"})
    assert refused.reply.error_code == "forbidden"
    assert as_admin.refused("add_staff", {"name": "X", "team": "ZZ"}).reply.field == "team"

    shift = {
        "staff_id": new_id,
        "starts_at": (NOW - timedelta(hours=1)).isoformat(),
        "ends_at": (NOW + timedelta(hours=7)).isoformat(),
    }
    on_shift = coordinator.send("add_shift", shift)
    assert on_shift.reply.ok, on_shift.reply.message
    body = on_shift.published[0].json()
    assert body["status"] == "available"  # the shift has started
    assert body["shift_ends_at"] == (NOW + timedelta(hours=7)).isoformat()
    overlap = coordinator.refused("add_shift", shift)
    assert "overlapping" in overlap.reply.message
    too_long = {**shift, "ends_at": (NOW + timedelta(hours=20)).isoformat()}
    assert coordinator.refused("add_shift", too_long).reply.field == "ends_at"


def create_first_admin_after(engine: Engine, people: People) -> int:
    """The fixture's people exist already, so make an admin the way an admin would: directly."""
    from sqlmodel import Session, select

    from models.enums import StaffRole
    from models.tables import Staff, Team

    with Session(engine) as session:
        team = session.exec(select(Team).where(Team.code == "CRT")).one()
        admin = Staff(name="Ada Admin", team_id=team.id, role=StaffRole.ADMIN)
        session.add(admin)
        session.commit()
        assert admin.id is not None
        return admin.id


def test_someone_rostered_in_advance_can_be_booked_when_the_shift_comes(
    engine: Engine, dispatcher: Dispatcher, people: People, clock: ManualClock
) -> None:
    admin = create_first_admin_after(engine, people)
    new_id = Desk(dispatcher, admin).ok("add_staff", {"name": "Nina Patel", "team": "REA"})[
        "staff_id"
    ]
    coordinator = Desk(dispatcher, people.coordinator)
    monday = NOW + timedelta(days=3)
    coordinator.ok(
        "add_shift",
        {"staff_id": new_id, "starts_at": monday.isoformat(),
         "ends_at": (monday + timedelta(hours=8)).isoformat()},
    )  # fmt: skip
    referral = coordinator.ok(
        "create_referral",
        {"patient": {"name": "Ivy Stone"}, "source": "gp", "needs": ["REA"]},
    )["referral_id"]
    coordinator.ok("triage_referral", {"referral_id": referral, "version": 1})
    clock.set(monday + timedelta(hours=1))
    planned = coordinator.send(
        "plan_visit",
        {"referral_id": referral, "version": 2, "staff_ids": [new_id],
         "planned_at": (monday + timedelta(hours=1, minutes=15)).isoformat()},
    )  # fmt: skip
    assert planned.reply.ok, planned.reply.message


def test_a_desk_with_the_longest_allowed_id_can_come_online(
    engine: Engine, dispatcher: Dispatcher
) -> None:
    desk_id = "ward-" + "x" * 59  # 64 characters, the most a desk id may have
    published = dispatcher.record_system_change(
        "presence",
        lambda c: c.record(
            key=f"/desk/{desk_id}", action="desk_online", summary="online", body={"desk": desk_id}
        ),
        desk=desk_id,
    )
    assert published[0].key == f"/desk/{desk_id}"
