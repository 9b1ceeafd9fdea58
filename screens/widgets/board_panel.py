"""The board with its filter bar: holds the view (filters, search, order) and its keys."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.reactive import reactive

from screens.board_view import BoardView
from screens.widgets.board import ReferralBoard
from screens.widgets.filter_bar import FilterBar

_VIEW = Binding.Group("Filter")
"""The footer shows /, t, s and o as one group (the filter bar names each one, and so
does the help screen): there is little room in 80 columns."""


class BoardPanel(Vertical):
    """Attributes down: the view goes to the filter bar and the board. The keys change it."""

    BINDING_GROUP_TITLE = "Board filters"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search", key_display="/", group=_VIEW, id="board.search"),
        Binding("t", "next_team", "Team filter", group=_VIEW, id="board.team"),
        Binding("s", "next_status", "Status filter", group=_VIEW, id="board.status"),
        Binding("o", "next_sort", "Sort order", group=_VIEW, id="board.sort"),
        Binding("escape", "clear", "Clear", key_display="esc", id="board.clear"),
    ]

    view: reactive[BoardView] = reactive(BoardView, init=False)

    def __init__(self, *, clock: Callable[[], datetime], id: str | None = None) -> None:
        super().__init__(id=id)
        self._clock = clock

    def compose(self) -> ComposeResult:
        # The board comes first so it has the focus when the desk starts (and first in the
        # Tab order); the filter bar docks above it (desk.tcss).
        yield ReferralBoard(clock=self._clock, id="board")
        yield FilterBar(id="filter-bar")

    @property
    def board(self) -> ReferralBoard:
        return self.query_one(ReferralBoard)

    @property
    def filter_bar(self) -> FilterBar:
        return self.query_one(FilterBar)

    def watch_view(self, view: BoardView) -> None:
        self.filter_bar.view = view
        self.board.show_view(view)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Escape shows in the footer only while there is something to clear or to leave."""
        if action == "clear":
            return self.view.filtered or self.app.focused is self.filter_bar.search_input
        return True

    def action_search(self) -> None:
        self.filter_bar.open_search()

    def action_next_team(self) -> None:
        self.view = self.view.next_team()

    def action_next_status(self) -> None:
        self.view = self.view.next_status()

    def action_next_sort(self) -> None:
        self.view = self.view.next_sort()

    def action_clear(self) -> None:
        """Escape: clear the search and every filter, and go back to the board."""
        self.view = self.view.cleared()
        self.board.focus()

    @on(FilterBar.SearchEdited)
    def _search_edited(self, message: FilterBar.SearchEdited) -> None:
        message.stop()
        self.view = self.view.with_search(message.text)

    @on(FilterBar.SearchSubmitted)
    def _search_submitted(self, message: FilterBar.SearchSubmitted) -> None:
        message.stop()
        self.board.focus()
