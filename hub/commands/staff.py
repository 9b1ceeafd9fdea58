"""Staff commands: set someone's status (available, travelling, on visit, off)."""

from __future__ import annotations

from typing import Any

from hub.changes import Changes
from hub.commands.common import check_version, get_or_raise, publish_staff, stamp
from hub.schemas import StaffStatusUpdate
from models.tables import Staff


def set_staff_status(changes: Changes, args: StaffStatusUpdate) -> dict[str, Any]:
    person = get_or_raise(changes.session, Staff, args.staff_id)
    check_version(changes, person, args.version)
    person.status = args.status
    stamp(changes, person)
    publish_staff(changes, person, "staff_status_set", f"{person.name} is {args.status.label}")
    return {"staff_id": person.id}
