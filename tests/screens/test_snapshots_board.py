"""SVG snapshots of the board and its help screen: a real desk on a hub frozen at FIXED_NOW
over data seeded at that moment, so every run draws the same screen.

Update with `pytest tests/screens/test_snapshots_board.py --snapshot-update`, then look at
the SVGs under tests/screens/__snapshots__/ before committing them.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from messaging.command_client import CommandClient
from messaging.replica import Replica
from screens.app import DeskApp
from screens.state import row_from_body
from tests.conftest import FixedClock, RunningHub


@pytest.fixture
def board_app(fixed_hub: RunningHub) -> DeskApp:
    """A desk wired to the frozen hub; its sockets open when snap_compare runs it."""
    replica = Replica(
        host=fixed_hub.host,
        port=fixed_hub.port,
        desk_id="desk-1",
        presence={"desk": "desk-1"},
        digest=row_from_body,  # as run_desk makes it
    )
    commands = CommandClient(host=fixed_hub.host, port=fixed_hub.port, actor=1, desk="desk-1")
    return DeskApp(replica, commands, desk_id="desk-1", clock=FixedClock(), actor=1)


def _ready(app: Any) -> bool:
    """The snapshot is in, this desk shows as online, its user is named, the footer is up."""
    return bool(
        app.model.rows
        and len(app.board.order) == len(app.model.rows)
        and "/desk/desk-1" in app.model.desks
        and "Alex Morgan" in app.sub_title
        and app.screen.query("FooterKey")
    )


async def board_loaded(pilot: Pilot[Any]) -> None:
    app = pilot.app
    for _ in range(300):
        if _ready(app):
            break
        await pilot.pause(0.05)
    assert _ready(app), "the board never loaded from the hub"
    for search in app.query(Input):
        search.cursor_blink = False
    await pilot.pause()


def test_board_80x24(snap_compare: Any, board_app: DeskApp) -> None:
    assert snap_compare(board_app, terminal_size=(80, 24), run_before=board_loaded)


def test_board_160x48(snap_compare: Any, board_app: DeskApp) -> None:
    assert snap_compare(board_app, terminal_size=(160, 48), run_before=board_loaded)


def test_board_filtered_by_team_and_status(snap_compare: Any, board_app: DeskApp) -> None:
    # t t: needs community nursing; s s: triaged
    assert snap_compare(
        board_app, press=["t", "t", "s", "s"], terminal_size=(80, 24), run_before=board_loaded
    )


def test_board_searched_by_postcode(snap_compare: Any, board_app: DeskApp) -> None:
    press = ["slash", "l", "e", "1", "8", "enter"]
    assert snap_compare(board_app, press=press, terminal_size=(80, 24), run_before=board_loaded)


def test_help_screen(snap_compare: Any, board_app: DeskApp) -> None:
    assert snap_compare(
        board_app, press=["question_mark"], terminal_size=(80, 24), run_before=board_loaded
    )
