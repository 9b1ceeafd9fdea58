"""The live referral board: one line per open referral the view lets through, in its order.

A Line API widget: the board keeps the rows as a sorted list of `BoardRow`s and draws a
line only when Textual asks for one (`render_line`), the fixed header or the row under it,
cut to the column widths of `board_columns.layout_for` (fixed, never measured from the
content). Nothing is built for a row off screen, so 2,000 open referrals cost a list.

After every change the board compares each line on screen with what it last drew there and
repaints only the lines that differ: one changed referral sends one line to the terminal
(a ward laptop over SSH). The cursor stays on the same referral when rows move. The
countdown is worked out from the desk's own clock on a timer: the board never asks the hub
what time it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from models.enums import ClockState
from screens.board_view import BoardView
from screens.key_groups import MOVING
from screens.state import BoardCounts, BoardRow, count_rows
from screens.widgets.board_columns import (
    CELL_PADDING,
    COLUMNS,
    Layout,
    clock_words,
    layout_for,
    table_width,
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

_CLOCK_RICH = {state: Style.parse(style) for state, style in CLOCK_STYLES.items()}
_PAD = " " * CELL_PADDING
_TEXT_COLUMNS = tuple(key for key, _ in COLUMNS[1:])


@dataclass(frozen=True, slots=True)
class _RowLine:
    """What a row's line shows, exactly: its place (for the stripes), the clock's state
    (for its colour), the words of each cell, and the cursor and mouse on it."""

    index: int
    state: ClockState
    cells: tuple[str, ...]
    cursor: bool
    hover: bool


_HEADER, _BLANK = "header", "blank"
_LineState = tuple[Layout | None, int, int, _RowLine | str]
"""What one line of the board shows: layout, width, horizontal scroll, and the content."""


def fit(text: str, width: int) -> str:
    """`text` in exactly `width` cells: padded with spaces, or cut with an ellipsis."""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + "…" if width > 0 else ""


def _cut(text: str, width: int) -> str:
    """`text` cut with an ellipsis if it is wider than `width`, not padded."""
    return text if cell_len(text) <= width else fit(text, width)


def plain(value: str) -> Text:
    """User text as a cell: a Text object, so it is never read as markup."""
    return Text(value, no_wrap=True, overflow="ellipsis", end="")


class ReferralBoard(ScrollView, can_focus=True):
    """Open referrals with their 2-hour clocks, coloured and in words."""

    BINDING_GROUP_TITLE = MOVING
    """The help screen lists the board's keys with the other keys for moving around, as
    it did when the board was a DataTable (whose keys are Textual's own)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Select", show=False, id="board.select"),
        Binding("up", "cursor_up", "Cursor up", show=False, id="board.cursor_up"),
        Binding("down", "cursor_down", "Cursor down", show=False, id="board.cursor_down"),
        Binding("home,ctrl+home", "cursor_top", "Top", show=False, id="board.top"),
        Binding("end,ctrl+end", "cursor_bottom", "Bottom", show=False, id="board.bottom"),
        Binding("pageup", "page_up", "Page up", show=False, id="board.page_up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="board.page_down"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "board--header",
        "board--cursor",
        "board--hover",
        "board--even-row",
        "board--odd-row",
    }
    """Styled in desk.tcss: the header line, the cursor's row, the row under the mouse,
    and the zebra stripes (the first row is even)."""

    @dataclass
    class Counted(Message):
        """The board was redrawn; `counts` are of all open referrals (and how many show)."""

        counts: BoardCounts

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, ReferralBoard.Counted)

    @dataclass
    class RowSelected(Message):
        """The referral `key` was chosen: enter, or a click on the cursor's row."""

        board: ReferralBoard
        key: str
        cursor_row: int

        @property
        def control(self) -> ReferralBoard:
            return self.board

    def __init__(
        self,
        *,
        clock: Callable[[], datetime],
        tick_seconds: float = TICK_SECONDS,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self._clock = clock
        self._tick_seconds = tick_seconds
        self._view = BoardView()
        self._layout: Layout | None = None
        self._all: dict[str, BoardRow] = {}
        self.counts = BoardCounts()
        """Of all open referrals, as last reported in `Counted`."""
        self._rows: list[BoardRow] = []
        self._index: dict[str, int] = {}
        self._now = datetime.min.replace(tzinfo=UTC)
        self._cursor = 0
        self._hover: int | None = None
        self._painted: dict[int, _LineState] = {}

    def on_mount(self) -> None:
        self._relayout(self.outer_size.width or 80)
        self.set_interval(self._tick_seconds, self.refresh_clocks, name="board-clock")

    def on_resize(self, event: events.Resize) -> None:
        self._relayout(self.outer_size.width)

    # -- what other code reads ---------------------------------------------------------

    @property
    def order(self) -> list[str]:
        """Referral keys in the order shown, top first."""
        return [row.key for row in self._rows]

    @property
    def layout(self) -> Layout | None:
        return self._layout

    @property
    def view(self) -> BoardView:
        return self._view

    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def cursor_row(self) -> int:
        """The index of the row under the cursor (0 on an empty board)."""
        return self._cursor

    @property
    def selected_key(self) -> str | None:
        """The key of the referral under the cursor, if any."""
        return self._rows[self._cursor].key if self._rows else None

    def get_row_index(self, key: str) -> int:
        """Where the referral `key` is in the order shown; KeyError if it is not shown."""
        try:
            return self._index[key]
        except KeyError:
            raise KeyError(f"{key!r} is not on the board") from None

    def get_row_at(self, index: int) -> list[Text]:
        """The cells of the row at `index`, in column order, as the board shows them."""
        return self._cells(self._rows[index])

    def get_row(self, key: str) -> list[Text]:
        """The cells of referral `key`, in column order (`str()` of a cell is its text)."""
        return self.get_row_at(self.get_row_index(key))

    def get_cell(self, key: str, column: str) -> Text:
        """One cell of referral `key`; `column` is a key of `COLUMNS`."""
        index = [name for name, _ in COLUMNS].index(column)
        return self.get_row(key)[index]

    def _cells(self, row: BoardRow) -> list[Text]:
        layout = self._layout or layout_for(80)
        view = row.clock(self._now)
        words, style = clock_words(view, layout), CLOCK_STYLES[view.state]
        time = Text(words, style=style, no_wrap=True, overflow="ellipsis", end="")
        cells = text_cells(row, layout)
        return [time, *(plain(cells[key]) for key in _TEXT_COLUMNS)]

    # -- what other code changes -------------------------------------------------------

    def show_rows(self, rows: Iterable[BoardRow]) -> None:
        """All open referrals: show those the view lets through, repainting only changes."""
        self._all = {row.key: row for row in rows}
        self._sync()

    def show_view(self, view: BoardView) -> None:
        """Filter, search and order the rows as `view` says."""
        if view != self._view:
            self._view = view
            self._sync(from_parent=True)

    def refresh_clocks(self) -> None:
        """Work the time-left cells out again from the desk's clock; reorder if needed."""
        self._sync()

    def move_cursor(self, *, row: int | None = None, animate: bool = False) -> None:
        """Put the cursor on the row at index `row` and scroll it into view."""
        if row is not None:
            self._set_cursor(row, animate=animate)

    # -- keeping the rows and the screen in step ------------------------------------------

    def _relayout(self, width: int) -> None:
        layout = layout_for(width)
        if layout != self._layout:
            self._layout = layout
            self._sync()

    def _sync(self, *, from_parent: bool = False) -> None:
        layout = self._layout
        if layout is None:  # not mounted yet: on_mount shows the rows
            return
        selected = self.selected_key
        now = self._clock()
        self._now = now
        self._rows = self._view.rows(self._all.values(), now)
        self._index = {row.key: index for index, row in enumerate(self._rows)}
        self.virtual_size = Size(table_width(layout), len(self._rows) + 1)
        followed = self._index.get(selected) if selected is not None else None
        if followed is not None and followed != self._cursor:
            self._set_cursor(followed)  # the cursor stays on its referral when rows move
        else:
            self._cursor = self._clamp(self._cursor)
            self._repaint_changes()
        shown = len(self._rows) if self._view.filtered else None
        counts = self.counts = count_rows(self._all.values(), now, shown=shown)
        if from_parent:
            # A message made while the parent (the panel) calls in here would stop at that
            # parent (Textual's rule against echoes) and miss the App: post it on our turn.
            self.call_next(self._report, counts)
        else:
            self._report(counts)

    def _report(self, counts: BoardCounts) -> None:
        self.post_message(self.Counted(counts))

    def _clamp(self, index: int) -> int:
        return max(0, min(index, len(self._rows) - 1))

    def _set_cursor(self, index: int, *, animate: bool = False) -> None:
        self._cursor = self._clamp(index)
        self._scroll_to_cursor(animate=animate)
        self._repaint_changes()

    def _scroll_to_cursor(self, *, animate: bool = False) -> None:
        """Scroll so the cursor's row shows below the header."""
        lines = self.scrollable_content_region.height - 1
        if lines < 1:
            return
        top = round(self.scroll_target_y if animate else self.scroll_y)
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=animate, force=True)
        elif self._cursor >= top + lines:
            self.scroll_to(y=self._cursor - lines + 1, animate=animate, force=True)

    def _repaint_changes(self) -> None:
        """Mark for repainting each line on screen that would now differ from its last
        drawing: one line for one changed referral, a few for a moved cursor."""
        width = max(self.virtual_size.width, self.size.width)
        for y in range(self.size.height):
            if self._painted.get(y) != self._line_state(y):
                self.refresh(Region(0, y, width, 1))

    # -- drawing -----------------------------------------------------------------------

    def _line_state(self, y: int) -> _LineState:
        """What line `y` of the board (0 is the header) shows now."""
        x, top = self.scroll_offset
        index = y - 1 + top
        if y == 0:
            content: _RowLine | str = _HEADER
        elif index >= len(self._rows):
            content = _BLANK
        else:
            row, layout = self._rows[index], self._layout or layout_for(80)
            clock, text = row.clock(self._now), text_cells(row, layout)
            cells = (clock_words(clock, layout), *(text[key] for key in _TEXT_COLUMNS))
            cursor, hover = index == self._cursor, index == self._hover
            content = _RowLine(index, clock.state, cells, cursor, hover)
        return (self._layout, self.size.width, x, content)

    def render_line(self, y: int) -> Strip:
        state = self._line_state(y)
        self._painted[y] = state
        layout, line = self._layout, state[-1]
        if layout is None or line == _BLANK:
            return Strip.blank(self.size.width, self.rich_style)
        if not isinstance(line, _RowLine):
            style = self.get_component_rich_style("board--header")
            labels = "".join(_PAD + fit(label, layout.widths[key]) + _PAD for key, label in COLUMNS)
            return self._finish([Segment(labels, style)], style)
        style = self._row_style(line.index, cursor=line.cursor, hover=line.hover)
        clock = style + _CLOCK_RICH[line.state]
        if line.cursor:  # the cursor's colour wins over the clock's, its background does not
            clock += Style(color=style.color)
        time_width = layout.widths["time"]
        words = _cut(line.cells[0], time_width)
        widths = (layout.widths[key] for key in _TEXT_COLUMNS)
        rest = "".join(
            _PAD + fit(text, width) + _PAD
            for text, width in zip(line.cells[1:], widths, strict=True)
        )
        segments = [
            Segment(_PAD, style),
            Segment(words, clock),
            Segment(" " * (time_width - cell_len(words)) + _PAD + rest, style),
        ]
        return self._finish(segments, style)

    def _row_style(self, index: int, *, cursor: bool, hover: bool) -> Style:
        component = self.get_component_rich_style
        style = component("board--odd-row" if index % 2 else "board--even-row")
        if hover:
            style += component("board--hover")
        if cursor:
            style += component("board--cursor")
        return style

    def _finish(self, segments: list[Segment], style: Style) -> Strip:
        """The line across the whole width (the style carried to the edge), scrolled."""
        assert self._layout is not None
        width = self.size.width
        x = self.scroll_offset.x
        room = x + width - table_width(self._layout)
        if room > 0:
            segments.append(Segment(" " * room, style))
        strip = Strip(segments)
        return strip.crop(x, x + width) if x else strip

    # -- keys and the mouse ------------------------------------------------------------

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def action_cursor_up(self) -> None:
        self._hover = None
        self._set_cursor(self._cursor - 1)

    def action_cursor_down(self) -> None:
        self._hover = None
        self._set_cursor(self._cursor + 1)

    def action_cursor_top(self) -> None:
        self._hover = None
        self._set_cursor(0)

    def action_cursor_bottom(self) -> None:
        self._hover = None
        self._set_cursor(len(self._rows) - 1)

    def action_page_down(self) -> None:
        """The cursor and the rows move one page down together, as in a DataTable."""
        self._hover = None
        page = self._page()
        self.scroll_to(y=self.scroll_y + page, animate=False, force=True)
        self._set_cursor(self._cursor + page)

    def action_page_up(self) -> None:
        self._hover = None
        page = self._page()
        self.scroll_to(y=self.scroll_y - page, animate=False, force=True)
        self._set_cursor(self._cursor - page)

    def action_select_cursor(self) -> None:
        self._hover = None
        self._repaint_changes()
        self._post_selected()

    def _post_selected(self) -> None:
        if self._rows:
            key = self._rows[self._cursor].key
            self.post_message(self.RowSelected(self, key, self._cursor))

    def _row_at(self, event: events.MouseEvent) -> int | None:
        """The index of the row under the mouse, if it is over one."""
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return None
        index = offset.y - 1 + self.scroll_offset.y
        return index if index < len(self._rows) else None

    def on_click(self, event: events.Click) -> None:
        """A click moves the cursor to a row; a click on the cursor's row chooses it."""
        index = self._row_at(event)
        if index is None:
            return
        event.stop()
        if index == self._cursor:
            self._post_selected()
        else:
            self._set_cursor(index)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        hover = self._row_at(event)
        if hover != self._hover:
            self._hover = hover
            self._repaint_changes()

    def on_leave(self, event: events.Leave) -> None:
        self._hover = None
        self._repaint_changes()
