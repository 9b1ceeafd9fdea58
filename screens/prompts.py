"""Small modal questions the desk asks before it sends a command: yes or no, a reason, a
triage decision, an outcome. Each returns what was chosen, or None when cancelled.

Titles are plain text (never markup); what is typed is cleaned before it is returned.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Select, SelectionList, Static

from models.enums import Outcome, Priority, TeamCode
from models.errors import ValidationError
from models.text import clean_text

T = TypeVar("T")


def plain(text: Content | str) -> Content:
    """Text for a label: a Content object as it is, or a string shown literally."""
    return text if isinstance(text, Content) else Content(clean_text(text, multiline=True))


class Prompt(ModalScreen[T | None]):
    """A panel with a title, some fields, an error line and OK / Cancel buttons."""

    CSS_PATH = "forms.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="prompt.cancel"),
        Binding("ctrl+s", "confirm", "OK", id="prompt.confirm"),
    ]
    ok_label = "OK"

    def __init__(self, title: Content | str) -> None:
        super().__init__(classes="prompt")
        self._title = plain(title)

    def compose(self) -> ComposeResult:
        with Vertical(classes="prompt-panel"):
            yield Static(self._title, classes="prompt-title")
            yield from self.fields()
            yield Static("", classes="prompt-error")
            with Horizontal(classes="prompt-buttons"):
                yield Button(self.ok_label, variant="primary", id="prompt-ok", compact=True)
                yield Button("Cancel", id="prompt-cancel", compact=True)

    def fields(self) -> Iterable[Any]:
        return ()

    def answer(self) -> T:
        """What the prompt returns; raise ValidationError to refuse with a message."""
        raise NotImplementedError

    def action_confirm(self) -> None:
        try:
            result = self.answer()
        except ValidationError as exc:
            self.query_one(".prompt-error", Static).update(Content(exc.message))
            return
        self.dismiss(result)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#prompt-ok")
    def _ok(self) -> None:
        self.action_confirm()

    @on(Button.Pressed, "#prompt-cancel")
    def _cancel(self) -> None:
        self.action_cancel()


class ConfirmPrompt(Prompt[bool]):
    """Yes or no; y and n answer at once."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "confirm", "Yes", id="confirm.yes"),
        Binding("n", "cancel", "No", id="confirm.no"),
    ]

    def __init__(self, question: Content | str, yes: str = "Yes") -> None:
        super().__init__(question)
        self.ok_label = yes

    def on_mount(self) -> None:
        self.query_one("#prompt-ok", Button).focus()

    def answer(self) -> bool:
        return True

    def action_cancel(self) -> None:
        self.dismiss(False)


class TextPrompt(Prompt[str]):
    """One line of text: a reason or a note. Enter sends it."""

    def __init__(
        self, title: Content | str, *, draft: str = "", required: bool = True, placeholder: str = ""
    ) -> None:
        super().__init__(title)
        self._draft = draft
        self._required = required
        self._placeholder = placeholder

    def fields(self) -> Iterable[Any]:
        yield Input(self._draft, placeholder=self._placeholder, id="prompt-text", compact=True)

    def answer(self) -> str:
        text = clean_text(self.query_one("#prompt-text", Input).value, max_length=4000)
        if self._required and not text:
            raise ValidationError("Type something first (escape cancels)")
        return text

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_confirm()


def team_choices(selected: Iterable[str]) -> list[tuple[str, str, bool]]:
    chosen = set(selected)
    return [
        (f"{team.value:<3} {team.label}", team.value, team.value in chosen) for team in TeamCode
    ]


class TriagePrompt(Prompt[dict[str, Any]]):
    """Triage: confirm or change the priority and the teams needed."""

    ok_label = "Triage"

    def __init__(self, title: Content | str, *, priority: str, needs: Iterable[str]) -> None:
        super().__init__(title)
        self._priority = priority if priority in tuple(Priority) else Priority.CRISIS.value
        self._needs = list(needs)

    def fields(self) -> Iterable[Any]:
        options = [(p.value, p.value) for p in Priority]
        yield Select(
            options, value=self._priority, allow_blank=False, id="triage-priority", compact=True
        )
        yield SelectionList[str](*team_choices(self._needs), id="triage-needs", compact=True)

    def on_mount(self) -> None:
        self.query_one("#prompt-ok", Button).focus()

    def answer(self) -> dict[str, Any]:
        needs = list(self.query_one("#triage-needs", SelectionList).selected)
        if not needs:
            raise ValidationError("Choose at least one team")
        return {"priority": self.query_one("#triage-priority", Select).value, "needs": needs}


class ClosePrompt(Prompt[dict[str, str]]):
    """Close: choose an outcome, with an optional note."""

    ok_label = "Close referral"

    def __init__(self, title: Content | str, *, draft: str = "") -> None:
        super().__init__(title)
        self._draft = draft

    def fields(self) -> Iterable[Any]:
        options = [(outcome.label, outcome.value) for outcome in Outcome]
        yield Select(options, prompt="Choose an outcome", id="close-outcome", compact=True)
        yield Input(self._draft, placeholder="Note (optional)", id="close-note", compact=True)

    def answer(self) -> dict[str, str]:
        outcome = self.query_one("#close-outcome", Select).value
        if not isinstance(outcome, str):
            raise ValidationError("Choose an outcome")
        note = clean_text(self.query_one("#close-note", Input).value, max_length=4000)
        return {"outcome": outcome, "note": note}

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_confirm()
