"""The live board worked out from the replica's data: pure, with no Textual in sight.

`BoardModel` holds one `BoardRow` per open referral, built from the JSON bodies the desk
replicates, and the desks online. The clock-dependent parts (time left, clock state, order)
are functions of `now`, so the board can refresh them from the desk's own clock without
asking the hub. Bodies come off the wire: a malformed one is skipped, never a crash.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from messaging.protocol import DESK, REFERRAL
from models.clock import clock_state, describe_time_left, sort_key_time_left, time_left
from models.enums import ClockState, Priority, ReferralStatus
from models.errors import ValidationError
from models.nhs import format_nhs_number
from models.postcode import normalise_postcode
from models.text import clean_text

log = logging.getLogger(__name__)

UNKNOWN_NHS = "unknown"
NO_NAME = "(no name)"


def parse_time(value: object) -> datetime | None:
    """An ISO time from a body as an aware datetime (naive means UTC); None if absent or bad."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _text(value: object) -> str:
    return clean_text(value) if isinstance(value, str) else ""


def _nhs(value: object) -> str:
    if not isinstance(value, str) or not value:
        return UNKNOWN_NHS
    try:
        return format_nhs_number(value)
    except ValidationError:
        return UNKNOWN_NHS


def _postcode(value: object) -> str:
    """A postcode as "LE1 5WW" when valid, else the cleaned text as typed (maybe "")."""
    text = _text(value)
    try:
        return normalise_postcode(text) if text else ""
    except ValidationError:
        return text


# Looked up, not worked out, for each of thousands of rows (and one string each, shared).
_STATUSES = {status.value: (status, status.label) for status in ReferralStatus}
_PRIORITIES = {priority.value: priority.value for priority in Priority}


def _status(value: object) -> tuple[ReferralStatus | None, str]:
    known = _STATUSES.get(value) if isinstance(value, str) else None
    if known is None:
        return None, _text(value).replace("_", " ") or "unknown"
    return known


def _priority(value: object) -> str:
    return _PRIORITIES.get(value, "") if isinstance(value, str) else ""


def _texts(values: Iterable[object]) -> tuple[str, ...]:
    """The non-empty cleaned texts among `values`."""
    return tuple(filter(None, map(_text, values)))


@dataclass(frozen=True)
class ClockView:
    """A referral's clock at one moment: its state, the words shown for it, and shorter
    words for a narrow terminal. Both always name the state: never colour alone."""

    state: ClockState
    words: str
    short: str


def _short_time(words: str) -> str:
    """ "1h 50m left" -> "1h 50m", "breached 7m ago" -> "7m", "under 1m left" -> "<1m"."""
    words = words.removeprefix("breached ").removesuffix(" left").removesuffix(" ago")
    return {"under 1m": "<1m", "just now": "now"}.get(words, words)


@dataclass(frozen=True, slots=True)
class BoardRow:
    """One open referral as the board shows it. Text fields are already cleaned."""

    key: str
    name: str
    nhs_number: str
    postcode: str
    needs: tuple[str, ...]
    status: ReferralStatus | None
    status_words: str
    priority: str
    staff: tuple[str, ...]
    received_at: datetime | None
    due_at: datetime | None
    responded_at: datetime | None

    @property
    def is_open(self) -> bool:
        return self.status is None or self.status.is_open

    @property
    def clock_running(self) -> bool:
        return self.due_at is not None and self.responded_at is None

    def clock_state(self, now: datetime) -> ClockState:
        return clock_state(
            due_at=self.due_at, responded_at=self.responded_at, now=now, status=self.status
        )

    def clock(self, now: datetime) -> ClockView:
        state = self.clock_state(now)
        if state in (ClockState.ON_TRACK, ClockState.DUE_SOON, ClockState.BREACHED):
            assert self.due_at is not None
            left = describe_time_left(time_left(self.due_at, now))
            short = f"{state.label} {_short_time(left)}"
            return ClockView(state, f"{state.label} {left.removeprefix('breached ')}", short)
        if state is ClockState.NONE and self.priority:
            return ClockView(state, f"{self.priority} (no clock)", f"{self.priority} no clock")
        return ClockView(state, state.label, state.label)

    def sort_key(self, now: datetime) -> tuple[int, float, float, str]:
        """Most urgent first: running clocks by time left, then the rest by received time."""
        due = self.due_at if self.clock_running else None
        group, value = sort_key_time_left(due, now, self.received_at)
        received = self.received_at.timestamp() if self.received_at else float("inf")
        return (group, value, received, self.key)


