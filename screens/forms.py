"""The intake form's rules, with no Textual in sight: check each field as it is left, build
the `create_referral` arguments, and describe an existing patient in one line.

Every check uses the pure rules in `models` (NHS number, postcode, clean text) and raises
`ValidationError` naming the form field, so the screen can show the message beside it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from models.errors import ValidationError
from models.nhs import format_nhs_number, normalise_nhs_number
from models.postcode import normalise_postcode
from models.text import clean_text

PERSON_FIELDS = (
    "name",
    "date_of_birth",
    "nhs_number",
    "address",
    "postcode",
    "phone",
    "access_notes",
)
"""The person's fields, in the order a phone call gives them."""
REFERRAL_TEXT_FIELDS = ("referrer_name", "referrer_contact", "reason")
TEXT_FIELDS = PERSON_FIELDS + REFERRAL_TEXT_FIELDS

LABELS = {
    "name": "Name",
    "date_of_birth": "Date of birth",
    "nhs_number": "NHS number",
    "address": "Address",
    "postcode": "Postcode",
    "phone": "Phone",
    "access_notes": "Access notes",
    "source": "Source",
    "referrer_name": "Referrer",
    "referrer_contact": "Contact",
    "reason": "Reason",
    "needs": "Needs",
    "priority": "Priority",
}

PLACEHOLDERS = {
    "name": "full name",
    "date_of_birth": "dd/mm/yyyy",
    "nhs_number": "999 123 4567 (if known)",
    "address": "house, street, town",
    "postcode": "LE1 5WW",
    "phone": "number to call",
    "access_notes": "key safe, pets, language…",
    "referrer_name": "who is referring",
    "referrer_contact": "how to call them back",
    "reason": "why they need the hub now",
}
REQUIRED = {"name", "reason", "source", "needs"}
"""Fields the form will not send without."""
_LIMITS = {
    "name": 120,
    "address": 200,
    "phone": 40,
    "access_notes": 1000,
    "referrer_name": 200,
    "referrer_contact": 200,
    "reason": 4000,
}
_REQUIRED = {"name": "The person's name is needed", "reason": "Say why they are referred"}
_DATE_SEPARATORS = re.compile(r"[\s/.\-]+")
_EARLIEST_YEAR = 1890
LONDON = ZoneInfo("Europe/London")


def parse_date_of_birth(text: str, today: date) -> date:
    """A date of birth typed day first ("02/04/1938", "2-4-1938", "02041938") or as ISO
    ("1938-04-02"). Raises ValidationError (field "date_of_birth") saying what is wrong."""
    value = text.strip()
    parts = [part for part in _DATE_SEPARATORS.split(value) if part]
    if len(parts) == 1 and len(parts[0]) == 8 and parts[0].isdigit():
        digits = parts[0]
        parts = [digits[:2], digits[2:4], digits[4:]]
    if len(parts) != 3 or not all(part.isascii() and part.isdigit() for part in parts):
        raise ValidationError(
            "Type the date of birth as day/month/year, like 02/04/1938", field="date_of_birth"
        )
    if len(parts[0]) == 4:
        parts = [parts[2], parts[1], parts[0]]
    day, month, year = parts
    if len(year) != 4:
        raise ValidationError("Give the year in full, like 1938", field="date_of_birth")
    try:
        born = date(int(year), int(month), int(day))
    except ValueError:
        raise ValidationError(
            f"{value} is not a date (day/month/year)", field="date_of_birth"
        ) from None
    if born > today:
        raise ValidationError("The date of birth is in the future", field="date_of_birth")
    if born.year < _EARLIEST_YEAR:
        raise ValidationError("The date of birth is not a plausible date", field="date_of_birth")
    return born


def check_field(name: str, raw: str, today: date) -> str:
    """The value to send for one text field ("" when left empty and allowed).

    Raises ValidationError naming `name` when the value is not acceptable."""
    multiline = name in ("access_notes", "reason")
    value = clean_text(raw, multiline=multiline, max_length=_LIMITS.get(name), field=name)
    if not value:
        if name in _REQUIRED:
            raise ValidationError(_REQUIRED[name], field=name)
        return ""
    if name == "nhs_number":
        return normalise_nhs_number(value)
    if name == "postcode":
        return normalise_postcode(value)
    if name == "date_of_birth":
        return parse_date_of_birth(value, today).isoformat()
    return value


