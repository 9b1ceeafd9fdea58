"""A long board: the keys and the mouse move the cursor through 300 referrals, the screen
shows the rows under it, and a change repaints only the lines it touches.

A real DeskApp on a real Replica, fed by our real hub server class (HubSockets) in-process
with 300 open referrals, most urgent first in the order they were made.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from textual.geometry import Region
from textual.pilot import Pilot

from hub.ports import find_free_base_port
from messaging.command_client import CommandClient
from messaging.envelope import CommandEnvelope, Reply
from messaging.hub_sockets import HubSockets
from messaging.kvmsg import KVMsg
from messaging.replica import Replica
from screens.app import DeskApp
from screens.detail import ReferralDetailScreen
from screens.widgets.board import ReferralBoard
from tests.conftest import FixedClock
from tests.screens.desk_helpers import NOW, loaded, referral_body, screen_text, until

OPEN = 300
SIZE = (80, 24)
ROWS_SHOWN = 19
"""At 80x24 the board is 20 lines: its header and 19 rows (header, filter bar, status bar
and footer take the other four)."""


def name(index: int) -> str:
    return f"Patient {index:03d}"


async def _refuse(envelope: CommandEnvelope) -> Reply:
    return Reply.failure(envelope.id, "bad_request", "this hub takes no commands")


def _message(ident: int, sequence: int, received_at: datetime | None = None) -> KVMsg:
    # 20 s apart, the first due first: the board's order is the order they were made
    received_at = received_at or NOW - timedelta(minutes=119) + timedelta(seconds=20 * ident)
    body = referral_body(ident, name=name(ident), received_at=received_at)
    return KVMsg.from_json(f"/referral/{ident}", sequence, body)


@pytest.fixture
async def long_hub() -> AsyncIterator[HubSockets]:
    sockets = HubSockets(port=find_free_base_port(), on_command=_refuse, heartbeat_interval=0.2)
    sockets.load([_message(ident, ident + 1) for ident in range(OPEN)], OPEN)
    await sockets.start()
    yield sockets
    await sockets.stop()


@pytest.fixture
def app(long_hub: HubSockets) -> DeskApp:
    port = long_hub.ports.snapshot
    replica = Replica(port=port, desk_id="desk-test", presence={"desk": "desk-test"})
    commands = CommandClient(port=port, actor=1, desk="desk-test")
    return DeskApp(replica, commands, desk_id="desk-test", clock=FixedClock())


def board_lines(app: DeskApp) -> list[str]:
    """The board's part of the screen, one string per line, header first."""
    board = app.board
    top = board.region.y
    return screen_text(app).splitlines()[top : top + board.region.height]


def cursor_line(board: ReferralBoard) -> str:
    """The text of the line drawn in the cursor's colours."""
    cursor = board.get_component_rich_style("board--cursor").bgcolor
    for y in range(1, board.size.height):
        strip = board.render_line(y)
        if any(segment.style and segment.style.bgcolor == cursor for segment in strip):
            return strip.text
    return ""


async def test_the_keys_move_the_cursor_and_the_screen_follows_it(app: DeskApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        board = await loaded(pilot, app)
        assert board.order == [f"/referral/{ident}" for ident in range(OPEN)]
        lines = board_lines(app)
        assert lines[0].split()[:3] == ["Time", "left", "Name"]
        assert len(lines) == 1 + ROWS_SHOWN
        assert all(name(i) in line for i, line in enumerate(lines[1:]))
        assert name(0) in cursor_line(board)

        await pilot.press("pagedown")
        assert board.cursor_row == ROWS_SHOWN
        lines = board_lines(app)
        assert "Time left" in lines[0], "the header stays put"
        assert name(ROWS_SHOWN) in lines[1]
        assert name(2 * ROWS_SHOWN - 1) in lines[-1]
        assert not any(name(0) in line for line in lines)
        assert name(ROWS_SHOWN) in cursor_line(board)

        await pilot.press("end")
        assert board.cursor_row == OPEN - 1
        assert board.selected_key == f"/referral/{OPEN - 1}"
        lines = board_lines(app)
        assert name(OPEN - 1) in lines[-1]
        assert name(OPEN - ROWS_SHOWN) in lines[1]
        assert name(OPEN - 1) in cursor_line(board)

        await pilot.press("pageup")
        assert board.cursor_row == OPEN - 1 - ROWS_SHOWN
        assert name(OPEN - 1 - ROWS_SHOWN) in cursor_line(board)

        await pilot.press("home")
        assert board.cursor_row == 0
        assert name(0) in board_lines(app)[1]

        await pilot.press(*["down"] * 25)
        assert board.cursor_row == 25
        lines = board_lines(app)
        assert name(25) in lines[-1], "the cursor's row stays on screen"
        assert name(25) in cursor_line(board)
        await pilot.press("up")
        assert board.selected_key == "/referral/24"

        await pilot.press("ctrl+end", "ctrl+home", "up", "pageup")
        assert board.cursor_row == 0
        assert name(0) in board_lines(app)[1]


async def test_the_cursor_stays_on_its_referral_when_rows_reorder(
    app: DeskApp, long_hub: HubSockets
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        board = await loaded(pilot, app)
        await pilot.press(*["down"] * 5)
        assert board.selected_key == "/referral/5"
        # referral 200 turns out to have come in earlier: the most urgent, it moves to
        # the top, above the cursor
        earlier = _message(200, long_hub.sequence + 1, NOW - timedelta(minutes=150))
        await long_hub.publish([earlier])
        await until(pilot, lambda: board.order[0] == "/referral/200")
        assert board.selected_key == "/referral/5"
        assert board.cursor_row == 6
        assert name(5) in cursor_line(board)
        assert "BREACHED 30m" in board_lines(app)[1]


async def test_a_click_moves_the_cursor_and_a_second_click_opens_the_referral(
    app: DeskApp,
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        board = await loaded(pilot, app)
        await pilot.click(ReferralBoard, offset=(30, 4))  # the fourth row, under the header
        assert board.cursor_row == 3
        assert name(3) in cursor_line(board)
        await pilot.click(ReferralBoard, offset=(30, 0))  # the header: nothing happens
        assert board.cursor_row == 3
        await pilot.click(ReferralBoard, offset=(30, 4))
        await until(pilot, lambda: isinstance(app.screen, ReferralDetailScreen))


async def _settled(pilot: Pilot[Any], board: ReferralBoard) -> None:
    await pilot.pause()
    await until(pilot, lambda: not board._repaint_regions)


async def test_a_change_repaints_only_the_line_it_shows_on(app: DeskApp) -> None:
    """The slow link's budget: one changed referral on screen repaints its own line, one
    off screen repaints nothing. `_repaint_regions` is Textual's own record of what a
    widget will send on the next screen update (Textual is pinned exactly)."""
    async with app.run_test(size=SIZE) as pilot:
        board = await loaded(pilot, app)
        rows = dict(app.model.rows)
        width = board.size.width

        await _settled(pilot, board)
        key = board.order[3]
        rows[key] = replace(rows[key], status_words="triaged")
        board.show_rows(rows.values())
        assert board._repaint_regions == {Region(0, 4, width, 1)}
        await pilot.pause()
        assert "triaged" in board_lines(app)[4]

        await _settled(pilot, board)
        key = board.order[200]
        rows[key] = replace(rows[key], status_words="triaged")
        board.show_rows(rows.values())
        assert not board._repaint_regions
        assert str(board.get_cell(key, "status")) == "triaged"

        await _settled(pilot, board)
        board.action_cursor_down()
        assert {region.y for region in board._repaint_regions} == {1, 2}, "old and new row"
