"""Assign a (joint) visit to a referral: pick a time and the people, plan it, move it on.

The hub lists who is on shift and free at the time (`available_staff`) and suggests the
best person from each team the referral needs; the coordinator changes the time or the
people and plans with Enter or ctrl+s. The hub refuses a clash and says why: the screen
shows that plainly and keeps the time and the people picked. Statuses are live: the App
tells this screen when the replica changes, and the lists are redrawn from it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, OptionList, Static

from messaging.command_client import CommandRefused, HubUnavailable
from messaging.protocol import REFERRAL, STAFF, VISIT
from models.text import clean_text
from screens.state import row_from_body
from screens.widgets.board import CLOCK_STYLES
from screens.widgets.staff_picker import LONDON, StaffPicker, hhmm, pick_rows
from screens.widgets.staff_visits import VisitList, staff_statuses, visit_rows

DURATION_MINUTES = 60
TICK_SECONDS = 20.0
_HHMM = re.compile(r"(\d{1,2}):(\d{2})|(\d{2})(\d{2})")
_DONE = {
    "set_off": "set off: on the way",
    "record_arrival": "arrival recorded",
    "complete_visit": "visit completed",
    "cancel_visit": "visit cancelled",
}


def default_time(now: datetime) -> datetime:
    """Now, rounded up to the next 5 minutes, in Europe/London."""
    local = now.astimezone(LONDON)
    base = local.replace(second=0, microsecond=0)
    if base < local:
        base += timedelta(minutes=1)
    return base + timedelta(minutes=-base.minute % 5)


def parse_hhmm(text: str, now: datetime) -> datetime | None:
    """ "14:30" (or "1430", "9:05") as today in Europe/London, or tomorrow if already past;
    None if it is not a time of day."""
    match = _HHMM.fullmatch(text.strip())
    if match is None:
        return None
    hour, minute = (int(g) for g in match.groups() if g is not None)
    if hour > 23 or minute > 59:
        return None
    local = now.astimezone(LONDON)
    when = datetime.combine(local.date(), time(hour, minute), tzinfo=LONDON)
    if when < local.replace(second=0, microsecond=0):
        when = datetime.combine(local.date() + timedelta(days=1), time(hour, minute), LONDON)
    return when


class AssignScreen(Screen[None]):
    """Who goes, and when, for one referral; and its visits, moved on from here."""

    CSS_PATH = "forms.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="assign.back"),
        Binding("ctrl+s", "plan", "Plan visit", id="assign.plan"),
    ]

    def __init__(
        self, referral_key: str, *, replica: Any, commands: Any, clock: Callable[[], datetime]
    ) -> None:
        super().__init__()
        self.referral_key = referral_key
        self.referral_id = int(referral_key.removeprefix(REFERRAL))
        self.replica = replica
        self.commands = commands
        self.clock = clock
        self.planned_at = default_time(clock())
        self.suggested: list[int] = []
        self.follow_suggestion = True  # until the user picks someone themselves
        self.district: str | None = None
        self.busy = False

    @staticmethod
    def shows(key: str) -> bool:
        """True if `key` names a referral ("/referral/<id>")."""
        return key.startswith(REFERRAL) and key.removeprefix(REFERRAL).isdigit()

    def compose(self) -> ComposeResult:
        yield Static(id="assign-title")
        with Horizontal(id="assign-time-row"):
            yield Label("Time (HH:MM) ")
            yield Input(
                hhmm(self.planned_at), max_length=5, restrict=r"[0-9:]*", compact=True,
                id="assign-time",
            )  # fmt: skip
            yield Static(id="assign-when")
        yield StaffPicker(id="assign-staff")
        yield Static(id="assign-picked")
        yield Static(id="assign-message")
        yield VisitList(id="assign-visits")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(StaffPicker).border_title = "Who can go"
        self.query_one(VisitList).border_title = "Visits for this referral"
        self.query_one("#assign-time", Input).cursor_blink = False  # no blink timer
        self.show_when()
        self.follow_replica(None)
        self.query_one(StaffPicker).focus()
        self.set_interval(TICK_SECONDS, self.show_title, name="assign-clock")
        self.query_staff()

    # -- what the replica says --------------------------------------------------------------

    def replica_changed(self, key: str | None) -> None:
        """The App calls this when a key (None: everything) of the replica changed."""
        if self.is_mounted:  # until then, on_mount reads it all
            self.follow_replica(key)

    def follow_replica(self, key: str | None) -> None:
        if key is None or key == self.referral_key:
            self.show_title()
        if key is None or key.startswith((STAFF, VISIT)):
            statuses = staff_statuses(self.replica.data)
            self.query_one(StaffPicker).set_statuses(statuses)
            self.query_one(VisitList).show(
                visit_rows(self.replica.data, self.referral_id), statuses
            )

    def show_title(self) -> None:
        body = self.replica.data.get(self.referral_key)
        row = row_from_body(self.referral_key, body) if isinstance(body, dict) else None
        title = self.query_one("#assign-title", Static)
        if row is None:
            title.update(
                Text("This referral has left the board (closed or declined).", style="bold")
            )
            return
        clock = row.clock(self.clock())
        text = Text.assemble(("Assign visit: ", "bold"), (row.name, "bold"))
        text.append(f"  needs {' '.join(row.needs) or '-'}")
        if self.district:
            text.append(f"  {self.district}")
        text.append(f"  {row.status_words}  ")
        text.append(clock.words, style=CLOCK_STYLES[clock.state])
        title.update(text)

    def show_when(self) -> None:
        today = self.clock().astimezone(LONDON).date()
        day = (
            "today"
            if self.planned_at.date() == today
            else self.planned_at.strftime("tomorrow, %a %d %b")
        )
        self.query_one("#assign-when", Static).update(
            Text(f"  {day}, for {DURATION_MINUTES} minutes")
        )

    def say(self, message: str, error: bool = False) -> None:
        if not self.is_attached:
            return
        style = "bold red" if error else "green"
        self.query_one("#assign-message", Static).update(Text(clean_text(message), style=style))

    # -- asking the hub who can go ----------------------------------------------------------

    @work(exclusive=True, group="assign-query", exit_on_error=False)
    async def query_staff(self) -> None:
        args = {
            "referral_id": self.referral_id,
            "planned_at": self.planned_at.isoformat(),
            "duration_minutes": DURATION_MINUTES,
        }
        try:
            result = await self.commands.call("available_staff", args)
        except CommandRefused as exc:
            self.say(f"Could not list who is free: {exc.message}", error=True)
            return
        except HubUnavailable:
            self.say("The hub did not answer: who is free is not known yet.", error=True)
            return
        if not self.is_attached:  # closed while the hub answered
            return
        picker = self.query_one(StaffPicker)
        self.district = clean_text(str(result.get("district") or "")) or None
        self.suggested = [int(i) for i in result.get("suggested") or []]
        keep = self.suggested if self.follow_suggestion else picker.picked_ids
        needs = [clean_text(str(n)) for n in result.get("needs") or []]
        picker.show(pick_rows(result.get("candidates") or []), needs, keep)
        picker.set_statuses(staff_statuses(self.replica.data))
        self.show_title()

    @on(Input.Changed, "#assign-time")
    def time_changed(self, event: Input.Changed) -> None:
        when = parse_hhmm(event.value, self.clock())
        if when is None:
            if len(event.value) >= 5:
                self.say("Type the time as HH:MM, for example 14:30.", error=True)
            return
        if when != self.planned_at:
            self.planned_at = when
            self.say("")
            self.show_when()
            self.query_staff()

    @on(Input.Submitted, "#assign-time")
    def time_submitted(self, event: Input.Submitted) -> None:
        if parse_hhmm(event.value, self.clock()) is None:
            self.say("Type the time as HH:MM, for example 14:30.", error=True)
        else:
            self.query_one(StaffPicker).focus()

    @on(StaffPicker.PickChanged)
    def picked(self, message: StaffPicker.PickChanged) -> None:
        picker = message.picker
        if message.by_user:
            self.follow_suggestion = False
        names = [f"{picker.rows[i].name} ({picker.rows[i].team})" for i in message.picked]
        if names:
            word = (
                "Suggested"
                if message.picked == self.suggested and self.follow_suggestion
                else "Picked"
            )
            text = Text(f"{word}: {', '.join(names)}. Enter or ^s plans.")
        elif picker.rows and not self.suggested and self.follow_suggestion:
            text = Text("Nobody free from every team needed then: try another time.", style="bold")
        else:
            text = Text("Nobody picked: space picks the person under the cursor.")
        self.query_one("#assign-picked", Static).update(text)

    # -- planning and moving visits on ------------------------------------------------------

    @on(OptionList.OptionSelected, "#assign-staff")
    def enter_pressed(self) -> None:
        self.action_plan()

    def action_plan(self) -> None:
        picker = self.query_one(StaffPicker)
        body = self.replica.data.get(self.referral_key)
        if not picker.picked_ids:
            self.say("Pick who goes first: space picks the person under the cursor.", error=True)
        elif not isinstance(body, dict):
            self.say("This referral is no longer on the board.", error=True)
        elif not self.busy:
            args = {
                "referral_id": self.referral_id,
                "version": body.get("version"),
                "planned_at": self.planned_at.isoformat(),
                "staff_ids": picker.picked_ids,
                "duration_minutes": DURATION_MINUTES,
            }
            names = " and ".join(picker.rows[i].name for i in picker.picked_ids)
            kind = "Joint visit" if len(picker.picked_ids) > 1 else "Visit"
            self.send(
                "plan_visit", args, f"{kind} planned for {hhmm(self.planned_at)} with {names}."
            )

    @on(VisitList.ActionRequested)
    def visit_action(self, message: VisitList.ActionRequested) -> None:
        names = " and ".join(p.name for p in message.visit.people)
        args = {"visit_id": message.visit.id, "version": message.visit.version}
        self.send(message.command, args, f"{names}: {_DONE[message.command]}.")

    @work(group="assign-command", exit_on_error=False)
    async def send(self, command: str, args: dict[str, Any], done: str) -> None:
        if self.busy:
            return
        self.busy = True
        self.say("Sending to the hub…")
        try:
            await self.commands.call(command, args)
        except CommandRefused as exc:
            self.follow_suggestion = False  # keep the people picked, so the clash shows
            self.say(f"Not done: {exc.message}", error=True)
        except HubUnavailable:
            self.say("The hub did not answer: see the visits below before trying again.", True)
        else:
            self.say(done)
            if command == "plan_visit" and self.is_attached:
                self.follow_suggestion = False  # planned: pick afresh for another visit
                self.query_one(StaffPicker).show([], [], [])
        finally:
            self.busy = False
        if self.is_attached:
            self.query_staff()
