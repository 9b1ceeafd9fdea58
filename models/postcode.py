"""UK postcodes: validate and normalise what people type, and find the district of a postcode.

The format follows the UK government's data standard: an outward code (A9, A99, AA9, AA99,
A9A or AA9A), a single space, and an inward code (9AA); plus the special GIR 0AA.
"""

from __future__ import annotations

import re

from models.errors import ValidationError

_FIELD = "postcode"
_WHITESPACE = re.compile(r"\s+")
# Compact form (no space), upper case. The second letter of a two-letter area is never I or Z.
_POSTCODE = re.compile(r"(?:[A-Z][A-HJ-Y]?[0-9][A-Z0-9]?[0-9][A-Z]{2}|GIR0AA)")
_EXAMPLE = "LE1 5WW"


def normalise_postcode(value: str) -> str:
    """A UK postcode in any case and spacing, as "LE1 5WW" (outward, one space, inward).

    Raises ValidationError (field "postcode") with a message saying what is wrong.
    """
    compact = _WHITESPACE.sub("", value)
    if not compact:
        raise ValidationError("Postcode is empty", field=_FIELD)
    if not (compact.isascii() and compact.isalnum()):
        raise ValidationError(
            f"A postcode has only letters and digits, like {_EXAMPLE}", field=_FIELD
        )
    compact = compact.upper()
    if _POSTCODE.fullmatch(compact) is None:
        shown = compact if len(compact) <= 10 else compact[:10] + "..."
        raise ValidationError(
            f"{shown} is not a valid UK postcode (expected something like {_EXAMPLE})",
            field=_FIELD,
        )
    return f"{compact[:-3]} {compact[-3:]}"


def is_valid_postcode(value: str) -> bool:
    """True if `value` is a valid UK postcode in any case and spacing."""
    try:
        normalise_postcode(value)
    except ValidationError:
        return False
    return True


def postcode_district(postcode: str) -> str:
    """The outward code (postcode district) of a postcode, e.g. "le1 5ww" -> "LE1".

    Used to match referrals to staff patches. Raises ValidationError if the postcode is
    not valid.
    """
    return normalise_postcode(postcode).split(" ", 1)[0]
