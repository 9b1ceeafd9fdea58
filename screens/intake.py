"""A new referral, typed in the order a phone call goes: the person, the referrer, the reason,
the teams needed, the priority. Each field is checked as it is left; the hub is asked only
when the whole form is good, and if it refuses, nothing typed is lost.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Footer, Input, Label, Select, SelectionList, Static

from messaging.command_client import CommandRefused, HubUnavailable
from models.enums import Priority, ReferralSource
from models.errors import ValidationError
from models.text import clean_text
from screens.forms import (
    LABELS,
    PERSON_FIELDS,
    PLACEHOLDERS,
    REFERRAL_TEXT_FIELDS,
    REQUIRED,
    TEXT_FIELDS,
    check_field,
    check_fields,
    form_field_for,
    lookup_query,
    patient_values,
    referral_args,
    today_from,
)
from screens.prompts import ConfirmPrompt, team_choices
from screens.widgets.patient_matches import PatientMatches

ALL_FIELDS = (*TEXT_FIELDS, "source", "needs", "priority")


class IntakeScreen(ModalScreen[int | None]):
    """Log a phoned-in referral; returns the new referral's id, or None if cancelled."""

    CSS_PATH = "forms.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "submit", "Submit", id="intake.submit"),
        Binding("escape", "cancel", "Cancel", id="intake.cancel"),
    ]

    def __init__(self) -> None:
        super().__init__(id="intake")
        self.patient_id: int | None = None
        self.errors: dict[str, str] = {}
        self._last_lookup: dict[str, str] | None = None
        # One command id per submission attempt: kept while the hub has not answered, so a
        # resubmit of the same form is de-duplicated by the hub instead of logged twice.
        self._command_id: str | None = None
        self._command_args: dict[str, Any] | None = None

    # -- layout -------------------------------------------------------------------------

    def _row(self, name: str, widget: Widget) -> ComposeResult:
        label = LABELS[name] + (" *" if name in REQUIRED else "")
        with Horizontal(classes="intake-field", id=f"intake-{name}-row"):
            yield Label(Content(label), classes="intake-label")
            with Vertical(classes="intake-control"):
                yield widget
                yield Static("", classes="intake-error", id=f"intake-{name}-error")

    def _input(self, name: str) -> ComposeResult:
        field = Input(placeholder=PLACEHOLDERS[name], id=f"intake-{name}", compact=True)
        yield from self._row(name, field)

    def compose(self) -> ComposeResult:
        yield Static(Content("New referral  (* needed; ctrl+s submits)"), id="intake-title")
        with VerticalScroll(id="intake-form"):
            yield Static(Content("Person"), classes="intake-section")
            for name in PERSON_FIELDS[:3]:
                yield from self._input(name)
            yield PatientMatches(id="intake-patients")
            for name in PERSON_FIELDS[3:]:
                yield from self._input(name)
            yield Static(Content("Referrer"), classes="intake-section")
            sources = [(source.label, source.value) for source in ReferralSource]
            source = Select(sources, prompt="choose a source", id="intake-source", compact=True)
            yield from self._row("source", source)
            for name in REFERRAL_TEXT_FIELDS[:2]:
                yield from self._input(name)
            yield Static(Content("Referral"), classes="intake-section")
            yield from self._input("reason")
            needs = SelectionList[str](*team_choices(()), id="intake-needs", compact=True)
            yield from self._row("needs", needs)
            levels = [(priority.value, priority.value) for priority in Priority]
            priority = Select(levels, value=Priority.CRISIS.value, allow_blank=False, compact=True)
            priority.id = "intake-priority"
            yield from self._row("priority", priority)
            yield Static("", id="intake-problem")
            with Horizontal(id="intake-buttons"):
                yield Button("Submit", variant="primary", id="intake-submit", compact=True)
                yield Button("Cancel", id="intake-cancel", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#intake-name", Input).focus()

    # -- fields -------------------------------------------------------------------------

    def text_values(self) -> dict[str, str]:
        return {name: self.query_one(f"#intake-{name}", Input).value for name in TEXT_FIELDS}

    def show_error(self, name: str, message: str | None) -> None:
        """Show (or clear) the message beside one field."""
        if message:
            self.errors[name] = message
        else:
            self.errors.pop(name, None)
        error = self.query_one(f"#intake-{name}-error", Static)
        error.update(Content(clean_text(message or "")))
        error.set_class(bool(message), "-shown")
        self.query_one(f"#intake-{name}-row").set_class(bool(message), "-invalid")

    def check_one(self, name: str) -> str | None:
        """Check one text field, show the result beside it; its value to send, or None."""
        raw = self.query_one(f"#intake-{name}", Input).value
        try:
            value = check_field(name, raw, today_from(self.app.clock))  # type: ignore[attr-defined]
        except ValidationError as exc:
            self.show_error(name, exc.message)
            return None
        self.show_error(name, None)
        return value

    @on(Input.Blurred)
    def _left_a_field(self, event: Input.Blurred) -> None:
        name = (event.input.id or "").removeprefix("intake-")
        if name not in TEXT_FIELDS or event.input.disabled:
            return
        if self.check_one(name) is not None and name in ("name", "date_of_birth", "nhs_number"):
            self._maybe_look_up()

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        name = (event.input.id or "").removeprefix("intake-")
        if name in self.errors:  # a field marked bad is checked again as it is corrected
            self.check_one(name)

    @on(Input.Submitted)
    def _enter_moves_on(self) -> None:
        self.focus_next()

    @on(Select.Changed, "#intake-source")
    def _source_chosen(self) -> None:
        self.show_error("source", None)

    @on(SelectionList.SelectedChanged, "#intake-needs")
    def _needs_chosen(self) -> None:
        self.show_error("needs", None)

    # -- existing patients --------------------------------------------------------------

    def _maybe_look_up(self) -> None:
        if self.patient_id is not None:
            return
        today = today_from(self.app.clock)  # type: ignore[attr-defined]
        good, _ = check_fields(self.text_values(), ("name", "date_of_birth", "nhs_number"), today)
        query = lookup_query(good)
        if query is not None and query != self._last_lookup:
            self._last_lookup = query
            self.look_up(query)

    @work(exclusive=True, group="intake-lookup", exit_on_error=False)
    async def look_up(self, query: dict[str, str]) -> None:
        try:
            result = await self.app.commands.call("find_patient", query)  # type: ignore[attr-defined]
        except (CommandRefused, HubUnavailable):
            self._last_lookup = None  # ask again when the field is next left
            return
        if self.patient_id is None:
            self.show_matches(list(result.get("patients") or []))

    def show_matches(self, patients: list[dict[str, Any]]) -> None:
        self.query_one(PatientMatches).offer(patients)

    @on(PatientMatches.PatientChosen)
    def use_patient(self, message: PatientMatches.PatientChosen) -> None:
        """Send this patient's id instead of their details: nobody re-tells their story."""
        patient = message.patient
        self.patient_id = int(patient["id"])
        for name, value in patient_values(patient).items():
            field = self.query_one(f"#intake-{name}", Input)
            field.value = value
            field.disabled = True
            self.show_error(name, None)
        self.query_one(PatientMatches).show_linked(patient)
        self.query_one("#intake-source", Select).focus()

    @on(PatientMatches.PatientLetGo)
    def _let_go(self) -> None:
        self.patient_id = None
        self._last_lookup = None
        for name in PERSON_FIELDS:
            self.query_one(f"#intake-{name}", Input).disabled = False
        self.query_one(PatientMatches).show_linked(None)
        self.query_one("#intake-name", Input).focus()

    # -- submit and cancel --------------------------------------------------------------

    def build_args(self) -> dict[str, Any] | None:
        """The command's arguments, or None after marking every field that is not right."""
        names = REFERRAL_TEXT_FIELDS if self.patient_id is not None else TEXT_FIELDS
        good, errors = check_fields(self.text_values(), names, today_from(self.app.clock))  # type: ignore[attr-defined]
        source = self.query_one("#intake-source", Select).value
        if not isinstance(source, str):
            errors["source"] = "Choose where the referral came from"
        needs = list(self.query_one("#intake-needs", SelectionList).selected)
        if not needs:
            errors["needs"] = "Choose at least one team"
        for name in (*names, "source", "needs"):
            self.show_error(name, errors.get(name))
        if errors:
            first = next(name for name in ALL_FIELDS if name in errors)
            self.query_one(f"#intake-{first}").focus()
            count = len(errors)
            self.show_problem(f"Not sent: {count} field{'s' if count > 1 else ''} to put right.")
            return None
        priority = str(self.query_one("#intake-priority", Select).value)
        return referral_args(
            good, source=str(source), needs=needs, priority=priority, patient_id=self.patient_id
        )

    def show_problem(self, message: str) -> None:
        problem = self.query_one("#intake-problem", Static)
        problem.update(Content(clean_text(message)))
        problem.set_class(bool(message), "-shown")

    def action_submit(self) -> None:
        button = self.query_one("#intake-submit", Button)
        if button.disabled:
            return  # already sending: a second press must not log the referral twice
        args = self.build_args()
        if args is not None:
            button.disabled = True
            self.send(args, self._command_id_for(args))

    def _command_id_for(self, args: dict[str, Any]) -> str:
        """The id of this submission: the unanswered one's again if nothing has changed."""
        if self._command_id is None or args != self._command_args:
            self._command_id = uuid.uuid4().hex
            self._command_args = args
        return self._command_id

    def _forget_command(self) -> None:
        self._command_id = None
        self._command_args = None

    @on(Button.Pressed, "#intake-submit")
    def _submit_pressed(self) -> None:
        self.action_submit()

    @work(group="intake-submit", exit_on_error=False)
    async def send(self, args: dict[str, Any], command_id: str | None = None) -> None:
        button = self.query_one("#intake-submit", Button)
        self.show_problem("Sending to the hub…")
        try:
            result = await self.app.commands.call(  # type: ignore[attr-defined]
                "create_referral", args, command_id=command_id
            )
        except CommandRefused as exc:
            self._forget_command()
            self.show_refusal(exc.message, exc.field)
            return
        except HubUnavailable as exc:
            # Keep the id: the hub may have logged it and only the reply was lost.
            self.show_problem(f"{exc.message} Nothing is lost: submit again.")
            return
        finally:
            button.disabled = False
        self._forget_command()
        referral_id = result.get("referral_id")
        self.app.notify(f"Referral {referral_id} logged", markup=False)
        self.dismiss(referral_id if isinstance(referral_id, int) else None)

    def show_refusal(self, message: str, hub_field: str | None) -> None:
        """The hub said no: say why, beside the field it names, and keep everything."""
        self.show_problem(f"The hub refused: {message} Nothing is lost: fix it, submit again.")
        name = form_field_for(hub_field, ALL_FIELDS)
        if name is not None:
            self.show_error(name, message)
            widget = self.query_one(f"#intake-{name}")
            if not widget.disabled:
                widget.focus()

    def is_dirty(self) -> bool:
        """True if anything was typed or chosen (the priority starts chosen)."""
        return (
            any(value.strip() for value in self.text_values().values())
            or isinstance(self.query_one("#intake-source", Select).value, str)
            or bool(self.query_one("#intake-needs", SelectionList).selected)
        )

    def action_cancel(self) -> None:
        if not self.is_dirty():
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        question = "Discard this referral? What you typed will be lost."
        self.app.push_screen(ConfirmPrompt(question, yes="Discard"), answered)

    @on(Button.Pressed, "#intake-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()