def row_from_body(key: str, body: Mapping[str, Any]) -> BoardRow | None:
    """The board row for a referral body, or None if the body is not a usable referral."""
    try:
        patient = body.get("patient") or {}
        status, status_words = _status(body.get("status"))
        staff = body.get("staff") or []
        return BoardRow(
            key=key,
            name=_text(patient.get("name")) or NO_NAME,
            nhs_number=_nhs(patient.get("nhs_number")),
            postcode=_postcode(patient.get("postcode")),
            needs=_texts(body.get("needs") or ()),
            status=status,
            status_words=status_words,
            priority=_priority(body.get("priority")),
            staff=_texts(person.get("name") for person in staff),
            received_at=parse_time(body.get("received_at")),
            due_at=parse_time(body.get("due_at")),
            responded_at=parse_time(body.get("responded_at")),
        )
    except (AttributeError, TypeError, ValueError):
        log.warning("skipping a malformed referral body at %s", key[:80])
        return None


_UNMADE = object()
"""No row was made for this key beforehand."""


def _row_of(key: str, body: object) -> BoardRow | None:
    return row_from_body(key, body) if isinstance(body, Mapping) else None


def _made(rows: Mapping[str, object] | None, key: str) -> BoardRow | None | object:
    """`key`'s row in `rows` (None if its body was not a usable referral), else `_UNMADE`."""
    row = rows.get(key, _UNMADE) if rows else _UNMADE
    return row if row is None or isinstance(row, BoardRow) else _UNMADE


@dataclass(frozen=True)
class BoardCounts:
    """Counts of all open referrals; `shown` is how many a filter lets through (None: no
    filter is on, all are shown)."""

    open: int = 0
    due_soon: int = 0
    breached: int = 0
    shown: int | None = None


def order_rows(rows: Iterable[BoardRow], now: datetime) -> list[BoardRow]:
    return sorted(rows, key=lambda row: row.sort_key(now))


def count_rows(rows: Iterable[BoardRow], now: datetime, *, shown: int | None = None) -> BoardCounts:
    states = [row.clock_state(now) for row in rows]
    return BoardCounts(
        open=len(states),
        due_soon=states.count(ClockState.DUE_SOON),
        breached=states.count(ClockState.BREACHED),
        shown=shown,
    )


class BoardModel:
    """The open referrals and the desks online, kept in step with the replica's data."""

    def __init__(self) -> None:
        self.rows: dict[str, BoardRow] = {}
        self.desks: dict[str, str] = {}

    def load(
        self,
        data: Mapping[str, Mapping[str, Any] | None],
        rows: Mapping[str, object] | None = None,
    ) -> None:
        """Replace everything with a fresh snapshot of the replica's data. `rows`: board
        rows already made from its referral bodies (the replica's digests, made by
        `row_from_body`), used as they are: a referral among them is not parsed again."""
        self.rows.clear()
        self.desks.clear()
        for key in data:  # read only the bodies wanted: a replica parses a referral's each time
            if key.startswith(REFERRAL):
                row = _made(rows, key)
                self._put_row(key, _row_of(key, data[key]) if row is _UNMADE else row)
            elif key.startswith(DESK):
                self.apply(key, data[key])

    def apply(
        self,
        key: str,
        body: Mapping[str, Any] | None,
        rows: Mapping[str, object] | None = None,
    ) -> bool:
        """Apply one key's new body (None: deleted). True if the board or desks changed.
        `rows` as for `load`: a referral's row there is used rather than made again."""
        if key.startswith(REFERRAL):
            row = _made(rows, key)
            return self._put_row(key, _row_of(key, body) if row is _UNMADE else row)
        if key.startswith(DESK):
            if not isinstance(body, Mapping):
                return self.desks.pop(key, None) is not None
            name = _text(body.get("desk")) or key.removeprefix(DESK)
            changed = self.desks.get(key) != name
            self.desks[key] = name
            return changed
        return False

    def _put_row(self, key: str, row: BoardRow | None) -> bool:
        """Show `row` for `key`; no row, or a closed referral's, takes it off the board."""
        if row is None or not row.is_open:
            return self.rows.pop(key, None) is not None
        changed = self.rows.get(key) != row
        self.rows[key] = row
        return changed

    def ordered(self, now: datetime) -> list[BoardRow]:
        return order_rows(self.rows.values(), now)

    def counts(self, now: datetime) -> BoardCounts:
        return count_rows(self.rows.values(), now)

    @property
    def desks_online(self) -> list[str]:
        return sorted(self.desks.values())
