"""What the referral detail shows, worked out from JSON bodies: pure, no widgets.

Every string from the wire is cleaned and placed in a `Content` object, so a name such as
"[b]x[/b]" is shown as typed and no escape sequence reaches the terminal. Times are shown
in Europe/London, as HH:MM with the date.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from textual.content import Content

from models.enums import Outcome, ReferralSource, TeamCode, VisitStatus
from models.text import clean_text
from screens.forms import LONDON, describe_patient, nhs_display, uk_date
from screens.state import parse_time, row_from_body

LIVE_VISITS = (VisitStatus.PLANNED.value, VisitStatus.TRAVELLING.value)
"""Visits whose arrival can still be recorded."""
LABEL_WIDTH = 10


def text(value: object) -> str:
    """A wire value as one cleaned line ("" if it is not a string)."""
    return clean_text(value) if isinstance(value, str) else ""


def local(value: object) -> datetime | None:
    parsed = parse_time(value)
    return parsed.astimezone(LONDON) if parsed is not None else None


def when(value: object) -> str:
    """An ISO time as "HH:MM dd/mm/yyyy" in London, or "" if absent."""
    at = local(value)
    return at.strftime("%H:%M %d/%m/%Y") if at else ""


def hhmm(value: object) -> str:
    at = local(value)
    return at.strftime("%H:%M") if at else ""


def line(label: str, *parts: str | tuple[str, str]) -> Content:
    """A labelled line: the label in bold, then plain (or styled) parts."""
    return Content.assemble((f"{label:<{LABEL_WIDTH}}", "bold"), *parts)


def who(person: object) -> str:
    if not isinstance(person, Mapping):
        return "someone"
    name = text(person.get("name")) or "someone"
    team = text(person.get("team"))
    return f"{name} ({team})" if team else name


def _label(enum: Any, value: object) -> str:
    try:
        return str(enum(value).label)
    except ValueError:
        return text(value).replace("_", " ")


def needs_words(needs: Iterable[object]) -> str:
    return ", ".join(f"{text(code)} {_label(TeamCode, code)}" for code in needs if text(code))


def title(body: Mapping[str, Any] | None, referral_id: int, now: datetime) -> Content:
    """The line at the top: whose referral, where it is and how its clock stands."""
    if body is None:
        return Content(f"Referral {referral_id}: loading…")
    patient = body.get("patient") or {}
    row = row_from_body(f"/referral/{referral_id}", body)
    clock = row.clock(now).words if row is not None else ""
    status = text(body.get("status")).replace("_", " ") or "unknown"
    return Content.assemble(
        (f"Referral {referral_id}  ", "bold"),
        (text(patient.get("name")) or "(no name)", "bold"),
        f"  {status}",
        ("  " + clock if clock else "", "bold"),
    )


def visit_line(visit: Mapping[str, Any]) -> str:
    staff = ", ".join(who(person) for person in visit.get("staff") or [])
    status = text(visit.get("status")).replace("_", " ")
    arrived = f", arrived {hhmm(visit.get('arrived_at'))}" if visit.get("arrived_at") else ""
    return f"{when(visit.get('planned_at'))} {status}{arrived}: {staff or 'no one yet'}"


def referral_content(
    body: Mapping[str, Any], visits: Iterable[Mapping[str, Any]], now: datetime
) -> Content:
    """Everything about one referral, one labelled line each."""
    patient = body.get("patient") or {}
    row = row_from_body(f"/referral/{body.get('id')}", body)
    clock = row.clock(now).words if row is not None else "unknown"
    due = f" (due {hhmm(body.get('due_at'))})" if body.get("due_at") else ""
    address = ", ".join(
        p for p in (text(patient.get("address")), text(patient.get("postcode"))) if p
    )
    referrer = ", ".join(
        p
        for p in (
            _label(ReferralSource, body.get("source")),
            text(body.get("referrer_name")),
            text(body.get("referrer_contact")),
        )
        if p
    )
    born = uk_date(patient.get("date_of_birth"))
    lines = [
        line("Person", describe_patient(patient) if born else text(patient.get("name"))),
        line("NHS no.", nhs_display(patient.get("nhs_number"))),
        line("Address", address or "-"),
        line("Phone", text(patient.get("phone")) or "-"),
        line("Access", text(patient.get("access_notes")) or "-"),
        line("Referrer", referrer or "-"),
        line("Reason", text(body.get("reason")) or "-"),
        line("Needs", needs_words(body.get("needs") or []) or "-"),
        line(
            "Priority",
            text(body.get("priority")) or "-",
            ("   Status ", "bold"),
            text(body.get("status")).replace("_", " ") or "-",
            ("   Version ", "bold"),
            str(body.get("version", "?")),
        ),
        line("Clock", clock + due),
        line("Received", when(body.get("received_at")) or "-"),
        line("Staff", ", ".join(who(p) for p in body.get("staff") or []) or "-"),
    ]
    for index, visit in enumerate(visits):
        lines.append(line("Visits" if index == 0 else "", visit_line(visit)))
    if body.get("outcome"):
        lines.append(line("Outcome", _label(Outcome, body.get("outcome"))))
    if body.get("decline_reason"):
        lines.append(line("Declined", text(body.get("decline_reason"))))
    return Content("\n").join(lines)


def timeline_content(timeline: Iterable[Mapping[str, Any]]) -> Content:
    """Every event and note in order, under a heading for each day: time, who, desk, what."""
    lines: list[Content] = []
    day = None
    last: tuple[object, str, str] | None = None
    for entry in timeline:
        by = entry.get("by")
        summary = clean_text(str(entry.get("summary") or ""), multiline=True)
        same = (entry.get("at"), who(by) if by else "", summary)
        if same == last:  # one change recorded against the visit and the referral alike
            continue
        last = same
        at = local(entry.get("at"))
        heading = at.strftime("%a %d %b %Y") if at else "unknown time"
        if heading != day:
            day = heading
            lines.append(Content.styled(heading, "bold underline"))
        kind = "note " if entry.get("kind") == "note" else ""
        desk = text(entry.get("desk")) if by else ""  # no one: the hub itself (an alert)
        lines.append(
            Content.assemble(
                (at.strftime("%H:%M") if at else "--:--", "bold"),
                "  ",
                (who(by) if by else "the hub", "italic"),
                (f" at {desk}" if desk else "", "dim"),
                "  ",
                (kind, "bold"),
                summary,
            )
        )
    return Content("\n").join(lines) if lines else Content("No events yet.")
