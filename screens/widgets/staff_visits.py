"""A referral's live visits with the people on each and their live status, and keys to move
a visit on: set off, arrived, complete, cancel. The people on one visit move together (the
hub changes them all in one command). A visit planned for later is shown as planned until
someone sets off: it is never shown as on the way before that."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from messaging.protocol import STAFF, VISIT
from models.enums import VisitStatus
from models.text import clean_text
from screens.state import parse_time
from screens.widgets.staff_picker import STATUS_STYLES, hhmm, status_words

VISIT_STYLES: dict[str, str] = {
    VisitStatus.PLANNED: "bold",
    VisitStatus.TRAVELLING: "bold cyan",
    VisitStatus.ARRIVED: "bold magenta",
}


@dataclass(frozen=True)
class VisitPerson:
    id: int
    name: str
    team: str


@dataclass(frozen=True)
class VisitRow:
    key: str
    id: int
    version: int
    status: str
    words: str  # "planned for 14:00", "on the way (set off 10:02)", "arrived 10:20"
    people: tuple[VisitPerson, ...]


def _words(body: Mapping[str, Any]) -> str:
    status = body.get("status")
    planned = parse_time(body.get("planned_at"))
    when = hhmm(planned) if planned else "?"
    if status == VisitStatus.TRAVELLING:
        set_off = parse_time(body.get("set_off_at"))
        return f"on the way (set off {hhmm(set_off)})" if set_off else "on the way"
    if status == VisitStatus.ARRIVED:
        arrived = parse_time(body.get("arrived_at"))
        return f"arrived {hhmm(arrived)}" if arrived else "arrived"
    if status == VisitStatus.PLANNED:
        return f"planned for {when}"
    return clean_text(str(status)).replace("_", " ")


def visit_rows(data: Mapping[str, Any], referral_id: int) -> list[VisitRow]:
    """The live visits of one referral in the replica, earliest first."""
    found = []
    for key in data:
        body = data[key] if key.startswith(VISIT) else None  # a scan of keys: see ReplicaData
        if not isinstance(body, Mapping):
            continue
        try:
            if int(body["referral_id"]) != referral_id:
                continue
            people = tuple(
                VisitPerson(int(p["id"]), clean_text(str(p["name"])), clean_text(str(p["team"])))
                for p in body.get("staff") or ()
            )
            row = VisitRow(
                key,
                int(body["id"]),
                int(body["version"]),
                str(body["status"]),
                _words(body),
                people,
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
        found.append((str(body.get("planned_at") or ""), row.id, row))
    return [row for _, _, row in sorted(found)]


def staff_statuses(data: Mapping[str, Any]) -> dict[int, str]:
    """Each staff member's live status, from the replica's /staff/ bodies."""
    statuses = {}
    for key in data:
        body = data[key] if key.startswith(STAFF) else None  # a scan of keys: see ReplicaData
        if isinstance(body, Mapping):
            try:
                statuses[int(body["id"])] = clean_text(str(body["status"]))
            except (KeyError, TypeError, ValueError):
                continue
    return statuses


def visit_prompt(row: VisitRow, statuses: Mapping[int, str]) -> Text:
    text = Text(row.words, style=VISIT_STYLES.get(row.status, ""))
    for index, person in enumerate(row.people):
        text.append(": " if index == 0 else ", ")
        text.append(f"{person.name} ({person.team}) ")
        status = statuses.get(person.id, "")
        text.append(status_words(status), style=STATUS_STYLES.get(status, ""))
    return text


class VisitList(OptionList):
    """The referral's live visits; the keys act on the one under the cursor."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "act('set_off')", "Set off", id="assign.set_off"),
        Binding("r", "act('record_arrival')", "Arrived", id="assign.arrived"),
        Binding("c", "act('complete_visit')", "Complete", id="assign.complete"),
        Binding("x", "act('cancel_visit')", "Cancel visit", id="assign.cancel"),
    ]

    @dataclass
    class ActionRequested(Message):
        """The user asked for `command` on a visit (as the replica had it)."""

        command: str
        visit: VisitRow

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[VisitRow] = []

    def show(self, rows: list[VisitRow], statuses: Mapping[int, str]) -> None:
        keep = self.highlighted_option.id if self.highlighted_option else None
        self.rows = rows
        self.set_options(Option(visit_prompt(row, statuses), id=row.key) for row in rows)
        if not rows:
            self.add_option(Option(Text("No visits planned yet", style="dim"), disabled=True))
        elif keep in {row.key for row in rows}:
            self.highlighted = self.get_option_index(keep)  # type: ignore[arg-type]
        else:
            self.highlighted = 0

    def action_act(self, command: str) -> None:
        option = self.highlighted_option
        for row in self.rows:
            if option is not None and row.key == option.id:
                self.post_message(self.ActionRequested(command, row))
