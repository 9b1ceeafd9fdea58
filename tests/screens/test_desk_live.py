"""The desk against a real hub process (the `hub` fixture): what a user sees on the board."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from textual.pilot import Pilot

from messaging.command_client import CommandClient
from messaging.protocol import REFERRAL
from messaging.replica import Replica
from models.nhs import format_nhs_number, nhs_check_digit
from screens.app import DeskApp
from screens.state import BoardModel, row_from_body
from screens.widgets.board import ReferralBoard
from screens.widgets.status_bar import HubStatusBar
from tests.conftest import FixedClock
from tests.screens.desk_helpers import screen_text

SIZE = (80, 24)


def unused_nhs_number(serial: int) -> str:
    """A valid NHS number in the 999 test range, from 999 9xx xxxx: the seeded patients use
    999 0xx xxxx to 999 4xx xxxx, so a number made here belongs to no one yet."""
    while True:
        nine = f"9999{serial:05d}"
        check = nhs_check_digit(nine)
        if check is not None:
            return f"{nine}{check}"
        serial += 1


def referral_args(name: str, nhs_number: str | None = None, **overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "patient": {"name": name, "nhs_number": nhs_number, "postcode": "LE1 5WW"},
        "source": "gp",
        "reason": "fall at home",
        "needs": ["CRT", "NUR"],
        "priority": "crisis",
    }
    return args | overrides


@pytest.fixture
async def desk_parts(hub: Any) -> AsyncIterator[tuple[Replica, CommandClient]]:
    replica = Replica(
        host=hub.host,
        port=hub.port,
        desk_id="desk-test",
        presence={"desk": "desk-test", "staff": "Test Desk"},
        silence_timeout=1.0,
        digest=row_from_body,  # as run_desk makes it
    )
    commands = CommandClient(host=hub.host, port=hub.port, actor=1, desk="desk-test")
    yield replica, commands
    await replica.close()
    await commands.close()


def status(app: DeskApp) -> str:
    return str(app.query_one(HubStatusBar).render())


async def until(pilot: Pilot, condition: Callable[[], bool], timeout: float = 8.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    assert condition()


def open_referral_keys(app: DeskApp) -> set[str]:
    model = BoardModel()
    model.load(app.replica.data)
    return set(model.rows)


async def test_board_shows_the_snapshot_and_new_referrals_without_a_key_press(
    hub: Any, desk_parts: tuple[Replica, CommandClient]
) -> None:
    replica, commands = desk_parts
    app = DeskApp(replica, commands, desk_id="desk-test", actor_name="Test Desk")
    async with app.run_test(size=SIZE) as pilot:
        board = app.query_one(ReferralBoard)
        await until(pilot, lambda: "hub connected" in status(app))
        await until(pilot, lambda: set(board.order) == open_referral_keys(app))
        assert any(key.startswith(REFERRAL) for key in replica.data), "seed has open referrals"
        assert f"{board.row_count} open" in status(app)

        nhs_number = unused_nhs_number(4242)
        result = await hub.call("create_referral", referral_args("Edna Newcomer", nhs_number))
        key = f"{REFERRAL}{result['referral_id']}"
        await until(pilot, lambda: key in board.order)
        assert str(board.get_cell(key, "name")) == "Edna Newcomer"
        assert str(board.get_cell(key, "nhs")) == format_nhs_number(nhs_number)
        assert str(board.get_cell(key, "needs")) == "CRT NUR"
        assert str(board.get_cell(key, "status")) == "received"
        assert str(board.get_cell(key, "time")).startswith("on track 1h ")
        await until(pilot, lambda: "desk-test" in str(replica.data.get("/desk/desk-test")))
        await until(pilot, lambda: "desk online" in status(app) or "desks online" in status(app))


async def test_rows_are_ordered_by_time_left_with_words_from_a_fixed_clock(
    hub: Any, desk_parts: tuple[Replica, CommandClient]
) -> None:
    replica, commands = desk_parts
    received = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    clock = FixedClock(received + timedelta(minutes=108))
    app = DeskApp(replica, commands, desk_id="desk-test", clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        board = app.query_one(ReferralBoard)
        await until(pilot, lambda: "hub connected" in status(app))
        made = []
        for name, minutes in (("Late Lou", 0), ("Mid Meg", 100), ("Soon Sid", 50)):
            args = referral_args(
                name, received_at=(received - timedelta(minutes=minutes)).isoformat()
            )
            result = await hub.call("create_referral", args)
            made.append(f"{REFERRAL}{result['referral_id']}")
        await until(pilot, lambda: all(key in board.order for key in made))
        late, mid, soon = made
        # 80 columns: the short words ("left" and "ago" come back from about 107 columns)
        assert str(board.get_cell(late, "time")) == "due soon 12m"
        assert str(board.get_cell(soon, "time")) == "BREACHED 38m"
        assert str(board.get_cell(mid, "time")) == "BREACHED 1h 28m"
        order = board.order
        assert order.index(mid) < order.index(soon) < order.index(late)
        expected = [row.key for row in app.model.ordered(clock())]
        assert order == expected
        assert [str(board.get_row_at(i)[1]) for i in range(3)] == [
            str(board.get_cell(key, "name")) for key in order[:3]
        ]


async def test_markup_and_escapes_in_a_name_show_literally(
    hub: Any, desk_parts: tuple[Replica, CommandClient]
) -> None:
    replica, commands = desk_parts
    app = DeskApp(replica, commands, desk_id="desk-test")
    async with app.run_test(size=(120, 24)) as pilot:
        board = app.query_one(ReferralBoard)
        await until(pilot, lambda: "hub connected" in status(app))
        name = "[b]x[/b] [TODO] [@click=app.quit]y\x1b[31m"
        result = await hub.call("create_referral", referral_args(name))
        key = f"{REFERRAL}{result['referral_id']}"
        await until(pilot, lambda: key in board.order)
        assert str(board.get_cell(key, "name")) == "[b]x[/b] [TODO] [@click=app.quit]y"
        board.move_cursor(row=board.get_row_index(key))
        await pilot.pause()
        await pilot.press("enter")  # opens the referral's detail, the name shown in full
        await until(pilot, lambda: "Referral " in screen_text(app))
        assert app.is_running
        detail = screen_text(app)
        assert "[b]x[/b] [TODO] [@click=app.quit]y" in detail
        assert "\x1b" not in detail
        await pilot.press("escape")
        await pilot.pause()
        shown = screen_text(app)
        assert "[b]x[/b] [TODO] [@c" in shown  # cut short with "…" where the column ends
        assert "\x1b" not in shown


async def test_a_silent_hub_shows_resyncing_in_the_status_bar(
    hub: Any, desk_parts: tuple[Replica, CommandClient]
) -> None:
    replica, commands = desk_parts
    app = DeskApp(replica, commands, desk_id="desk-test")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "hub connected" in status(app))
        hub.stop()
        await until(pilot, lambda: "resyncing…" in status(app))
        assert "hub silent" in status(app) or "unreachable" in status(app)
        assert app.is_running
