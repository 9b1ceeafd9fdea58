"""SQLModel tables. Only the hub imports this module: desks never load the database layer.

Every mutable row carries `version` (SQLAlchemy's `version_id_col`, which refuses a write
whose version moved underneath it) plus who changed it last and when, so a stale write can
be refused with a message that names the person.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.enums import (
    AlertKind,
    Outcome,
    Priority,
    ReferralSource,
    ReferralStatus,
    StaffRole,
    StaffStatus,
    VisitStatus,
)
from models.sqltypes import UTCDateTime, version_column


def _utc(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


class Team(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(sa_column=Column(String(8), unique=True, nullable=False))
    name: str


_staff_version = version_column()


class Staff(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    team_id: int = Field(foreign_key="team.id", index=True)
    role: StaffRole = Field(sa_type=String(16))
    status: StaffStatus = Field(default=StaffStatus.AVAILABLE, sa_type=String(16))
    patch: str = ""  # space-separated postcode districts the person usually covers
    version: int = Field(default=1, sa_column=_staff_version)
    updated_at: datetime | None = _utc()
    updated_by: int | None = None
    __mapper_args__ = {"version_id_col": _staff_version}


class Shift(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    starts_at: datetime = _utc(nullable=False, index=True)
    ends_at: datetime = _utc(nullable=False)


_patient_version = version_column()


class Patient(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    nhs_number: str | None = Field(default=None, sa_column=Column(String(10), unique=True))
    name: str = Field(index=True)
    date_of_birth: date | None = None
    address: str = ""
    postcode: str = Field(default="", index=True)
    phone: str = ""
    access_notes: str = ""
    version: int = Field(default=1, sa_column=_patient_version)
    updated_at: datetime | None = _utc()
    updated_by: int | None = None
    __mapper_args__ = {"version_id_col": _patient_version}


_referral_version = version_column()


class Referral(SQLModel, table=True):
    __table_args__ = (Index("ix_referral_open", "status", "due_at"),)
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    source: ReferralSource = Field(sa_type=String(24))
    referrer_name: str = ""
    referrer_contact: str = ""
    reason: str = ""
    needs: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    priority: Priority = Field(default=Priority.CRISIS, sa_type=String(12))
    status: ReferralStatus = Field(default=ReferralStatus.RECEIVED, sa_type=String(16))
    received_at: datetime = _utc(nullable=False, index=True)
    due_at: datetime | None = _utc()
    triaged_at: datetime | None = _utc()
    responded_at: datetime | None = _utc()
    closed_at: datetime | None = _utc()
    outcome: Outcome | None = Field(default=None, sa_type=String(20))
    decline_reason: str = ""
    care_continues_reason: str = ""
    # "alerted at" stamps: the database is the truth for the clock watcher (issue 4)
    due_soon_alerted_at: datetime | None = _utc()
    breach_alerted_at: datetime | None = _utc()
    review_alerted_at: datetime | None = _utc()
    window_alerted_at: datetime | None = _utc()
    created_by: int | None = None
    version: int = Field(default=1, sa_column=_referral_version)
    updated_at: datetime | None = _utc()
    updated_by: int | None = None
    __mapper_args__ = {"version_id_col": _referral_version}


_visit_version = version_column()


class Visit(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id", index=True)
    planned_at: datetime = _utc(nullable=False, index=True)
    duration_minutes: int = 60
    status: VisitStatus = Field(default=VisitStatus.PLANNED, sa_type=String(12))
    set_off_at: datetime | None = _utc()
    arrived_at: datetime | None = _utc()
    completed_at: datetime | None = _utc()
    version: int = Field(default=1, sa_column=_visit_version)
    updated_at: datetime | None = _utc()
    updated_by: int | None = None
    __mapper_args__ = {"version_id_col": _visit_version}


class VisitStaff(SQLModel, table=True):
    """The people on one visit; two or more from different teams make a joint visit."""

    __tablename__ = "visit_staff"

    visit_id: int = Field(foreign_key="visit.id", primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", primary_key=True, index=True)


class Note(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id", index=True)
    author_id: int = Field(foreign_key="staff.id")
    desk: str = ""
    at: datetime = _utc(nullable=False)
    text: str


_alert_version = version_column()


class Alert(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("referral_id", "kind", name="uq_alert_referral_kind"),)
    id: int | None = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id", index=True)
    kind: AlertKind = Field(sa_type=String(24))
    raised_at: datetime = _utc(nullable=False)
    acknowledged_at: datetime | None = _utc()
    acknowledged_by: int | None = None
    withdrawn_at: datetime | None = _utc()
    message: str = ""
    version: int = Field(default=1, sa_column=_alert_version)
    updated_at: datetime | None = _utc()
    updated_by: int | None = None
    __mapper_args__ = {"version_id_col": _alert_version}


class AuditEvent(SQLModel, table=True):
    """One committed change to one key. The audit log is the replication log: `seq` is the
    sequence number the update is published with."""

    __tablename__ = "audit_event"
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    command_id: str = Field(sa_type=String(32), index=True)
    action: str = Field(sa_type=String(40))
    key: str = Field(sa_type=String(255))  # messaging.protocol.MAX_KEY_BYTES
    referral_id: int | None = Field(default=None, index=True)
    actor_id: int | None = None
    desk: str = ""
    at: datetime = _utc(nullable=False)
    summary: str = ""
    body: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class CommandRecord(SQLModel, table=True):
    """The first reply to each command id, so a desk that retries gets it back unchanged."""

    __tablename__ = "command_record"
    id: str = Field(sa_type=String(32), primary_key=True)
    command: str = Field(sa_type=String(64))
    actor_id: int | None = None
    desk: str = ""
    at: datetime = _utc(nullable=False)
    reply: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class Handover(SQLModel, table=True):
    """A shift handover summary, built by the hub at each configured shift change."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _utc(nullable=False, index=True)
    shift: str = Field(sa_type=String(32))  # e.g. "14:00 handover"
    body: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
