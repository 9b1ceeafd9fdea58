"""Cleaning user text: no control sequences, no control characters, markup kept verbatim."""

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.errors import ValidationError
from models.text import clean_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Mrs Jones  ", "Mrs Jones"),
        ("\x1b[31mred\x1b[0m alert", "red alert"),  # CSI colour
        ("a\x1b[2J\x1b[Hb", "ab"),  # clear screen, cursor home
        ("\x9b31mred", "red"),  # 8-bit CSI
        ("\x1b]0;pwned\x07title", "title"),  # OSC window title, BEL
        ("\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\", "click"),  # OSC 8 link, ST
        ("\x9d0;pwned\x9cok", "ok"),  # 8-bit OSC and ST
        ("\x1bPq#0;2;0;0;0\x1b\\x", "x"),  # DCS (sixel)
        ("\x90dcs\x9cx", "x"),  # 8-bit DCS
        ("\x1b_apc\x1b\\x", "x"),  # APC
        ("\x1bcreset", "reset"),  # RIS: ESC c
        ("\x1b(Bx", "x"),  # charset designation
        ("\x1b]unterminated", "unterminated"),  # introducer only; text kept
        ("trailing\x1b", "trailing"),
        ("nul\x00bel\x07del\x7fnel\x85", "nulbeldelnel"),
        ("a\tb", "a b"),
        ("a\nb", "a b"),
        ("a\r\nb", "a b"),
        ("evil\u202e\u2066txt.exe\u2069\u202c", "eviltxt.exe"),
        ("[/b] [TODO] [@click=app.quit]x[/]", "[/b] [TODO] [@click=app.quit]x[/]"),
        ("café — naïve 😀", "café — naïve 😀"),
        ("\u200bzero width stays", "\u200bzero width stays"),
        ("lone \ud800 surrogate", "lone  surrogate"),
    ],
)
def test_single_line(raw, expected):
    assert clean_text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("line one\nline two", "line one\nline two"),
        ("windows\r\nmac\rend", "windows\nmac\nend"),
        ("para\u2029next\u2028line", "para\nnext\nline"),
        ("\n\n  padded  \n\n", "padded"),
        ("a\x1b[1Ab\n\x1b[31mc", "ab\nc"),
        ("tab\there\nx", "tab here\nx"),
    ],
)
def test_multiline(raw, expected):
    assert clean_text(raw, multiline=True) == expected


def test_max_length_counts_the_cleaned_text():
    assert clean_text("  abc  ", max_length=3) == "abc"
    assert clean_text("\x1b[31mabc\x1b[0m", max_length=3) == "abc"
    with pytest.raises(ValidationError, match=r"^Text is too long: 4 characters \(at most 3\)$"):
        clean_text("abcd", max_length=3)


def test_max_length_names_the_field():
    with pytest.raises(ValidationError, match="^Decline reason is too long") as caught:
        clean_text("x" * 11, max_length=10, field="decline_reason")
    assert caught.value.field == "decline_reason"


_SEQUENCE_PIECES = st.sampled_from(
    [
        "\x1b",
        "[",
        "]",
        "\\",
        "\x07",
        "\x9b",
        "\x9c",
        "\x9d",
        "\x90",
        "P",
        "_",
        "31m",
        ";",
        "\n",
        "\r",
        "\t",
        "\u202e",
        "\u2066",
        " ",
        "x",
    ]
)
hostile_text = st.one_of(
    st.text(),
    st.lists(st.one_of(_SEQUENCE_PIECES, st.text(max_size=3)), max_size=30).map("".join),
)


def _bad_chars(text, multiline):
    return [
        ch
        for ch in text
        if (unicodedata.category(ch) == "Cc" and not (multiline and ch == "\n"))
        or ch in "\x1b\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    ]


@given(hostile_text, st.booleans())
def test_output_has_no_control_characters(raw, multiline):
    cleaned = clean_text(raw, multiline=multiline)
    assert _bad_chars(cleaned, multiline) == []
    assert cleaned == cleaned.strip()


@given(hostile_text, st.booleans())
def test_cleaning_is_idempotent(raw, multiline):
    once = clean_text(raw, multiline=multiline)
    assert clean_text(once, multiline=multiline) == once


@given(st.text(alphabet=st.characters(categories=["L", "N", "P", "S", "Zs"])))
def test_ordinary_text_only_loses_outer_whitespace(raw):
    assert clean_text(raw) == raw.strip()
