"""The live referral board: one row per open referral the view lets through, in its order.

Rows are keyed by the referral's key. A change touches only the cells that differ; the
cursor stays on the same referral when rows move. The countdown is worked out from the
desk's own clock on a timer: the board never asks the hub what time it is. The columns
fit the width (see `board_columns`); a new width that needs other columns rebuilds them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual import events
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, ColumnKey, RowKey

from models.enums import ClockState
from screens.board_view import BoardView
from screens.state import BoardCounts, BoardRow, ClockView, count_rows
from screens.widgets.board_columns import (
    CELL_PADDING,
    COLUMNS,
    Layout,
    clock_words,
    layout_for,
    text_cells,
)

TICK_SECONDS = 20.0
"""How often the time-left cells are worked out again from the desk's clock."""

CLOCK_STYLES = {
    ClockState.ON_TRACK: "#5fd75f",
    ClockState.DUE_SOON: "bold #ffd700",
    ClockState.BREACHED: "bold #ffffff on #d70000",
    ClockState.MET: "#5fd75f",
    ClockState.MISSED: "#ff5f5f",
    ClockState.NONE: "dim",
}
"""Colour backs up the words of each clock state; the words are always there. Exact
colours, not ANSI names: Textual maps "red" through its theme to a pink that a 16-colour
terminal shows as magenta. These come out green, bright yellow and white on red there."""


class RankedText(Text):
    """A time-left cell that also carries its row's place in the board's order."""

    __slots__ = ("rank",)

    def __init__(self, text: str, style: str, rank: int) -> None:
        super().__init__(text, style=style, no_wrap=True, overflow="ellipsis", end="")
        self.rank = rank


def plain(value: str) -> Text:
    """User text as a cell: a Text object, so it is never read as markup."""
    return Text(value, no_wrap=True, overflow="ellipsis", end="")


class ReferralBoard(DataTable[Text]):
    """Open referrals with their 2-hour clocks, coloured and in words."""

    BINDING_GROUP_TITLE = "Board"

    @dataclass
    class Counted(Message):
        """The board was redrawn; `counts` are of all open referrals (and how many show)."""

        counts: BoardCounts

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, ReferralBoard.Counted)

    def __init__(
        self,
        *,
        clock: Callable[[], datetime],
        tick_seconds: float = TICK_SECONDS,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True, cell_padding=CELL_PADDING)
        self._clock = clock
        self._tick_seconds = tick_seconds
        self._view = BoardView()
        self._layout: Layout | None = None
        self._all: dict[str, BoardRow] = {}
        self._shown: dict[str, dict[str, str]] = {}
        self._clocks: dict[str, ClockView] = {}
        self._order: list[str] = []

    def on_mount(self) -> None:
        self._relayout(self.outer_size.width or 80)
        self.set_interval(self._tick_seconds, self.refresh_clocks, name="board-clock")

    def on_resize(self, event: events.Resize) -> None:
        self._relayout(self.outer_size.width)

    @property
    def order(self) -> list[str]:
        """Referral keys in the order shown, top first."""
        return list(self._order)

    @property
    def layout(self) -> Layout | None:
        return self._layout

    @property
    def view(self) -> BoardView:
        return self._view

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

    def update_cell(
        self,
        row_key: RowKey | str,
        column_key: ColumnKey | str,
        value: Text,
        *,
        update_width: bool = False,
    ) -> None:
        """DataTable's, repainting only the changed row. DataTable repaints the whole table
        for one cell: 7.6 KB to the terminal per changed referral on an 80x24 board, against
        300-950 bytes for the row alone (bench/slow_link.py; budget 2 KB over SSH). Textual is
        pinned exactly, so the private attributes used here stay put."""
        if update_width:
            super().update_cell(row_key, column_key, value, update_width=True)
            return
        row = RowKey(row_key) if isinstance(row_key, str) else row_key
        column = ColumnKey(column_key) if isinstance(column_key, str) else column_key
        if row not in self._row_locations or column not in self._column_locations:
            raise CellDoesNotExist(f"No cell exists for row_key={row!r}, column_key={column!r}.")
        self._data[row][column] = value
        self._update_count += 1
        index = self._row_locations.get(row)
        if index is not None:
            self.refresh_row(index)

    def show_rows(self, rows: Iterable[BoardRow]) -> None:
        """All open referrals: show those the view lets through, touching only changes."""
        self._all = {row.key: row for row in rows}
        self._sync(self.selected_key)

    def show_view(self, view: BoardView) -> None:
        """Filter, search and order the rows as `view` says."""
        if view != self._view:
            self._view = view
            self._sync(self.selected_key, from_parent=True)

    def refresh_clocks(self) -> None:
        """Work the time-left cells out again from the desk's clock; reorder if needed."""
        self._sync(self.selected_key)

    def _relayout(self, width: int) -> None:
        layout = layout_for(width)
        if layout == self._layout:
            return
        selected = self.selected_key
        self._layout = layout
        self.clear(columns=True)
        self._shown.clear()
        self._clocks.clear()
        self._order = []
        for key, label in COLUMNS:
            self.add_column(label, key=key, width=layout.widths[key])
        self._sync(selected)

    def _sync(self, selected: str | None, *, from_parent: bool = False) -> None:
        layout = self._layout
        if layout is None:  # not mounted yet: on_mount shows the rows
            return
        now = self._clock()
        rows = self._view.rows(self._all.values(), now)
        ordered = [row.key for row in rows]
        wanted = set(ordered)
        for key in [key for key in self._shown if key not in wanted]:
            self.remove_row(key)
            del self._shown[key], self._clocks[key]
        moved = ordered != self._order
        for rank, row in enumerate(rows):
            cells = text_cells(row, layout)
            view = row.clock(now)
            time = RankedText(clock_words(view, layout), CLOCK_STYLES[view.state], rank)
            shown = self._shown.get(row.key)
            if shown is None:
                self.add_row(time, *(plain(cells[key]) for key, _ in COLUMNS[1:]), key=row.key)
            else:
                for column, value in cells.items():
                    if shown[column] != value:
                        self.update_cell(row.key, column, plain(value))
                if moved or view != self._clocks[row.key]:
                    self.update_cell(row.key, "time", time)
            self._shown[row.key] = cells
            self._clocks[row.key] = view
        if moved:
            self._order = ordered
            self.sort("time", key=lambda cell: cell.rank)
            if selected in self._shown:
                self.move_cursor(row=ordered.index(selected), animate=False)
        shown_count = len(rows) if self._view.filtered else None
        counts = count_rows(self._all.values(), now, shown=shown_count)
        if from_parent:
            # A message made while the parent (the panel) calls in here would stop at that
            # parent (Textual's rule against echoes) and miss the App: post it on our turn.
            self.call_next(self._report, counts)
        else:
            self._report(counts)

    def _report(self, counts: BoardCounts) -> None:
        self.post_message(self.Counted(counts))
