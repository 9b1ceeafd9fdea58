"""The 2-hour response clock and the 72-hour crisis window, worked out from times alone.

Every datetime must be timezone-aware; a naive one raises ValueError, because comparing
local and UTC times silently would put the wrong clock on the board.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from models.enums import ClockState, Priority, ReferralStatus

RESPONSE_WINDOW = timedelta(hours=2)
"""A crisis referral is due a first face-to-face contact within this time of being received."""
DUE_SOON_WINDOW = timedelta(minutes=30)
"""An open clock with this much time left, or less, is due soon."""
CRISIS_WINDOW = timedelta(hours=72)
"""Crisis care lasts up to this long after the first response."""
CRISIS_REVIEW_LEAD = timedelta(hours=2)
"""The crisis review falls due this long before the crisis window ends."""

_MINUTE = timedelta(minutes=1)


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value!r}")


def response_due_at(received_at: datetime, priority: Priority) -> datetime | None:
    """When the first response is due: received + 2 hours for a crisis referral, else None."""
    _require_aware(received_at, "received_at")
    if priority == Priority.CRISIS:
        return received_at + RESPONSE_WINDOW
    return None


def clock_state(
    *,
    due_at: datetime | None,
    responded_at: datetime | None,
    now: datetime,
    status: ReferralStatus | None = None,
) -> ClockState:
    """The state of a referral's response clock at `now`.

    - No clock (`due_at` is None) or a declined referral: NONE.
    - Responded: MET if `responded_at` <= `due_at`, else MISSED.
    - Closed with no response: MISSED if `now` >= `due_at`, else NONE.
    - Open with no response: BREACHED once `now` >= `due_at`; DUE_SOON with 30 minutes
      or less left; otherwise ON_TRACK.
    """
    _require_aware(now, "now")
    if due_at is not None:
        _require_aware(due_at, "due_at")
    if responded_at is not None:
        _require_aware(responded_at, "responded_at")
    if due_at is None or status == ReferralStatus.DECLINED:
        return ClockState.NONE
    if responded_at is not None:
        return ClockState.MET if responded_at <= due_at else ClockState.MISSED
    if status == ReferralStatus.CLOSED:
        return ClockState.MISSED if now >= due_at else ClockState.NONE
    if now >= due_at:
        return ClockState.BREACHED
    if due_at - now <= DUE_SOON_WINDOW:
        return ClockState.DUE_SOON
    return ClockState.ON_TRACK


def time_left(due_at: datetime, now: datetime) -> timedelta:
    """Time from `now` until `due_at`; negative once the clock is breached."""
    _require_aware(due_at, "due_at")
    _require_aware(now, "now")
    return due_at - now


def _hours_minutes(minutes: int) -> str:
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m"


def describe_time_left(left: timedelta) -> str:
    """Time left on a clock in words read at a glance, in whole minutes rounded down.

    "1h 05m left", "12m left", "under 1m left"; at zero or below (the clock is breached,
    as `clock_state` says), "breached just now", "breached 7m ago", "breached 2h 10m ago".
    Both directions round down: 7m 59s left is "7m left", 7m 59s over is "breached 7m ago".
    """
    if left > timedelta(0):
        minutes = left // _MINUTE
        if minutes == 0:
            return "under 1m left"
        return f"{_hours_minutes(minutes)} left"
    minutes = -left // _MINUTE
    if minutes == 0:
        return "breached just now"
    return f"breached {_hours_minutes(minutes)} ago"


def crisis_window_ends_at(responded_at: datetime) -> datetime:
    """When the 72-hour crisis window ends: 72 hours after the first response."""
    _require_aware(responded_at, "responded_at")
    return responded_at + CRISIS_WINDOW


def crisis_review_due_at(responded_at: datetime) -> datetime:
    """When the crisis review is due: 2 hours before the crisis window ends (70 hours in)."""
    return crisis_window_ends_at(responded_at) - CRISIS_REVIEW_LEAD


def sort_key_time_left(
    due_at: datetime | None, now: datetime, received_at: datetime | None = None
) -> tuple[int, float]:
    """A sort key that puts the most urgent referral first.

    Clocks come first, by time left: breached ones (most overdue first), then the least
    time left. Referrals with no clock come last, oldest `received_at` first, and those
    without a `received_at` after them. Pass `due_at=None` for a clock that has stopped.
    """
    _require_aware(now, "now")
    if due_at is not None:
        return (0, time_left(due_at, now).total_seconds())
    if received_at is not None:
        _require_aware(received_at, "received_at")
        return (1, received_at.timestamp())
    return (2, 0.0)
