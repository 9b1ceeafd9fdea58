"""Existing patients offered while a referral is typed: "Use existing patient: Edna Marsh,
02/04/1938, LE1 5WW". Choosing one, or letting it go again, is posted up as a message."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Button, OptionList, Static
from textual.widgets.option_list import Option

from screens.forms import describe_patient


class PatientMatches(Vertical):
    """The patients found so far, and the one in use (if any)."""

    DEFAULT_CSS = """
    PatientMatches { height: auto; }
    PatientMatches OptionList { height: auto; max-height: 4; }
    PatientMatches .linked { height: auto; }
    PatientMatches .linked Static { width: 1fr; color: $text-success; }
    """

    @dataclass
    class PatientChosen(Message):
        """The user chose to use this existing patient."""

        patient: dict[str, Any]

    @dataclass
    class PatientLetGo(Message):
        """The user said the patient in use is not this person after all."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._found: dict[str, dict[str, Any]] = {}

    def compose(self) -> ComposeResult:
        yield OptionList(id="intake-matches", compact=True)
        with Horizontal(classes="linked", id="intake-linked"):
            yield Static("", id="intake-linked-text")
            yield Button("Not this person", id="intake-unlink", compact=True)

    def on_mount(self) -> None:
        self.query_one("#intake-matches").display = False
        self.query_one("#intake-linked").display = False

    @property
    def options(self) -> OptionList:
        return self.query_one("#intake-matches", OptionList)

    def offer(self, patients: Iterable[Mapping[str, Any]]) -> None:
        """Offer these patients (none: hide the offer)."""
        options = self.options
        options.clear_options()
        self._found = {str(p.get("id")): dict(p) for p in patients if isinstance(p, Mapping)}
        for key, patient in self._found.items():
            prompt = Content(f"Use existing patient: {describe_patient(patient)}")
            options.add_option(Option(prompt, id=key))
        options.display = bool(self._found)
        if self._found:
            options.highlighted = 0

    def show_linked(self, patient: Mapping[str, Any] | None) -> None:
        """Show the patient in use, or (None) that no existing patient is in use."""
        self.offer(())
        text = f"Using existing patient: {describe_patient(patient)}" if patient else ""
        self.query_one("#intake-linked-text", Static).update(Content(text))
        self.query_one("#intake-linked").display = patient is not None

    @on(OptionList.OptionSelected, "#intake-matches")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        patient = self._found.get(event.option.id or "")
        if patient is not None:
            self.post_message(self.PatientChosen(patient))

    @on(Button.Pressed, "#intake-unlink")
    def _let_go(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(self.PatientLetGo())
