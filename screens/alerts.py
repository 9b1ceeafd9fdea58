"""Alerts on the desk: a strip on the board while any wait, notifications as they arrive,
and a screen to read and acknowledge them. The hub raises and withdraws alerts; the desk
only shows them and sends acknowledgements."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from messaging.command_client import CommandRefused, HubUnavailable
from messaging.protocol import ALERT
from models.enums import AlertKind
from models.text import clean_text

LONDON = ZoneInfo("Europe/London")

# Exact colours, as on the board: ANSI names shift in 16-colour terminals (red turns magenta).
BREACH_STYLE = "bold #ffffff on #d70000"
DUE_SOON_STYLE = "bold #ffd700"
REVIEW_STYLE = "bold #d787ff"
KIND_WORDS = {
    AlertKind.DUE_SOON: ("DUE SOON", DUE_SOON_STYLE),
    AlertKind.BREACH: ("BREACHED", BREACH_STYLE),
    AlertKind.CRISIS_REVIEW_DUE: ("REVIEW DUE", REVIEW_STYLE),
    AlertKind.CRISIS_WINDOW_ENDED: ("72H ENDED", REVIEW_STYLE),
}


@dataclass(frozen=True)
class AlertRow:
    key: str
    id: int
    version: int
    kind: AlertKind
    raised_at: datetime
    name: str
    message: str
    acknowledged_by: str | None

    @property
    def waiting(self) -> bool:
        return self.acknowledged_by is None


def alert_row(key: str, body: Mapping[str, Any]) -> AlertRow | None:
    """An alert body as a row, or None if it is not one we can show."""
    try:
        by = body.get("acknowledged_by") or None
        return AlertRow(
            key=key,
            id=int(body["id"]),
            version=int(body["version"]),
            kind=AlertKind(body["kind"]),
            raised_at=datetime.fromisoformat(body["raised_at"]),
            name=clean_text(str(body.get("patient_name", ""))),
            message=clean_text(str(body.get("message", ""))),
            acknowledged_by=clean_text(str(by.get("name", "someone"))) if by else None,
        )
    except (KeyError, TypeError, ValueError):
        return None


def alert_rows(data: Mapping[str, Mapping[str, Any]]) -> list[AlertRow]:
    """Live alerts, waiting ones first, newest first within each. Scans the keys and reads
    only the alerts' bodies (a replica parses a referral's each time it is read)."""
    rows = [r for k in data if k.startswith(ALERT) and (r := alert_row(k, data[k]))]
    return sorted(rows, key=lambda r: (not r.waiting, -r.raised_at.timestamp(), r.id))


def strip_text(rows: list[AlertRow]) -> Text:
    waiting = [r for r in rows if r.waiting]
    if not waiting:
        return Text("")
    breaches = sum(r.kind == AlertKind.BREACH for r in waiting)
    text = Text("⚠ ", style=BREACH_STYLE if breaches else DUE_SOON_STYLE)
    text.append(f"{len(waiting)} alert{'s' if len(waiting) != 1 else ''} not acknowledged")
    if breaches:
        text.append(f" ({breaches} breached)", style=BREACH_STYLE)
    text.append(" — press ! to see them")
    return text


class AlertStrip(Static):
    """One line on the board while any alert waits for acknowledgement."""


class AlertsChanged(Message):
    """The replica's alerts changed; screens showing them re-read the replica."""


class AlertsScreen(Screen[None]):
    """Every live alert; acknowledge the one under the cursor with k or Enter."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="alerts.back"),
        Binding("k", "acknowledge", "Acknowledge", id="alerts.acknowledge"),
        Binding("enter", "acknowledge", "Acknowledge", show=False, id="alerts.acknowledge_enter"),
    ]

    def compose(self) -> ComposeResult:
        yield Static(Text("Alerts", style="bold"), id="alerts-title")
        yield DataTable(id="alerts-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="alerts-message")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Raised", "Alert", "Name", "Acknowledged", "Message")
        self.show_alerts()

    def on_alerts_changed(self, _: AlertsChanged) -> None:
        self.show_alerts()

    def show_alerts(self) -> None:
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        for row in alert_rows(self.app.replica.data):  # type: ignore[attr-defined]
            words, style = KIND_WORDS[row.kind]
            table.add_row(
                Text(row.raised_at.astimezone(LONDON).strftime("%H:%M")),
                Text(words, style=style),
                Text(row.name),
                Text(row.acknowledged_by or "waiting", style="" if row.acknowledged_by else "bold"),
                Text(row.message),
                key=row.key,
            )
        if table.row_count:
            table.move_cursor(row=min(keep, table.row_count - 1))

    async def action_acknowledge(self) -> None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        row = alert_row(key or "", self.app.replica.data.get(key or "", {}))  # type: ignore[attr-defined]
        note = self.query_one("#alerts-message", Static)
        if row is None:
            return
        if not row.waiting:
            note.update(Text(f"Already acknowledged by {row.acknowledged_by}."))
            return
        try:
            await self.app.commands.call(  # type: ignore[attr-defined]
                "acknowledge_alert", {"alert_id": row.id, "version": row.version}
            )
        except CommandRefused as exc:
            note.update(Text(f"Not acknowledged: {clean_text(exc.message)}", style=BREACH_STYLE))
            return
        except HubUnavailable:
            note.update(Text("The hub did not answer; try again.", style=BREACH_STYLE))
            return
        note.update(Text(f"Acknowledged: {row.name}."))
