"""Cleaning user text (names, notes, reasons) on the way in.

Terminal control sequences and control characters are removed so that no user text can
move the cursor, retitle a window, plant a hyperlink or reorder what is shown. Text that
looks like markup (square brackets) is kept verbatim: it is rendered as plain text later,
never stripped or escaped here.
"""

from __future__ import annotations

import re
import unicodedata

from models.errors import ValidationError

# String sequences: OSC, DCS, SOS, PM, APC (7-bit ESC ] P X ^ _ or 8-bit C1), up to BEL or ST.
_STRING_SEQUENCE = r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"
# CSI (ESC [ or 8-bit 0x9B): parameter bytes, intermediate bytes, one final byte.
_CSI = r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
# Any other escape sequence: ESC, intermediate bytes, one final byte (e.g. ESC c, ESC ( B).
# An unterminated string sequence or CSI loses only its introducer here; what follows it
# is kept as ordinary text.
_OTHER_ESCAPE = r"\x1b[ -/]*[0-~]"
_ESCAPE_SEQUENCE = re.compile(f"{_STRING_SEQUENCE}|{_CSI}|{_OTHER_ESCAPE}")

_LINE_BREAK = re.compile(r"\r\n|[\r\u2028\u2029]")
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_REMOVED_CATEGORIES = frozenset({"Cc", "Cs"})  # control characters and lone surrogates


def _keep(char: str, multiline: bool) -> bool:
    if char == "\n":
        return multiline
    if char in _BIDI_CONTROLS:
        return False
    return unicodedata.category(char) not in _REMOVED_CATEGORIES


def clean_text(
    value: str,
    *,
    multiline: bool = False,
    max_length: int | None = None,
    field: str | None = None,
) -> str:
    """User text made safe to store, send and show in a terminal.

    - Removes terminal control sequences entirely (ESC, CSI, OSC, DCS, SOS, PM and APC,
      in 7-bit and 8-bit C1 forms), every other C0/C1 control character, lone surrogates
      and the Unicode bidi embedding, override and isolate characters (U+202A-202E,
      U+2066-2069).
    - Line breaks (CR LF, CR, LF, U+2028, U+2029) become "\\n" if `multiline`, otherwise a
      space; a tab becomes a space.
    - Strips outer whitespace. Square brackets and markup-looking text are kept verbatim.

    Raises ValidationError (with `field`, if given) when the cleaned text is longer than
    `max_length`. The result is idempotent: cleaning it again changes nothing.
    """
    # Nothing removed or replaced below is printable (control characters, escapes, line
    # breaks, tabs, bidi controls, lone surrogates), so printable text only loses its outer
    # spaces. Most text is like that, and a desk cleans thousands of fields as it starts.
    printable = isinstance(value, str) and value.isprintable()
    text = value.strip() if printable else _clean(value, multiline)
    if max_length is not None and len(text) > max_length:
        what = f"{field.replace('_', ' ').capitalize()} is" if field else "Text is"
        raise ValidationError(
            f"{what} too long: {len(text)} characters (at most {max_length})", field=field
        )
    return text


def _clean(value: str, multiline: bool) -> str:
    text = _ESCAPE_SEQUENCE.sub("", value)
    text = _LINE_BREAK.sub("\n", text).replace("\t", " ")
    if not multiline:
        text = text.replace("\n", " ")
    return "".join(char for char in text if _keep(char, multiline)).strip()
