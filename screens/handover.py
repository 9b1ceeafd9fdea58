"""The shift handover on the desk: the latest one the hub built (or one built now)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from messaging.command_client import CommandRefused, HubUnavailable
from messaging.protocol import CURRENT_HANDOVER
from models.enums import ClockState
from models.text import clean_text

HANDOVER_KEY = CURRENT_HANDOVER


def _hhmm(value: str | None, tz: ZoneInfo) -> str:
    return datetime.fromisoformat(value).astimezone(tz).strftime("%H:%M") if value else "-"


def render_handover(body: dict[str, Any]) -> Group:
    """The handover as rich renderables; every name and message is plain Text."""
    tz = ZoneInfo(body.get("timezone") or "Europe/London")
    at = datetime.fromisoformat(body["at"]).astimezone(tz)
    parts: list[Any] = [
        Text(f"{clean_text(body.get('label', 'Handover'))} — {at:%a %d %b, %H:%M}", style="bold"),
        Text(f"{body.get('open_referrals', 0)} open referrals"),
    ]
    risk = Table(title="Clocks at risk", title_justify="left", expand=True)
    for column in ("Name", "Clock", "Due"):
        risk.add_column(column)
    for r in body.get("at_risk", []):
        state = ClockState(r["clock"])
        style = "bold red" if state == ClockState.BREACHED else "bold yellow"
        risk.add_row(
            Text(clean_text(r["name"])), Text(state.label, style=style), _hhmm(r["due_at"], tz)
        )
    parts.append(risk if body.get("at_risk") else Text("No clocks at risk."))
    visits = Table(title="Visits next shift", title_justify="left", expand=True)
    for column in ("Time", "Name", "Staff"):
        visits.add_column(column)
    for v in body.get("visits_next_shift", []):
        staff = ", ".join(clean_text(s["name"]) for s in v.get("staff", []) if s)
        visits.add_row(_hhmm(v["planned_at"], tz), Text(clean_text(v["name"])), Text(staff))
    parts.append(visits if body.get("visits_next_shift") else Text("No visits planned."))
    waiting = body.get("unacknowledged_alerts", [])
    parts.append(Text(f"{len(waiting)} alert(s) not acknowledged", style="bold" if waiting else ""))
    parts.extend(Text("  " + clean_text(a["message"])) for a in waiting)
    return Group(*parts)


class HandoverScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="handover.back"),
        Binding("b", "build_now", "Build now", id="handover.build_now"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text("Loading the handover…"), id="handover-body")
        yield Footer()

    async def on_mount(self) -> None:
        body = self.app.replica.data.get(HANDOVER_KEY)  # type: ignore[attr-defined]
        if body:
            self.show(body)
        else:
            await self.action_build_now()

    shown: dict[str, Any] | None = None

    def show(self, body: dict[str, Any]) -> None:
        self.shown = body
        self.query_one("#handover-body", Static).update(render_handover(body))

    async def action_build_now(self) -> None:
        try:
            body = await self.app.commands.call("get_handover", {"build_now": True})  # type: ignore[attr-defined]
        except (CommandRefused, HubUnavailable) as exc:
            message = getattr(exc, "message", str(exc))
            self.query_one("#handover-body", Static).update(Text(f"No handover: {message}"))
            return
        self.show(body)
