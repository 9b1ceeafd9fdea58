"""Plain-terminal output for the scriptable client (rich tables; user text never markup)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from models.clock import clock_state, describe_time_left, time_left
from models.enums import ReferralStatus
from models.nhs import format_nhs_number


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def print_referrals(referrals: list[dict[str, Any]], *, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    table = Table(title=f"{len(referrals)} referrals", title_justify="left")
    for column in ("Id", "Name", "NHS no.", "Needs", "Status", "Clock"):
        table.add_column(column)
    for r in referrals:
        patient = r.get("patient") or {}
        due = _when(r.get("due_at"))
        state = clock_state(
            due_at=due,
            responded_at=_when(r.get("responded_at")),
            now=now,
            status=ReferralStatus(r["status"]),
        )
        clock = state.label
        if (
            due is not None
            and r.get("responded_at") is None
            and r["status"] not in ("closed", "declined")
        ):
            clock = f"{state.label}: {describe_time_left(time_left(due, now))}"
        nhs = patient.get("nhs_number")
        table.add_row(
            str(r["id"]),
            Text(patient.get("name", "")),
            format_nhs_number(nhs) if nhs else "unknown",
            " ".join(r.get("needs", [])),
            ReferralStatus(r["status"]).label,
            clock,
        )
    Console().print(table)
