"""One line saying whether the desk hears the hub, and how the clocks stand."""

from __future__ import annotations

from enum import StrEnum

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from models.text import clean_text
from screens.state import BoardCounts


class Connection(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RESYNCING = "resyncing"
    LOST = "lost"


_CONNECTION_STYLES = {
    Connection.CONNECTING: "bold yellow",
    Connection.CONNECTED: "bold green",
    Connection.RESYNCING: "bold yellow",
    Connection.LOST: "bold red",
}
_CONNECTION_WORDS = {
    Connection.CONNECTING: "connecting to hub…",
    Connection.CONNECTED: "hub connected",
    Connection.RESYNCING: "resyncing…",
    Connection.LOST: "hub lost",
}
_SEPARATOR = ("  ", "")


class HubStatusBar(Widget):
    """Hub connection, open referrals, due soon, breached and desks online, in words.

    The counts are of all open referrals; with a filter on, "showing N of M" says how
    many of them the board shows."""

    connection: reactive[Connection] = reactive(Connection.CONNECTING)
    reason: reactive[str] = reactive("")
    counts: reactive[BoardCounts] = reactive(BoardCounts)
    desks_online: reactive[int] = reactive(0)

    def set_connection(self, connection: Connection, reason: str = "") -> None:
        """Show the hub connection; `reason` (from the wire) is shown as plain text."""
        self.reason = clean_text(reason)
        self.connection = connection

    def render(self) -> Content:
        connection = _CONNECTION_WORDS[self.connection]
        if self.reason and self.connection in (Connection.RESYNCING, Connection.LOST):
            reason = self.reason if len(self.reason) <= 24 else self.reason[:23] + "…"
            connection = f"{connection} ({reason})"
        counts = self.counts
        parts: list[tuple[str, str] | str] = [
            (connection, _CONNECTION_STYLES[self.connection]),
            _SEPARATOR,
            f"{counts.open} open",
            _SEPARATOR,
            (f"{counts.due_soon} due soon", "bold yellow" if counts.due_soon else ""),
            _SEPARATOR,
            (f"{counts.breached} breached", "bold red" if counts.breached else ""),
        ]
        if counts.shown is not None:
            parts += [_SEPARATOR, (f"showing {counts.shown} of {counts.open}", "reverse")]
        desks = "1 desk online" if self.desks_online == 1 else f"{self.desks_online} desks online"
        line = Content.assemble(*parts, _SEPARATOR, desks)
        if line.cell_length > self.size.width:  # 80 columns: keep the counts, shorten this
            line = Content.assemble(*parts, _SEPARATOR, f"{self.desks_online} desks")
        return line
