"""Who can go on a visit: the staff the hub offers, grouped by team, to pick with space.

Rows come from the hub's `available_staff` reply; each person's status is read live from
the replica's `/staff/<id>` body when there is one. One person per team can be picked:
picking someone else from the same team swaps them in (the hub refuses a team twice).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option, OptionDoesNotExist

from models.enums import StaffStatus, TeamCode
from models.text import clean_text
from screens.state import parse_time

LONDON = ZoneInfo("Europe/London")
NAME_WIDTH = 20
STATUS_STYLES: dict[str, str] = {
    StaffStatus.AVAILABLE: "green",
    StaffStatus.TRAVELLING: "bold cyan",
    StaffStatus.ON_VISIT: "bold magenta",
    StaffStatus.OFF: "dim",
}


def hhmm(when: datetime) -> str:
    return when.astimezone(LONDON).strftime("%H:%M")


def status_words(status: str) -> str:
    try:
        return StaffStatus(status).label
    except ValueError:
        return clean_text(status).replace("_", " ") or "unknown"


def team_label(code: str) -> str:
    try:
        return f"{code} {TeamCode(code).label}"
    except ValueError:
        return code


@dataclass(frozen=True)
class PickRow:
    """One person the hub listed for a visit. Text fields are already cleaned."""

    id: int
    name: str
    team: str
    status: str
    patch: tuple[str, ...]
    in_patch: bool
    eligible: bool
    load_today: int
    why_not: str  # why they cannot go then ("" when eligible)


def _why_not(body: Mapping[str, Any]) -> str:
    if body.get("status") == StaffStatus.OFF:
        return "off"
    if not body.get("on_shift"):
        return "not on shift then"
    booked = body.get("booked") or {}
    start, end = parse_time(booked.get("from")), parse_time(booked.get("to"))
    if start and end:
        return f"booked {hhmm(start)}-{hhmm(end)}"
    return "" if body.get("eligible") else "not free then"


def pick_rows(candidates: Iterable[Any]) -> list[PickRow]:
    """The hub's candidates as rows; a malformed one is skipped."""
    rows = []
    for body in candidates:
        try:
            rows.append(
                PickRow(
                    id=int(body["id"]),
                    name=clean_text(str(body["name"])) or "(no name)",
                    team=clean_text(str(body["team"])),
                    status=clean_text(str(body.get("status", ""))),
                    patch=tuple(clean_text(str(d)) for d in body.get("patch") or ()),
                    in_patch=bool(body.get("in_patch")),
                    eligible=bool(body.get("eligible")),
                    load_today=int(body.get("load_today") or 0),
                    why_not="" if body.get("eligible") else _why_not(body),
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
    return rows


def row_prompt(row: PickRow, *, picked: bool, status: str) -> Text:
    """One person as a line: pick mark, name, live status, visits today, patch."""
    text = Text("[x] " if picked else "[ ] ", style="bold" if picked else "", no_wrap=True)
    name = row.name if len(row.name) <= NAME_WIDTH else row.name[: NAME_WIDTH - 1] + "…"
    text.append(f"{name:<{NAME_WIDTH}} ")
    text.append(f"{status_words(status):<11}", style=STATUS_STYLES.get(status, ""))
    if not row.eligible:
        text.append(f" {row.why_not}", style="bold red")
        return text
    visits = "visit" if row.load_today == 1 else "visits"
    text.append(f" {row.load_today} {visits} today ")
    patch = " ".join(row.patch) or "no patch"
    text.append(patch, style="bold" if row.in_patch else "dim")
    if row.in_patch:
        text.append(" (in patch)", style="green")
    return text


class StaffPicker(OptionList):
    """The staff offered for a visit; space picks, Enter asks for the visit to be planned."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle", "Pick", id="assign.toggle"),
    ]

    @dataclass
    class PickChanged(Message):
        """The people picked changed (their ids, in the order of the teams needed)."""

        picker: StaffPicker
        picked: list[int]
        by_user: bool = False

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: dict[int, PickRow] = {}
        self.needs: list[str] = []
        self.picked: dict[str, int] = {}  # team -> staff id
        self.statuses: dict[int, str] = {}

    @property
    def picked_ids(self) -> list[int]:
        order = {team: i for i, team in enumerate(self.needs)}
        teams = sorted(self.picked, key=lambda t: order.get(t, len(order)))
        return [self.picked[team] for team in teams]

    def show(self, rows: list[PickRow], needs: list[str], picked: Iterable[int]) -> None:
        """List `rows`: the eligible of each needed team, and anyone picked even if not."""
        self.rows = {row.id: row for row in rows}
        self.needs = list(needs)
        self.picked = {}
        for staff_id in picked:
            if (row := self.rows.get(staff_id)) is not None:
                self.picked[row.team] = row.id
        highlighted = self.highlighted_option.id if self.highlighted_option else None
        options: list[Option] = []
        for team in self.needs:
            members = [r for r in rows if r.team == team]
            shown = [r for r in members if r.eligible or self.picked.get(team) == r.id]
            free = sum(r.eligible for r in members)
            heading = Text(f"{team_label(team)}: {free} free of {len(members)}", style="bold")
            options.append(Option(heading, id=f"team-{team}", disabled=True))
            options.extend(Option(self._prompt(r), id=f"staff-{r.id}") for r in shown)
        self.set_options(options)
        ids = [option.id for option in options if not option.disabled]
        if highlighted in ids:
            self.highlighted = self.get_option_index(highlighted)  # type: ignore[arg-type]
        elif ids:
            self.highlighted = self.get_option_index(ids[0])  # type: ignore[arg-type]
        self.post_message(self.PickChanged(self, self.picked_ids))

    def set_statuses(self, statuses: Mapping[int, str]) -> None:
        """Live statuses from the replica; only the changed lines are redrawn."""
        changed = {i for i in self.rows if statuses.get(i) != self.statuses.get(i)}
        self.statuses = dict(statuses)
        for staff_id in changed:
            self._redraw(staff_id)

    def _prompt(self, row: PickRow) -> Text:
        status = self.statuses.get(row.id) or row.status
        return row_prompt(row, picked=self.picked.get(row.team) == row.id, status=status)

    def _redraw(self, staff_id: int) -> None:
        row = self.rows.get(staff_id)
        if row is None:
            return
        with suppress(OptionDoesNotExist):  # not listed (no longer free): nothing to redraw
            self.replace_option_prompt(f"staff-{staff_id}", self._prompt(row))

    def action_toggle(self) -> None:
        option = self.highlighted_option
        if option is None or not (option.id or "").startswith("staff-"):
            return
        row = self.rows[int(option.id.removeprefix("staff-"))]  # type: ignore[union-attr]
        before = self.picked.get(row.team)
        if before == row.id:
            del self.picked[row.team]
        else:
            self.picked[row.team] = row.id
        for staff_id in {before, row.id} - {None}:
            self._redraw(staff_id)  # type: ignore[arg-type]
        self.post_message(self.PickChanged(self, self.picked_ids, by_user=True))
