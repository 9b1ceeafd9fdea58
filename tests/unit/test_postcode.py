"""UK postcodes: normalising, validating, districts."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.errors import ValidationError
from models.postcode import is_valid_postcode, normalise_postcode, postcode_district


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("LE1 5WW", "LE1 5WW"),
        ("le15ww", "LE1 5WW"),
        ("  le1   5ww ", "LE1 5WW"),
        ("M1 1AE", "M1 1AE"),  # A9 9AA
        ("b338th", "B33 8TH"),  # A99 9AA
        ("CR2 6XH", "CR2 6XH"),  # AA9 9AA
        ("dn551pt", "DN55 1PT"),  # AA99 9AA
        ("W1A 1HQ", "W1A 1HQ"),  # A9A 9AA
        ("ec1a1bb", "EC1A 1BB"),  # AA9A 9AA
        ("gir0aa", "GIR 0AA"),
        ("LE1\t5WW", "LE1 5WW"),
    ],
)
def test_normalises_every_format(typed, expected):
    assert normalise_postcode(typed) == expected
    assert is_valid_postcode(typed)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Postcode is empty"),
        ("   ", "Postcode is empty"),
        ("LE1-5WW", "only letters and digits"),
        ("LE1 5W\x1b", "only letters and digits"),
        ("LE1 5W", "LE15W is not a valid UK postcode"),
        ("12 3AB", "not a valid UK postcode"),
        ("LEE1 5WW", "not a valid UK postcode"),
        ("LE1 WWW", "not a valid UK postcode"),
        ("ZZ1 5WW", "not a valid UK postcode"),  # second letter is never Z
        ("LE1 5WW LE1 5WW", "LE15WWLE15... is not a valid UK postcode"),
    ],
)
def test_rejects_with_clear_message(typed, message):
    with pytest.raises(ValidationError, match=message) as caught:
        normalise_postcode(typed)
    assert caught.value.field == "postcode"
    assert not is_valid_postcode(typed)


def test_district_is_the_outward_code():
    assert postcode_district("le1 5ww") == "LE1"
    assert postcode_district("EC1A 1BB") == "EC1A"
    assert postcode_district("DN551PT") == "DN55"


def test_district_of_invalid_postcode_raises():
    with pytest.raises(ValidationError):
        postcode_district("nowhere")


letter = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
digit = st.sampled_from("0123456789")
outward = st.one_of(
    st.tuples(letter, digit),
    st.tuples(letter, digit, digit),
    st.tuples(letter, st.sampled_from("ABCDEFGHJKLMNOPQRSTUVWXY"), digit),
    st.tuples(letter, st.sampled_from("ABCDEFGHJKLMNOPQRSTUVWXY"), digit, digit),
    st.tuples(letter, digit, letter),
    st.tuples(letter, st.sampled_from("ABCDEFGHJKLMNOPQRSTUVWXY"), digit, letter),
).map("".join)
inward = st.tuples(digit, letter, letter).map("".join)


@given(outward, inward, st.sampled_from(["", " ", "  ", "\t"]), st.booleans())
def test_normalisation_is_idempotent(out, inn, gap, lower):
    typed = out + gap + inn
    if lower:
        typed = typed.lower()
    once = normalise_postcode(typed)
    assert once == f"{out} {inn}"
    assert normalise_postcode(once) == once
    assert postcode_district(once) == out


@given(st.text(max_size=12))
def test_any_text_is_valid_or_a_validation_error(text):
    try:
        result = normalise_postcode(text)
    except ValidationError:
        assert not is_valid_postcode(text)
    else:
        assert normalise_postcode(result) == result
