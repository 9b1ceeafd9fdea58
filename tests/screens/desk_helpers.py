"""Plain helpers for desk tests: what the user reads, waiting for it, and test data.

No stand-ins here: desk tests run a real DeskApp on a real Replica and CommandClient, fed
by a real hub process (tests/conftest.py) or our real HubSockets run in-process.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from rich.console import Console
from textual.pilot import Pilot

from models.nhs import nhs_check_digit
from tests.conftest import FIXED_NOW

NOW = FIXED_NOW


def screen_text(app: Any) -> str:
    """The current screen as plain text, line by line: what the user reads."""
    console = Console(
        width=app.size.width,
        height=app.size.height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text(styles=False)


def status_text(app: Any) -> str:
    from screens.widgets.status_bar import HubStatusBar

    return str(app.query_one(HubStatusBar).render())


async def until(pilot: Pilot[Any], condition: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Wait until `condition()` is truthy and return it; fail after `timeout` seconds."""
    for _ in range(int(timeout / 0.05)):
        if result := condition():
            return result
        await pilot.pause(0.05)
    result = condition()
    assert result, "the desk never showed it"
    return result


async def loaded(pilot: Pilot[Any], app: Any) -> Any:
    """Wait until the desk shows the hub's snapshot, and this desk among those online;
    returns the board."""
    board = app.board
    await until(pilot, lambda: "hub connected" in status_text(app))
    await until(pilot, lambda: app.model.rows and board.row_count == len(app.model.rows))
    await until(pilot, lambda: f"/desk/{app.desk_id}" in app.model.desks)
    return board


def unused_nhs_number(serial: int) -> str:
    """A valid NHS number from 999 9xx xxxx: the seeded patients use 999 0xx to 999 4xx."""
    while True:
        nine = f"9999{serial:05d}"
        check = nhs_check_digit(nine)
        if check is not None:
            return f"{nine}{check}"
        serial += 1


def referral_args(
    name: str,
    *,
    minutes_ago: float,
    nhs_number: str | None = None,
    postcode: str = "LE1 5WW",
    needs: tuple[str, ...] = ("CRT", "NUR"),
    priority: str = "crisis",
) -> dict[str, Any]:
    """Arguments of the hub's create_referral for a referral received `minutes_ago`."""
    return {
        "patient": {"name": name, "nhs_number": nhs_number, "postcode": postcode},
        "source": "gp",
        "reason": "fall at home",
        "needs": list(needs),
        "priority": priority,
        "received_at": (NOW - timedelta(minutes=minutes_ago)).isoformat(),
    }


def referral_body(
    ident: int,
    *,
    name: str = "Edna Example",
    received_at: datetime = NOW - timedelta(minutes=30),
    priority: str = "crisis",
    status: str = "received",
    nhs_number: str | None = "9990000018",
    postcode: str | None = "LE1 5WW",
    needs: tuple[str, ...] = ("CRT", "NUR"),
    staff: tuple[str, ...] = (),
    responded_at: datetime | None = None,
) -> dict[str, Any]:
    """A referral's live body as the hub publishes it (for pure tests and HubSockets)."""
    due_at = received_at + timedelta(hours=2) if priority == "crisis" else None
    return {
        "id": ident,
        "version": 1,
        "status": status,
        "priority": priority,
        "source": "gp",
        "patient": {
            "id": ident,
            "name": name,
            "nhs_number": nhs_number,
            "postcode": postcode,
            "version": 1,
        },
        "reason": "fall at home",
        "needs": list(needs),
        "received_at": received_at.isoformat(),
        "due_at": due_at.isoformat() if due_at else None,
        "responded_at": responded_at.isoformat() if responded_at else None,
        "staff": [{"id": n, "name": s, "team": "CRT"} for n, s in enumerate(staff)],
        "visits": [],
    }
