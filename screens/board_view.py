"""What the board shows of the open referrals: a filter, a search and an order. Pure.

`BoardView` is a value: the board keys make a new one (next team, next status, next sort)
and the board shows `view.rows(all_rows, now)`. Counts stay those of all open referrals.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from models.enums import ReferralStatus, TeamCode
from models.text import clean_text
from screens.state import BoardRow

_SEPARATORS = re.compile(r"[\s-]+")

TEAMS: tuple[TeamCode | None, ...] = (None, *TeamCode)
"""The team filter cycles through these; None is every team."""
STATUSES: tuple[ReferralStatus | None, ...] = (
    None,
    ReferralStatus.RECEIVED,
    ReferralStatus.TRIAGED,
    ReferralStatus.ASSIGNED,
    ReferralStatus.RESPONDED,
    ReferralStatus.CRISIS_CARE,
)
"""The status filter cycles through the open statuses, in lifecycle order; None is all."""
_STATUS_RANK = {status: rank for rank, status in enumerate(STATUSES[1:])}


class SortOrder(StrEnum):
    """How the board orders its rows; the value is the words shown on screen."""

    TIME_LEFT = "time left"
    RECEIVED = "newest first"
    STATUS = "status"


def _next(choices: tuple[Any, ...], current: Any) -> Any:
    return choices[(choices.index(current) + 1) % len(choices)]


def _compact(text: str) -> str:
    return _SEPARATORS.sub("", text).upper()


def matches_search(row: BoardRow, query: str) -> bool:
    """True if `query` finds the row: every word in its name (any case, any order), digits
    in its NHS number (with or without spaces), or the start of its postcode."""
    words = clean_text(query).casefold().split()
    if not words:
        return True
    name = row.name.casefold()
    if all(word in name for word in words):
        return True
    compact = _compact(query)
    if compact.isdigit():
        return compact in row.nhs_number.replace(" ", "")
    return len(compact) >= 2 and _compact(row.postcode).startswith(compact)


def _received_newest_first(row: BoardRow) -> tuple[int, float, str]:
    if row.received_at is None:
        return (1, 0.0, row.key)
    return (0, -row.received_at.timestamp(), row.key)


@dataclass(frozen=True)
class BoardView:
    """A team filter (on the referral's needs), a status filter, a search and an order."""

    sort: SortOrder = SortOrder.TIME_LEFT
    team: TeamCode | None = None
    status: ReferralStatus | None = None
    search: str = ""

    @property
    def filtered(self) -> bool:
        """True when some open referrals may be hidden."""
        return self.team is not None or self.status is not None or bool(self.search.split())

    def next_sort(self) -> BoardView:
        return replace(self, sort=_next(tuple(SortOrder), self.sort))

    def next_team(self) -> BoardView:
        return replace(self, team=_next(TEAMS, self.team))

    def next_status(self) -> BoardView:
        return replace(self, status=_next(STATUSES, self.status))

    def with_search(self, search: str) -> BoardView:
        """The text as typed (spaces and all: the search box shows it back); it is
        cleaned when matched, and never shown anywhere else."""
        return replace(self, search=search)

    def cleared(self) -> BoardView:
        """No filter and no search; the order stays."""
        return BoardView(sort=self.sort)

    def matches(self, row: BoardRow) -> bool:
        if self.team is not None and self.team not in row.needs:
            return False
        if self.status is not None and row.status is not self.status:
            return False
        return matches_search(row, self.search)

    def rows(self, rows: Iterable[BoardRow], now: datetime) -> list[BoardRow]:
        """The rows this view shows, in its order."""
        shown = [row for row in rows if self.matches(row)]
        if self.sort is SortOrder.RECEIVED:
            return sorted(shown, key=_received_newest_first)
        if self.sort is SortOrder.STATUS:
            last = len(_STATUS_RANK)
            return sorted(
                shown,
                key=lambda row: (_STATUS_RANK.get(row.status, last), row.sort_key(now)),
            )
        return sorted(shown, key=lambda row: row.sort_key(now))

    def describe(self) -> list[tuple[str, str, str, bool]]:
        """(key, what, words, on) for each part of the view, as the filter bar shows them."""
        return [
            ("o", "Sort", self.sort.value, False),
            ("t", "Team", self.team.value if self.team else "all", self.team is not None),
            ("s", "Status", self.status.label if self.status else "all", self.status is not None),
        ]
