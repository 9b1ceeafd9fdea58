"""Plain-terminal output for the scriptable client (rich tables; user text never markup)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table
from rich.text import Text

from models.clock import clock_state, describe_time_left, time_left
from models.enums import ClockState, ReferralStatus
from models.nhs import format_nhs_number


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def print_referrals(referrals: list[dict[str, Any]], *, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    table = Table(title=plural(len(referrals), "referral"), title_justify="left")
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


def _local(value: str | None, tz: ZoneInfo) -> str:
    return datetime.fromisoformat(value).astimezone(tz).strftime("%H:%M") if value else "-"


def print_handover(body: dict[str, Any], *, tz: ZoneInfo | None = None) -> None:
    """A shift handover as a printable page: open referrals, clocks at risk, visits planned in
    the next shift, alerts nobody has acknowledged."""
    tz = tz or ZoneInfo(body.get("timezone") or "Europe/London")
    console = Console()
    at = datetime.fromisoformat(body["at"]).astimezone(tz)
    console.print(Text(f"{body['label']} — {at:%A %d %B %Y, %H:%M %Z}", style="bold"))
    by_status = ", ".join(
        f"{n} {ReferralStatus(s).label}" for s, n in sorted(body.get("by_status", {}).items())
    )
    console.print(
        Text(f"{body['open_referrals']} open referrals" + (f" ({by_status})" if by_status else ""))
    )

    risk = Table(title="Clocks at risk", title_justify="left")
    for column in ("Referral", "Name", "Clock", "Due"):
        risk.add_column(column)
    for r in body.get("at_risk", []):
        risk.add_row(
            str(r["referral_id"]),
            Text(r["name"]),
            ClockState(r["clock"]).label,
            _local(r["due_at"], tz),
        )
    console.print(risk if body.get("at_risk") else Text("No clocks at risk."))

    visits = Table(title="Visits planned for the next shift", title_justify="left")
    for column in ("Time", "Name", "Staff", "Status"):
        visits.add_column(column)
    for v in body.get("visits_next_shift", []):
        staff = ", ".join(s["name"] for s in v.get("staff", []) if s)
        visits.add_row(_local(v["planned_at"], tz), Text(v["name"]), Text(staff), v["status"])
    console.print(visits if body.get("visits_next_shift") else Text("No visits planned."))

    alerts = Table(title="Alerts not acknowledged", title_justify="left")
    for column in ("Referral", "Alert"):
        alerts.add_column(column)
    for a in body.get("unacknowledged_alerts", []):
        alerts.add_row(str(a["referral_id"]), Text(a["message"]))
    console.print(alerts if body.get("unacknowledged_alerts") else Text("No alerts waiting."))


def print_staff(staff: list[dict[str, Any]], *, tz: ZoneInfo | None = None) -> None:
    tz = tz or ZoneInfo("Europe/London")
    table = Table(title=f"{len(staff)} staff", title_justify="left")  # "staff" is its own plural
    for column in ("Id", "Name", "Team", "Role", "Status", "Shift"):
        table.add_column(column)
    for person in staff:
        starts, ends = person.get("shift_starts_at"), person.get("shift_ends_at")
        shift = f"{_local(starts, tz)}-{_local(ends, tz)}" if starts else "-"
        table.add_row(
            str(person["id"]),
            Text(person["name"]),
            person["team"],
            person["role"],
            str(person["status"]).replace("_", " "),
            shift,
        )
    Console().print(table)
