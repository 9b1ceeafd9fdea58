"""A help screen listing the keys the desk answers to."""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static


def describe_bindings(bindings: Iterable[Binding]) -> Content:
    """One line per binding: its key as shown in the footer, then what it does."""
    lines = [
        Content.assemble(
            (f"{binding.key_display or binding.key:>6}", "bold"), "  ", binding.description
        )
        for binding in bindings
        if binding.description
    ]
    return Content("\n").join(lines)


class HelpScreen(ModalScreen[None]):
    """The keys of the desk; any of escape, q or ? closes it."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="help.close"),
        Binding("q", "dismiss", "Close", show=False, id="help.close_q"),
        Binding("question_mark", "dismiss", "Close", show=False, id="help.close_help"),
    ]

    def __init__(self, bindings: Iterable[Binding]) -> None:
        super().__init__()
        self._listed = list(bindings)

    def compose(self) -> ComposeResult:
        with Vertical(id="help-panel"):
            yield Static(Content("Hub Desk keys"), id="help-title")
            yield Static(describe_bindings(self._listed), id="help-keys")
            yield Static(Content("escape closes this help"), id="help-hint")
