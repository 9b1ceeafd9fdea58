"""The alerts strip on the board: one line while any alert waits for acknowledgement.

Also the alerts as rows read from the replica, which the strip counts and the alerts screen
(`screens.alerts`, loaded when first opened) lists."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.text import Text
from textual.widgets import Static

from messaging.protocol import ALERT
from models.enums import AlertKind
from models.text import clean_text

# Exact colours, as on the board: ANSI names shift in 16-colour terminals (red turns magenta).
BREACH_STYLE = "bold #ffffff on #d70000"
DUE_SOON_STYLE = "bold #ffd700"


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
