"""The board's columns and what goes in them at a given terminal width. No Textual here.

At 80 columns everything fits: the clock words get shorter ("on track 1h 50m") and staff
become surnames or initials; from about 107 columns the full words and names are back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from screens.state import BoardRow, ClockView

COLUMNS = (
    ("time", "Time left"),
    ("name", "Name"),
    ("nhs", "NHS no."),
    ("needs", "Needs"),
    ("status", "Status"),
    ("staff", "Staff"),
)
"""Column key and heading, left to right."""

CELL_PADDING = 1
"""Spaces on each side of a cell."""
SCROLLBAR = 1
"""Columns kept for the vertical scrollbar (the board's `scrollbar-size-vertical`)."""

_WIDE = {"time": 20, "nhs": 12, "needs": 11, "status": 11}
_NARROW = {"time": 16, "nhs": 12, "needs": 7, "status": 11}
_NAME = (8, 20, 24)  # narrowest, usual, widest
_STAFF_MIN = 5  # two sets of initials: "KM SP"


@dataclass(frozen=True)
class Layout:
    """Content width of each column, and whether the words are the short ones."""

    narrow: bool
    widths: Mapping[str, int]


def layout_for(width: int) -> Layout:
    """The columns for a board `width` cells wide (scrollbar included)."""
    room = width - SCROLLBAR - 2 * CELL_PADDING * len(COLUMNS)
    if room >= sum(_WIDE.values()) + 2 * _NAME[1]:
        rest = room - sum(_WIDE.values())
        name = min(_NAME[2], rest - _NAME[1])
        return Layout(False, {**_WIDE, "name": name, "staff": rest - name})
    rest = room - sum(_NARROW.values())
    name = max(_NAME[0], min(_NAME[1], rest - _STAFF_MIN))
    return Layout(True, {**_NARROW, "name": name, "staff": max(_STAFF_MIN, rest - name)})


def table_width(layout: Layout) -> int:
    """Cells across every column, padding included (the board's width less its scrollbar,
    or more when the terminal is too narrow for the narrowest columns)."""
    return sum(layout.widths.values()) + 2 * CELL_PADDING * len(COLUMNS)


def _surname(name: str) -> str:
    return name.split()[-1]


def _initials(name: str) -> str:
    words = name.split()
    return (words[0][0] + (words[-1][0] if len(words) > 1 else "")).upper()


def staff_words(names: Iterable[str], width: int) -> str:
    """Staff names in `width` cells if they fit, else surnames, else initials ("-": none)."""
    names = [name for name in names if name.split()]
    if not names:
        return "-"
    text = ", ".join(names)
    for shorter in (", ".join(map(_surname, names)), " ".join(map(_initials, names))):
        if len(text) <= width:
            break
        text = shorter
    return text


def clock_words(view: ClockView, layout: Layout) -> str:
    return view.short if layout.narrow else view.words


def text_cells(row: BoardRow, layout: Layout) -> dict[str, str]:
    """The cells of a row that do not depend on the time, as plain strings."""
    return {
        "name": row.name,
        "nhs": row.nhs_number,
        "needs": " ".join(row.needs),
        "status": row.status_words,
        "staff": staff_words(row.staff, layout.widths["staff"]),
    }
