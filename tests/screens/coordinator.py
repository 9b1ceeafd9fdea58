"""Helpers for the intake and referral-detail tests: waiting, typing, reading the screen.

Nothing here stands in for our own parts: the tests drive real desks on a real hub.
"""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from models.nhs import nhs_check_digit
from screens.widgets.board import ReferralBoard
from tests.screens.desk_helpers import screen_text, until

SIZE = (80, 24)


async def type_text(pilot: Pilot[Any], text: str) -> None:
    """Type into whatever has focus, one key at a time, as a person would."""
    await pilot.press(*text)


async def board_ready(pilot: Pilot[Any]) -> ReferralBoard:
    """The board once the snapshot has filled it."""
    app = pilot.app
    board = app.query_one(ReferralBoard)
    await until(pilot, lambda: board.row_count > 0)
    return board


def nhs_number(serial: int, *, valid: bool = True) -> str:
    """A 999-range NHS number no seeded patient has (999 9xx xxxx); or, with `valid=False`,
    one whose check digit is wrong."""
    while True:
        nine = f"9999{serial:05d}"
        check = nhs_check_digit(nine)
        if check is not None:
            return f"{nine}{check if valid else (check + 1) % 10}"
        serial += 1


def field(app: Any, name: str) -> Input:
    return app.screen.query_one(f"#intake-{name}", Input)


def error_beside(app: Any, name: str) -> str:
    """The message shown beside one intake field ("" if none is shown)."""
    error = app.screen.query_one(f"#intake-{name}-error")
    return str(error.render()) if error.display and error.has_class("-shown") else ""


def shown(app: Any) -> str:
    """What the user reads on the screen now."""
    return screen_text(app)
