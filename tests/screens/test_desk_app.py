"""The desk as a user sees it, fed by a stand-in replica the test drives."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from textual.pilot import Pilot

from screens.app import DeskApp
from screens.help import HelpScreen
from screens.widgets.board import ReferralBoard
from screens.widgets.status_bar import HubStatusBar
from tests.screens.desk_fakes import (
    NOW,
    FakeCommands,
    FakeReplica,
    FixedClock,
    referral_body,
    screen_text,
)


def make_app(clock: FixedClock | None = None) -> tuple[DeskApp, FakeReplica, FakeCommands]:
    replica, commands = FakeReplica(), FakeCommands()
    app = DeskApp(
        replica, commands, desk_id="desk-1", actor_name="Ann Coord", clock=clock or FixedClock()
    )
    return app, replica, commands


def cell_texts(board: ReferralBoard) -> list[list[str]]:
    return [[str(cell) for cell in board.get_row_at(i)] for i in range(board.row_count)]


def status_text(app: DeskApp) -> str:
    return str(app.query_one(HubStatusBar).render())


async def until(pilot: Pilot, condition: Callable[[], bool], timeout: float = 3.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    assert condition()


def body_at(ident: int, minutes_ago: float, **kwargs: object) -> dict:
    return referral_body(ident, received_at=NOW - timedelta(minutes=minutes_ago), **kwargs)  # type: ignore[arg-type]


async def test_snapshot_rows_show_most_urgent_first_in_words() -> None:
    app, replica, _ = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        replica.snapshot(
            {
                "/referral/1": body_at(1, 10, name="Ada Early"),
                "/referral/2": body_at(2, 127, name="Bob Late", staff=("Sam Lee",)),
                "/referral/3": body_at(3, 108, name="Cy Soon", nhs_number=None),
                "/desk/desk-1": {"desk": "desk-1"},
            }
        )
        board = app.query_one(ReferralBoard)
        await until(pilot, lambda: board.row_count == 3)
        rows = cell_texts(board)
        assert [r[1] for r in rows] == ["Bob Late", "Cy Soon", "Ada Early"]
        assert rows[0] == [
            "BREACHED 7m ago",
            "Bob Late",
            "999 000 0018",
            "CRT NUR",
            "received",
            "Sam Lee",
        ]
        assert rows[1][0] == "due soon 12m left"
        assert rows[1][2] == "unknown"
        assert rows[2][0] == "on track 1h 50m left"
        status = status_text(app)
        assert "connected" in status
        assert "3 open" in status
        assert "1 due soon" in status
        assert "1 breached" in status
        assert "1 desk online" in status


async def test_a_change_appears_without_a_key_press_and_the_cursor_follows_its_referral() -> None:
    app, replica, _ = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        replica.snapshot({"/referral/1": body_at(1, 10), "/referral/2": body_at(2, 60)})
        board = app.query_one(ReferralBoard)
        await until(pilot, lambda: board.row_count == 2)
        await pilot.press("down")
        assert board.selected_key == "/referral/1"
        replica.change("/referral/3", body_at(3, 115, name="New Crisis"))
        await until(pilot, lambda: board.row_count == 3)
        assert board.order == ["/referral/3", "/referral/2", "/referral/1"]
        assert board.selected_key == "/referral/1"
        assert board.cursor_row == 2
        replica.change("/referral/3", None)
        await until(pilot, lambda: board.row_count == 2)
        assert board.selected_key == "/referral/1"


async def test_only_changed_cells_are_updated() -> None:
    app, replica, _ = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        replica.snapshot({"/referral/1": body_at(1, 10), "/referral/2": body_at(2, 60)})
        board = app.query_one(ReferralBoard)
        await until(pilot, lambda: board.row_count == 2)
        untouched = board.get_cell("/referral/1", "name")
        replica.change("/referral/2", body_at(2, 60, status="triaged", staff=("Sam Lee",)))
        await until(pilot, lambda: str(board.get_cell("/referral/2", "status")) == "triaged")
        assert str(board.get_cell("/referral/2", "staff")) == "Sam Lee"
        assert board.get_cell("/referral/1", "name") is untouched


async def test_countdown_runs_from_the_desk_clock_and_reorders() -> None:
    clock = FixedClock()
    app, replica, _ = make_app(clock)
    async with app.run_test(size=(80, 24)) as pilot:
        replica.snapshot(
            {
                "/referral/1": body_at(1, 100, name="Due First"),  # 20m left
                "/referral/2": body_at(2, 0, priority="urgent", name="No Clock"),
            }
        )
        board = app.query_one(ReferralBoard)
        await until(pilot, lambda: board.row_count == 2)
        assert str(board.get_cell("/referral/1", "time")) == "due soon 20m left"
        clock.advance(minutes=27)
        board.refresh_clocks()
        await pilot.pause()
        assert str(board.get_cell("/referral/1", "time")) == "BREACHED 7m ago"
        assert "1 breached" in status_text(app)
        replica.change("/referral/3", body_at(3, 0, name="Fresh"))
        await until(pilot, lambda: board.row_count == 3)
        assert board.order == ["/referral/1", "/referral/3", "/referral/2"]


async def test_markup_and_escape_sequences_in_names_show_literally() -> None:
    name = "[b]x[/b] [TODO] [@click=app.quit]y\x1b[31m\x1b]0;owned\x07 [/b]"
    app, replica, _ = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        replica.snapshot({"/referral/1": body_at(1, 10, name=name, staff=("[/i]Sam",))})
        board = app.query_one(ReferralBoard)
        await until(pilot, lambda: board.row_count == 1)
        await pilot.pause()
        shown_name = str(board.get_cell("/referral/1", "name"))
        assert shown_name == "[b]x[/b] [TODO] [@click=app.quit]y [/b]"
        assert str(board.get_cell("/referral/1", "staff")) == "[/i]Sam"
        await pilot.click(ReferralBoard, offset=(30, 1))
        assert app.is_running
        shown = screen_text(app)
        assert "[b]x[/b] [TODO] [@c…" in shown  # cut to the Name column, markup and all
        assert "\x1b" not in shown


async def test_resyncing_shows_in_the_status_bar_then_connected_again() -> None:
    app, replica, _ = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        replica.snapshot({})
        await until(pilot, lambda: "connected" in status_text(app))
        replica.resync("gap [red]x[/red]")
        await until(pilot, lambda: "resyncing…" in status_text(app))
        assert "gap [red]x[/red]" in status_text(app)
        replica.snapshot({"/referral/1": body_at(1, 10)})
        await until(pilot, lambda: "connected" in status_text(app))
        assert "1 open" in status_text(app)


async def test_listener_end_says_lost_and_unmount_closes_clients() -> None:
    app, replica, commands = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        replica.end()
        await until(pilot, lambda: "lost" in status_text(app))
    assert replica.closed
    assert commands.closed


async def test_a_listener_failure_is_shown_not_fatal() -> None:
    app, replica, _ = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        replica.snapshot({"/referral/1": body_at(1, 10)})
        await until(pilot, lambda: "hub connected" in status_text(app))
        replica.fail(RuntimeError("socket \x1b[2Jgone [b]"))
        await until(pilot, lambda: "hub lost" in status_text(app))
        assert app.query_one(HubStatusBar).reason == "RuntimeError: socket gone [b]"
        assert "hub lost (RuntimeError: socket go…)" in status_text(app)
        assert app.is_running
        assert app.query_one(ReferralBoard).row_count == 1


async def test_header_footer_and_help() -> None:
    app, _, _ = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        shown = screen_text(app)
        assert "Hub Desk" in shown
        assert "desk-1" in shown
        assert "Ann Coord" in shown
        assert "Quit" in shown
        assert "Help" in shown
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert "Quit" in screen_text(app)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("q")
    assert app.return_code == 0