def check_fields(
    values: Mapping[str, str], names: Iterable[str], today: date
) -> tuple[dict[str, str], dict[str, str]]:
    """Check several fields: (the values to send, the error message of each bad field)."""
    good: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name in names:
        try:
            good[name] = check_field(name, values.get(name, ""), today)
        except ValidationError as exc:
            errors[name] = exc.message
    return good, errors


def referral_args(
    values: Mapping[str, str],
    *,
    source: str,
    needs: Iterable[str],
    priority: str,
    patient_id: int | None = None,
) -> dict[str, Any]:
    """The `create_referral` arguments from checked values; with `patient_id` the person's
    details are not sent again (the hub already knows them)."""
    args: dict[str, Any] = {
        "source": source,
        "referrer_name": values.get("referrer_name", ""),
        "referrer_contact": values.get("referrer_contact", ""),
        "reason": values.get("reason", ""),
        "needs": list(dict.fromkeys(needs)),
        "priority": priority,
    }
    if patient_id is not None:
        return {"patient_id": patient_id} | args
    patient = {name: values.get(name, "") for name in PERSON_FIELDS}
    patient["nhs_number"] = patient["nhs_number"] or None  # type: ignore[assignment]
    patient["date_of_birth"] = patient["date_of_birth"] or None  # type: ignore[assignment]
    return {"patient": patient} | args


def lookup_query(values: Mapping[str, str]) -> dict[str, str] | None:
    """What to ask `find_patient` with checked person values: the NHS number if there is
    one, else the name and date of birth together; None if neither is known yet."""
    if values.get("nhs_number"):
        return {"nhs_number": values["nhs_number"]}
    if values.get("name") and values.get("date_of_birth"):
        return {"name": values["name"], "date_of_birth": values["date_of_birth"]}
    return None


def _text(value: object) -> str:
    return clean_text(value) if isinstance(value, str) else ""


def uk_date(value: object) -> str:
    """An ISO date from the wire as dd/mm/yyyy ("" if absent or not a date)."""
    try:
        return date.fromisoformat(str(value)).strftime("%d/%m/%Y")
    except ValueError:
        return ""


def nhs_display(value: object) -> str:
    """An NHS number as 3-3-4, or "unknown"."""
    try:
        return format_nhs_number(value) if isinstance(value, str) and value else "unknown"
    except ValidationError:
        return "unknown"


def describe_patient(patient: Mapping[str, Any]) -> str:
    """Who a found patient is, in one cleaned line: "Edna Marsh, 02/04/1938, LE1 5WW"."""
    parts = [
        _text(patient.get("name")) or "(no name)",
        uk_date(patient.get("date_of_birth")),
        _text(patient.get("postcode")),
    ]
    return ", ".join(part for part in parts if part)


def patient_values(patient: Mapping[str, Any]) -> dict[str, str]:
    """A found patient's details as the form shows them (cleaned; dates as dd/mm/yyyy)."""
    values = {name: _text(patient.get(name)) for name in PERSON_FIELDS}
    values["date_of_birth"] = uk_date(patient.get("date_of_birth"))
    values["nhs_number"] = nhs_display(patient.get("nhs_number")).replace("unknown", "")
    return values


def form_field_for(hub_field: str | None, known: Iterable[str]) -> str | None:
    """The form field a hub refusal names ("patient.nhs_number" -> "nhs_number")."""
    if not hub_field:
        return None
    last = hub_field.rsplit(".", 1)[-1]
    if last in ("patient", "patient_id"):
        last = "name"
    return last if last in set(known) else None


def today_from(clock: Callable[[], datetime]) -> date:
    """Today's date in the UK from the desk's clock (an aware datetime)."""
    return clock().astimezone(LONDON).date()
