"""The alerts screen: every live alert, to read and acknowledge. The hub raises and
withdraws alerts; the desk only shows them and sends acknowledgements.

The strip on the board and the alerts as rows are in `screens.widgets.alert_strip`: a desk
starts with those, and loads this screen (and Textual's DataTable) when it is first opened."""

from __future__ import annotations

from typing import ClassVar
from zoneinfo import ZoneInfo

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from messaging.command_client import CommandRefused, HubUnavailable
from models.enums import AlertKind
from models.text import clean_text
from screens.widgets.alert_strip import BREACH_STYLE, DUE_SOON_STYLE, alert_row, alert_rows

LONDON = ZoneInfo("Europe/London")

REVIEW_STYLE = "bold #d787ff"
KIND_WORDS = {
    AlertKind.DUE_SOON: ("DUE SOON", DUE_SOON_STYLE),
    AlertKind.BREACH: ("BREACHED", BREACH_STYLE),
    AlertKind.CRISIS_REVIEW_DUE: ("REVIEW DUE", REVIEW_STYLE),
    AlertKind.CRISIS_WINDOW_ENDED: ("72H ENDED", REVIEW_STYLE),
}


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
