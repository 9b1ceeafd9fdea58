"""The arguments of each command, validated strictly before anything is written.

User text is cleaned of control characters on the way in; identity fields are normalised by
the pure rules in `models`. A pydantic error becomes one clear `ValidationError` naming the
field, so the desk can show it beside that field.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
)
from pydantic import ValidationError as PydanticValidationError

from models.enums import Outcome, Priority, ReferralSource, StaffRole, StaffStatus, TeamCode
from models.errors import ValidationError
from models.nhs import normalise_nhs_number
from models.postcode import normalise_postcode
from models.text import clean_text


def _present(value: str) -> str:
    if not value:
        raise ValueError("this cannot be blank")
    return value


def _line(limit: int, *, required: bool = False) -> Any:
    def clean(v: str) -> str:
        v = clean_text(v, max_length=limit)
        return _present(v) if required else v

    return AfterValidator(clean)


def _block(limit: int, *, required: bool = False) -> Any:
    def clean(v: str) -> str:
        v = clean_text(v, multiline=True, max_length=limit)
        return _present(v) if required else v

    return AfterValidator(clean)


Line = Annotated[str, _line(200)]
Block = Annotated[str, _block(4000)]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("a time must carry its time zone")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]


class Args(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PatientIn(Args):
    name: Annotated[str, _line(120)] = Field(min_length=1)
    nhs_number: str | None = None
    date_of_birth: date | None = None
    address: Annotated[str, _line(200)] = ""
    postcode: str = ""
    phone: Annotated[str, _line(40)] = ""
    access_notes: Annotated[str, _block(1000)] = ""

    @field_validator("name")
    @classmethod
    def _name_present(cls, v: str) -> str:
        if not v:
            raise ValueError("the person's name is needed")
        return v

    @field_validator("nhs_number")
    @classmethod
    def _nhs(cls, v: str | None) -> str | None:
        v = (v or "").strip()
        return normalise_nhs_number(v) if v else None

    @field_validator("postcode")
    @classmethod
    def _postcode(cls, v: str) -> str:
        v = v.strip()
        return normalise_postcode(v) if v else ""

    @field_validator("date_of_birth")
    @classmethod
    def _dob(cls, v: date | None) -> date | None:
        if v is not None and (v.year < 1890 or v > date.today()):  # noqa: DTZ011
            raise ValueError("the date of birth is not a plausible date")
        return v


class ReferralCreate(Args):
    patient: PatientIn | None = None
    patient_id: int | None = None
    source: ReferralSource
    referrer_name: Line = ""
    referrer_contact: Line = ""
    reason: Block = ""
    needs: list[TeamCode] = Field(min_length=1)
    priority: Priority = Priority.CRISIS
    received_at: AwareDatetime | None = None  # defaults to now; set by imports and the demo

    @field_validator("needs")
    @classmethod
    def _unique_needs(cls, v: list[TeamCode]) -> list[TeamCode]:
        return list(dict.fromkeys(v))


class Versioned(Args):
    version: int = Field(ge=1)


class TriageArgs(Versioned):
    referral_id: int
    priority: Priority | None = None
    needs: list[TeamCode] | None = None


class DeclineArgs(Versioned):
    referral_id: int
    reason: Annotated[str, _block(1000, required=True)] = Field(min_length=1)


class VisitPlan(Versioned):
    referral_id: int
    planned_at: AwareDatetime
    staff_ids: list[int] = Field(min_length=1, max_length=4)
    duration_minutes: int = Field(default=60, ge=10, le=480)


class VisitArgs(Versioned):
    visit_id: int
    at: AwareDatetime | None = None


class CloseArgs(Versioned):
    referral_id: int
    outcome: Outcome
    note: Block = ""


class CrisisCareArgs(Versioned):
    referral_id: int
    reason: Block = ""


class NoteCreate(Args):
    referral_id: int
    text: Annotated[str, _block(4000, required=True)] = Field(min_length=1)


class StaffStatusUpdate(Versioned):
    staff_id: int
    status: StaffStatus


class StaffCreate(Args):
    name: Annotated[str, _line(120, required=True)] = Field(min_length=1)
    team: TeamCode
    role: StaffRole = StaffRole.CLINICIAN
    patch: Annotated[str, _line(120)] = ""

    @field_validator("patch")
    @classmethod
    def _districts(cls, v: str) -> str:
        districts = v.upper().replace(",", " ").split()
        for district in districts:
            if not re.fullmatch(r"[A-Z]{1,2}[0-9][0-9A-Z]?", district):
                raise ValueError(f"{district!r} is not a postcode district like LE1")
        return " ".join(dict.fromkeys(districts))


class ShiftCreate(Args):
    staff_id: int
    starts_at: AwareDatetime
    ends_at: AwareDatetime

    @field_validator("ends_at")
    @classmethod
    def _after_start(cls, v: datetime, info: Any) -> datetime:
        start = info.data.get("starts_at")
        if start is not None and not start < v <= start + timedelta(hours=16):
            raise ValueError("a shift ends after it starts, and lasts at most 16 hours")
        return v


class StaffList(Args):
    team: TeamCode | None = None


class AlertAck(Versioned):
    alert_id: int


class HandoverQuery(Args):
    build_now: bool = False


class ReferralQuery(Args):
    referral_id: int


class ReferralList(Args):
    open_only: bool = True
    limit: int = Field(default=500, ge=1, le=1000)


class AvailabilityQuery(Args):
    referral_id: int
    planned_at: AwareDatetime
    duration_minutes: int = Field(default=60, ge=10, le=480)


class PatientSearch(Args):
    nhs_number: str | None = None
    name: Line | None = None
    date_of_birth: date | None = None


A = TypeVar("A", bound=BaseModel)


def parse_args(model: type[A], args: dict[str, Any]) -> A:
    """Validate `args`; the first problem becomes a ValidationError naming its field."""
    try:
        return model.model_validate(args)
    except ValidationError:
        raise
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ()) if not isinstance(p, int))
        ctx_error = (first.get("ctx") or {}).get("error")
        if isinstance(ctx_error, ValidationError):
            raise ValidationError(ctx_error.message, field=ctx_error.field or field) from None
        message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        raise ValidationError(f"{field or 'arguments'}: {message}", field=field or None) from None
