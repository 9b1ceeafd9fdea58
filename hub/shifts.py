"""Reading shift times as staff write them: HH:MM in the hub's time zone on a given day,
an end earlier than the start meaning the shift runs overnight."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ShiftTimeError(ValueError):
    """A shift time that cannot be read; the message says which and why."""


def _time(value: str, what: str) -> time:
    try:
        return time.fromisoformat(value.strip())
    except ValueError:
        raise ShiftTimeError(f"{what} {value!r} is not a time like 08:00") from None


def shift_times(start: str, end: str, day: str | None, tz_name: str) -> tuple[datetime, datetime]:
    """Aware start and end datetimes for a shift."""
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ShiftTimeError(f"Unknown time zone {tz_name!r}") from None
    try:
        on = date.fromisoformat(day) if day else datetime.now(tz).date()
    except ValueError:
        raise ShiftTimeError(f"--date {day!r} is not a date like 2026-11-23") from None
    starts = datetime.combine(on, _time(start, "start"), tzinfo=tz)
    ends = datetime.combine(on, _time(end, "end"), tzinfo=tz)
    if ends <= starts:
        ends = datetime.combine(on + timedelta(days=1), _time(end, "end"), tzinfo=tz)
    return starts, ends
