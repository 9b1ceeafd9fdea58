"""The intake form's pure rules: dates of birth, field checks and the command's arguments."""

from __future__ import annotations

from datetime import date

import pytest

from models.errors import ValidationError
from screens.forms import (
    check_field,
    check_fields,
    describe_patient,
    form_field_for,
    lookup_query,
    parse_date_of_birth,
    referral_args,
)

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    "typed", ["02/04/1938", "2/4/1938", "02-04-1938", "02.04.1938", "02041938", "1938-04-02"]
)
def test_dates_of_birth_are_read_day_first(typed: str) -> None:
    assert parse_date_of_birth(typed, TODAY) == date(1938, 4, 2)


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("31/02/1938", "not a date"),
        ("02/04/38", "year in full"),
        ("tomorrow", "day/month/year"),
        ("24/11/2026", "future"),
        ("01/01/1850", "plausible"),
    ],
)
def test_a_bad_date_of_birth_says_what_is_wrong(typed: str, says: str) -> None:
    with pytest.raises(ValidationError, match=says) as error:
        parse_date_of_birth(typed, TODAY)
    assert error.value.field == "date_of_birth"


def test_fields_are_normalised_or_refused_by_the_pure_rules() -> None:
    assert check_field("postcode", " le1  5ww ", TODAY) == "LE1 5WW"
    assert check_field("nhs_number", "999 000 0018", TODAY) == "9990000018"
    assert check_field("nhs_number", "", TODAY) == ""
    assert check_field("name", " [b]Edna[/b]\x1b[31m ", TODAY) == "[b]Edna[/b]"
    good, errors = check_fields(
        {"name": "", "nhs_number": "999 000 0019", "postcode": "LE1"},
        ("name", "nhs_number", "postcode"),
        TODAY,
    )
    assert good == {}
    assert set(errors) == {"name", "nhs_number", "postcode"}
    assert "check digit" in errors["nhs_number"]


def test_the_arguments_send_the_person_or_only_their_id() -> None:
    values = {"name": "Edna Marsh", "postcode": "LE1 5WW", "reason": "fall", "nhs_number": ""}
    args = referral_args(values, source="gp", needs=["CRT", "CRT", "NUR"], priority="crisis")
    assert args["patient"]["name"] == "Edna Marsh"
    assert args["patient"]["nhs_number"] is None
    assert args["needs"] == ["CRT", "NUR"]
    linked = referral_args(values, source="gp", needs=["CRT"], priority="crisis", patient_id=9)
    assert linked["patient_id"] == 9
    assert "patient" not in linked


def test_lookups_and_hub_fields() -> None:
    assert lookup_query({"nhs_number": "9990000018", "name": "A"}) == {"nhs_number": "9990000018"}
    assert lookup_query({"name": "A", "date_of_birth": "1938-04-02"}) == {
        "name": "A",
        "date_of_birth": "1938-04-02",
    }
    assert lookup_query({"name": "A"}) is None
    assert form_field_for("patient.nhs_number", ["nhs_number"]) == "nhs_number"
    assert form_field_for("patient", ["name"]) == "name"
    assert form_field_for("received_at", ["name"]) is None
    patient = {"name": "Edna Marsh", "date_of_birth": "1938-04-02", "postcode": "LE1 5WW"}
    assert describe_patient(patient) == "Edna Marsh, 02/04/1938, LE1 5WW"
