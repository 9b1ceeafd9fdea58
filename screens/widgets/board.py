"""The live referral board: one row per open referral, most urgent first.

Rows are keyed by the referral's key. A change touches only the cells that differ; the
cursor stays on the same referral when rows move. The countdown is worked out from the
desk's own clock on a timer: the board never asks the hub what time it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist

from models.enums import ClockState
from screens.state import BoardCounts, BoardRow, ClockView, count_rows, order_rows

TICK_SECONDS = 20.0
"""How often the time-left cells are worked out again from the desk's clock."""

CLOCK_STYLES = {
    ClockState.ON_TRACK: "green",
    ClockState.DUE_SOON: "bold yellow",
    ClockState.BREACHED: "bold red",
    ClockState.MET: "green",
    ClockState.MISSED: "red",
    ClockState.NONE: "dim",
}

COLUMNS = (
    ("time", "Time left", None),
    ("name", "Name", 20),  # a long name is cut short with "…", not pushed off-screen
    ("nhs", "NHS no.", None),
    ("needs", "Needs", None),
    ("status", "Status", None),
    ("staff", "Staff", None),
)
"""Column key, heading and fixed width (None: as wide as the content)."""


class RankedText(Text):
    """A time-left cell that also carries its row's place in the urgency order."""

    __slots__ = ("rank",)

    def __init__(self, text: str, style: str, rank: int) -> None:
        super().__init__(text, style=style, no_wrap=True, end="")
        self.rank = rank


def plain(value: str) -> Text:
    """User text as a cell: a Text object, so it is never read as markup."""
    return Text(value, no_wrap=True, overflow="ellipsis", end="")


def text_cells(row: BoardRow) -> dict[str, str]:
    """The cells of a row that do not depend on the time, as plain strings."""
    return {
        "name": row.name,
        "nhs": row.nhs_number,
        "needs": " ".join(row.needs),
        "status": row.status_words,
        "staff": ", ".join(row.staff) or "-",
    }


class ReferralBoard(DataTable[Text]):
    """Open referrals with their 2-hour clocks, coloured and in words."""

    @dataclass
    class Counted(Message):
        """The board was redrawn; `counts` are the clocks it now shows."""

        counts: BoardCounts

    def __init__(
        self,
        *,
        clock: Callable[[], datetime],
        tick_seconds: float = TICK_SECONDS,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._clock = clock
        self._tick_seconds = tick_seconds
        self._rows: dict[str, BoardRow] = {}
        self._shown: dict[str, dict[str, str]] = {}
        self._clocks: dict[str, ClockView] = {}
        self._order: list[str] = []

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            self.add_column(label, key=key, width=width)
        self.set_interval(self._tick_seconds, self.refresh_clocks, name="board-clock")

    @property
    def order(self) -> list[str]:
        """Referral keys in the order shown, top first."""
        return list(self._order)

    @property
    def selected_key(self) -> str | None:
        """The key of the referral under the cursor, if any."""
        if not self.row_count:
            return None
        try:
            row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        except CellDoesNotExist:
            return None
        return row_key.value

    def show_rows(self, rows: Iterable[BoardRow]) -> None:
        """Show exactly these rows, touching only what changed since the last call."""
        wanted = {row.key: row for row in rows}
        selected = self.selected_key
        for key in [key for key in self._rows if key not in wanted]:
            self.remove_row(key)
            del self._rows[key], self._shown[key]
            self._clocks.pop(key, None)
        for key, row in wanted.items():
            cells = text_cells(row)
            if key not in self._rows:
                self.add_row(
                    RankedText("", "", len(self._rows)),
                    *(plain(cells[column]) for column, _, _ in COLUMNS[1:]),
                    key=key,
                )
            else:
                for column, value in cells.items():
                    if self._shown[key][column] != value:
                        self.update_cell(key, column, plain(value), update_width=True)
            self._rows[key] = row
            self._shown[key] = cells
        self._refresh(selected)

    def refresh_clocks(self) -> None:
        """Work the time-left cells out again from the desk's clock; reorder if needed."""
        self._refresh(self.selected_key)

    def _refresh(self, selected: str | None) -> None:
        now = self._clock()
        ordered = [row.key for row in order_rows(self._rows.values(), now)]
        rank = {key: index for index, key in enumerate(ordered)}
        moved = ordered != self._order
        for key, row in self._rows.items():
            view = row.clock(now)
            if moved or view != self._clocks.get(key):
                cell = RankedText(view.words, CLOCK_STYLES[view.state], rank[key])
                self.update_cell(key, "time", cell, update_width=True)
                self._clocks[key] = view
        if moved:
            self._order = ordered
            self.sort("time", key=lambda cell: cell.rank)
            if selected in rank:
                self.move_cursor(row=rank[selected], animate=False)
        self.post_message(self.Counted(count_rows(self._rows.values(), now)))
