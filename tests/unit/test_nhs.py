"""NHS numbers: modulus 11, normalising, 3-3-4 display, the 999 test range."""

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from models.errors import ValidationError
from models.nhs import (
    format_nhs_number,
    is_test_range,
    is_valid_nhs_number,
    nhs_check_digit,
    normalise_nhs_number,
)

nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9)


def _complete(prefix: str) -> str:
    check = nhs_check_digit(prefix)
    assume(check is not None)
    return prefix + str(check)


@pytest.mark.parametrize(
    ("prefix", "check"),
    [
        ("943476591", 9),  # 9434765919, a published test number
        ("999111111", 5),
        ("999987654", 4),
        ("999000005", 0),  # 11 - 0 = 11 becomes 0
        ("999123456", None),  # 11 - 1 = 10: no valid number starts like this
        ("999000000", None),
    ],
)
def test_check_digit_known_values(prefix, check):
    assert nhs_check_digit(prefix) == check


@pytest.mark.parametrize("bad", ["", "12345678", "1234567890", "12345678a", "١٢٣٤٥٦٧٨٩"])
def test_check_digit_needs_nine_ascii_digits(bad):
    with pytest.raises(ValueError, match="nine digits"):
        nhs_check_digit(bad)


@pytest.mark.parametrize(
    "typed",
    ["9434765919", "943 476 5919", "943-476-5919", " 999 111 1115 ", "999 1111115", "9990000050"],
)
def test_valid_numbers_accepted_with_separators(typed):
    assert is_valid_nhs_number(typed)
    assert normalise_nhs_number(typed) == typed.replace(" ", "").replace("-", "")


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "NHS number is empty"),
        ("   ", "NHS number is empty"),
        ("999 111 111", "must have 10 digits, not 9"),
        ("99911111150", "must have 10 digits, not 11"),
        ("999 111 111O", "only digits"),
        ("999/111/1115", "only digits"),
        ("999 111 1116", "NHS number 999 111 1116 fails its check digit"),
        ("999 123 4567", "NHS number 999 123 4567 fails its check digit"),  # check would be 10
    ],
)
def test_invalid_numbers_say_what_is_wrong(typed, message):
    with pytest.raises(ValidationError, match=message) as caught:
        normalise_nhs_number(typed)
    assert caught.value.field == "nhs_number"
    assert not is_valid_nhs_number(typed)


def test_format_is_three_three_four():
    assert format_nhs_number("9991111115") == "999 111 1115"
    assert format_nhs_number("999-111-1115") == "999 111 1115"


@pytest.mark.parametrize("bad", ["", "999111111", "999111111X", "99911111150"])
def test_format_rejects_wrong_shape(bad):
    with pytest.raises(ValidationError):
        format_nhs_number(bad)


def test_test_range():
    assert is_test_range("9991111115")
    assert is_test_range("999 111 1115")
    assert not is_test_range("9434765919")


@given(nine_digits)
def test_every_completed_prefix_is_valid(prefix):
    assert is_valid_nhs_number(_complete(prefix))


@given(nine_digits, st.integers(min_value=0, max_value=9), st.integers(min_value=1, max_value=9))
def test_changing_any_one_digit_makes_it_invalid(prefix, position, delta):
    number = _complete(prefix)
    changed_digit = str((int(number[position]) + delta) % 10)
    changed = number[:position] + changed_digit + number[position + 1 :]
    assert not is_valid_nhs_number(changed)


@given(nine_digits, st.sampled_from(["", " ", "-"]))
def test_format_and_normalise_round_trip(prefix, separator):
    number = _complete(prefix)
    shown = format_nhs_number(number)
    assert normalise_nhs_number(shown) == number
    assert format_nhs_number(normalise_nhs_number(shown)) == shown
    typed = separator.join([number[:3], number[3:6], number[6:]])
    assert normalise_nhs_number(typed) == number
