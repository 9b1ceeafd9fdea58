"""Every command the hub accepts: its arguments, its handler and who may run it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from hub.commands import alerts, availability, queries, referrals, staff, visits
from hub.schemas import (
    AlertAck,
    AvailabilityQuery,
    CloseArgs,
    CrisisCareArgs,
    DeclineArgs,
    HandoverQuery,
    NoteCreate,
    PatientSearch,
    ReferralCreate,
    ReferralList,
    ReferralQuery,
    ShiftCreate,
    StaffCreate,
    StaffList,
    StaffStatusUpdate,
    TriageArgs,
    VisitArgs,
    VisitPlan,
)
from models.enums import StaffRole

EVERYONE = frozenset(StaffRole)
WRITERS = frozenset(
    {StaffRole.COORDINATOR, StaffRole.CLINICIAN, StaffRole.LIAISON, StaffRole.ADMIN}
)
COORDINATORS = frozenset({StaffRole.COORDINATOR, StaffRole.ADMIN})
ADMINS = frozenset({StaffRole.ADMIN})


@dataclass(frozen=True)
class CommandSpec:
    args: type[BaseModel]
    handler: Callable[..., dict[str, Any]]
    roles: frozenset[StaffRole]
    writes: bool = True


COMMANDS: dict[str, CommandSpec] = {
    "create_referral": CommandSpec(ReferralCreate, referrals.create_referral, WRITERS),
    "triage_referral": CommandSpec(TriageArgs, referrals.triage_referral, WRITERS),
    "decline_referral": CommandSpec(DeclineArgs, referrals.decline_referral, COORDINATORS),
    "begin_crisis_care": CommandSpec(CrisisCareArgs, referrals.begin_crisis_care, WRITERS),
    "close_referral": CommandSpec(CloseArgs, referrals.close_referral, WRITERS),
    "add_note": CommandSpec(NoteCreate, referrals.add_note, WRITERS),
    "plan_visit": CommandSpec(VisitPlan, visits.plan_visit, COORDINATORS),
    "set_off": CommandSpec(VisitArgs, visits.set_off, WRITERS),
    "record_arrival": CommandSpec(VisitArgs, visits.record_arrival, WRITERS),
    "complete_visit": CommandSpec(VisitArgs, visits.complete_visit, WRITERS),
    "cancel_visit": CommandSpec(VisitArgs, visits.cancel_visit, COORDINATORS),
    "set_staff_status": CommandSpec(StaffStatusUpdate, staff.set_staff_status, WRITERS),
    "add_staff": CommandSpec(StaffCreate, staff.add_staff, ADMINS),
    "add_shift": CommandSpec(ShiftCreate, staff.add_shift, COORDINATORS),
    "list_staff": CommandSpec(StaffList, staff.list_staff, EVERYONE, writes=False),
    "acknowledge_alert": CommandSpec(
        AlertAck, alerts.acknowledge_alert, COORDINATORS | {StaffRole.SUPERVISOR}
    ),
    "get_handover": CommandSpec(HandoverQuery, queries.get_handover, EVERYONE, writes=False),
    "list_referrals": CommandSpec(ReferralList, queries.list_referrals, EVERYONE, writes=False),
    "get_referral": CommandSpec(ReferralQuery, queries.get_referral, EVERYONE, writes=False),
    "find_patient": CommandSpec(PatientSearch, queries.find_patient, EVERYONE, writes=False),
    "available_staff": CommandSpec(
        AvailabilityQuery, availability.available_staff, EVERYONE, writes=False
    ),
}
