"""Enumerations shared by the hub, the wire and the desks (plain `StrEnum`s, no SQLModel)."""

from __future__ import annotations

from enum import StrEnum


class ReferralSource(StrEnum):
    GP = "gp"
    AMBULANCE = "ambulance"
    EMERGENCY_DEPARTMENT = "emergency_department"
    HOSPITAL_WARD = "hospital_ward"
    CARE_HOME = "care_home"
    NHS_111 = "nhs_111"
    FAMILY_OR_SELF = "family_or_self"
    OTHER = "other"

    @property
    def label(self) -> str:
        return _SOURCE_LABELS[self]


_SOURCE_LABELS = {
    ReferralSource.GP: "GP",
    ReferralSource.AMBULANCE: "Ambulance",
    ReferralSource.EMERGENCY_DEPARTMENT: "Emergency department",
    ReferralSource.HOSPITAL_WARD: "Hospital ward",
    ReferralSource.CARE_HOME: "Care home",
    ReferralSource.NHS_111: "NHS 111",
    ReferralSource.FAMILY_OR_SELF: "Family or self",
    ReferralSource.OTHER: "Other",
}


class ReferralStatus(StrEnum):
    """Where a referral is in its lifecycle (see `models.lifecycle`)."""

    RECEIVED = "received"
    TRIAGED = "triaged"
    DECLINED = "declined"
    ASSIGNED = "assigned"
    RESPONDED = "responded"
    CRISIS_CARE = "crisis_care"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")

    @property
    def is_open(self) -> bool:
        return self not in (ReferralStatus.DECLINED, ReferralStatus.CLOSED)


class Priority(StrEnum):
    """Crisis referrals run the 2-hour clock; urgent and routine do not."""

    CRISIS = "crisis"
    URGENT = "urgent"
    ROUTINE = "routine"


class Outcome(StrEnum):
    STAYED_AT_HOME = "stayed_at_home"
    REFERRED_ON = "referred_on"
    ADMITTED = "admitted"
    DECLINED = "declined"
    DIED = "died"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            Outcome.STAYED_AT_HOME: "Stayed at home / no further intervention",
            Outcome.REFERRED_ON: "Referred on",
            Outcome.ADMITTED: "Admitted",
            Outcome.DECLINED: "Declined",
            Outcome.DIED: "Died",
            Outcome.OTHER: "Other",
        }[self]


class StaffRole(StrEnum):
    COORDINATOR = "coordinator"
    CLINICIAN = "clinician"
    LIAISON = "liaison"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class StaffStatus(StrEnum):
    AVAILABLE = "available"
    TRAVELLING = "travelling"
    ON_VISIT = "on_visit"
    OFF = "off"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class VisitStatus(StrEnum):
    PLANNED = "planned"
    TRAVELLING = "travelling"
    ARRIVED = "arrived"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class ClockState(StrEnum):
    """The 2-hour response clock, always shown in words as well as colour."""

    ON_TRACK = "on_track"
    DUE_SOON = "due_soon"
    BREACHED = "breached"
    MET = "met"
    MISSED = "missed"
    NONE = "none"  # no clock (not a crisis referral)

    @property
    def label(self) -> str:
        return {
            ClockState.ON_TRACK: "on track",
            ClockState.DUE_SOON: "due soon",
            ClockState.BREACHED: "BREACHED",
            ClockState.MET: "met",
            ClockState.MISSED: "missed",
            ClockState.NONE: "no clock",
        }[self]


class AlertKind(StrEnum):
    DUE_SOON = "due_soon"
    BREACH = "breach"
    CRISIS_REVIEW_DUE = "crisis_review_due"  # 2 hours before the 72-hour window ends
    CRISIS_WINDOW_ENDED = "crisis_window_ended"


class TeamCode(StrEnum):
    """The hub's teams. Referral needs are a set of these."""

    CRISIS_RESPONSE = "CRT"  # social care crisis response
    COMMUNITY_NURSING = "NUR"
    THERAPY = "THY"
    MENTAL_HEALTH = "MH"
    REABLEMENT = "REA"

    @property
    def label(self) -> str:
        return {
            TeamCode.CRISIS_RESPONSE: "Crisis response",
            TeamCode.COMMUNITY_NURSING: "Community nursing",
            TeamCode.THERAPY: "Therapy",
            TeamCode.MENTAL_HEALTH: "Mental health",
            TeamCode.REABLEMENT: "Reablement",
        }[self]
