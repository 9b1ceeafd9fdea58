"""One line above the board: the order and filters in words, and the search input."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Input, Static

from screens.board_view import BoardView

SEARCH_HINT = "/ name, NHS no. or postcode"


def describe_view(view: BoardView) -> Content:
    """ "o Sort: time left  t Team: all  s Status: all": each with the key that changes it;
    a filter that is on in reverse (and in words: not "all")."""
    parts: list[Content | tuple[str, str] | str] = []
    for key, what, words, on_ in view.describe():
        if parts:
            parts.append("  ")
        parts.extend([(key, "bold"), f" {what}: ", (words, "reverse bold") if on_ else words])
    return Content.assemble(*parts)


class FilterBar(Horizontal):
    """Shows a `BoardView` (set from above); reports what is typed in the search box."""

    view: reactive[BoardView] = reactive(BoardView, init=False)

    @dataclass
    class SearchEdited(Message):
        """The text in the search box changed."""

        text: str

    @dataclass
    class SearchSubmitted(Message):
        """Enter was pressed in the search box: back to the board, search kept."""

    def compose(self) -> ComposeResult:
        yield Static(describe_view(self.view), id="filter-summary")
        yield Input(placeholder=SEARCH_HINT, compact=True, id="search")

    @property
    def search_input(self) -> Input:
        return self.query_one("#search", Input)

    def watch_view(self, view: BoardView) -> None:
        self.query_one("#filter-summary", Static).update(describe_view(view))
        if self.search_input.value != view.search:
            self.search_input.value = view.search

    def open_search(self) -> None:
        self.search_input.focus()

    @on(Input.Changed, "#search")
    def _edited(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.SearchEdited(event.value))

    @on(Input.Submitted, "#search")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.SearchSubmitted())
