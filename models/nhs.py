"""NHS numbers: the modulus 11 check digit, normalising what people type, and 3-3-4 display.

An NHS number is ten digits; the tenth is a check digit computed from the first nine. Demo
and test data use only the 999 range (`is_test_range`).
"""

from __future__ import annotations

import re

from models.errors import ValidationError

_FIELD = "nhs_number"
_SEPARATORS = re.compile(r"[\s\-]+")
_WEIGHTS = range(10, 1, -1)  # 10, 9, ..., 2 for the first nine digits


def _is_ascii_digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


def _compact(value: str) -> str:
    """`value` without spaces or hyphens (what people put between the 3-3-4 groups)."""
    return _SEPARATORS.sub("", value)


def nhs_check_digit(nine_digits: str) -> int | None:
    """The check digit for the first nine digits of an NHS number, or None if there is none.

    Modulus 11: multiply the digits by 10, 9, ..., 2, sum, and take 11 minus the remainder
    on division by 11. A result of 11 becomes 0; a result of 10 means no valid NHS number
    starts with these nine digits, and None is returned.

    Raises ValueError unless `nine_digits` is exactly nine ASCII digits.
    """
    if len(nine_digits) != 9 or not _is_ascii_digits(nine_digits):
        raise ValueError(f"expected nine digits, got {nine_digits!r}")
    total = sum(int(digit) * weight for digit, weight in zip(nine_digits, _WEIGHTS, strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def normalise_nhs_number(value: str) -> str:
    """The ten digits of an NHS number typed as e.g. "999 123 4567", "999-123-4567" or "9991234567".

    Spaces and hyphens are ignored. Raises ValidationError (field "nhs_number") naming what
    is wrong: empty, not only digits, not ten digits, or a failed check digit.
    """
    digits = _compact(value)
    if not digits:
        raise ValidationError("NHS number is empty", field=_FIELD)
    if not _is_ascii_digits(digits):
        raise ValidationError(
            "NHS number must contain only digits (spaces or hyphens between groups are fine)",
            field=_FIELD,
        )
    if len(digits) != 10:
        raise ValidationError(
            f"NHS number must have 10 digits, not {len(digits)}",
            field=_FIELD,
        )
    if nhs_check_digit(digits[:9]) != int(digits[9]):
        raise ValidationError(
            f"NHS number {format_nhs_number(digits)} fails its check digit",
            field=_FIELD,
        )
    return digits


def is_valid_nhs_number(value: str) -> bool:
    """True if `value` is a valid NHS number (spaces or hyphens between groups allowed)."""
    try:
        normalise_nhs_number(value)
    except ValidationError:
        return False
    return True


def format_nhs_number(digits: str) -> str:
    """Ten digits shown as 3-3-4, e.g. "9991234567" -> "999 123 4567".

    Only the shape is checked, not the check digit (use `normalise_nhs_number` for that).
    Raises ValidationError (field "nhs_number") unless `digits` is ten digits once spaces
    and hyphens are ignored.
    """
    compact = _compact(digits)
    if len(compact) != 10 or not _is_ascii_digits(compact):
        raise ValidationError("NHS number must have 10 digits", field=_FIELD)
    return f"{compact[:3]} {compact[3:6]} {compact[6:]}"


def is_test_range(digits: str) -> bool:
    """True if the NHS number is in the 999 test range (the only range demo data may use)."""
    return _compact(digits).startswith("999")
