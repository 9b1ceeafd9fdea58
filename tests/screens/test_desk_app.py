"""The desk as a user sees it: a real DeskApp on a real Replica and CommandClient.

Fed by a real hub process with its clock frozen at FIXED_NOW (`fixed_hub`) or, for what a
hub process cannot easily be made to do (skip a sequence number, fail under the listener),
by our real hub server class, HubSockets, run in-process with messages the test publishes.
"""

from __future__ import annotations

from typing import Any

import pytest
import zmq.asyncio
from textual.binding import Binding

from messaging.command_client import CommandClient, HubUnavailable
from messaging.hub_sockets import HubSockets
from messaging.kvmsg import KVMsg
from messaging.replica import Replica, ReplicaState
from models.nhs import format_nhs_number
from models.text import clean_text
from screens.app import DeskApp
from screens.help import HelpScreen
from screens.messages import (
    HubKeyChanged,
    HubLost,
    HubReachedAgain,
    HubResyncing,
    HubSnapshotApplied,
)
from screens.state import row_from_body
from screens.widgets.board import ReferralBoard
from screens.widgets.board_columns import staff_words
from screens.widgets.board_panel import BoardPanel
from screens.widgets.status_bar import HubStatusBar
from tests.conftest import FixedClock, RunningHub, desk_app
from tests.screens.desk_helpers import (
    NOW,
    loaded,
    referral_args,
    referral_body,
    screen_text,
    status_text,
    until,
    unused_nhs_number,
)

SIZE = (80, 24)


async def create(hub: RunningHub, name: str, **kwargs: Any) -> str:
    result = await hub.call("create_referral", referral_args(name, **kwargs))
    return f"/referral/{result['referral_id']}"


def cells(board: ReferralBoard, key: str) -> list[str]:
    return [str(cell) for cell in board.get_row(key)]


async def test_rows_show_most_urgent_first_in_words_and_all_columns_fit_80x24(
    fixed_hub: RunningHub,
) -> None:
    async with desk_app(fixed_hub) as app, app.run_test(size=SIZE) as pilot:
        board = await loaded(pilot, app)
        nhs = unused_nhs_number(101)
        late = await create(fixed_hub, "Bob Quill", minutes_ago=127, nhs_number=nhs)
        soon = await create(fixed_hub, "Cy Quill", minutes_ago=108)
        early = await create(fixed_hub, "Ada Quill", minutes_ago=10, needs=("MH",))
        await until(pilot, lambda: {late, soon, early} <= set(board.order))

        assert board.order == [row.key for row in app.model.ordered(NOW)]
        assert board.order.index(late) < board.order.index(soon) < board.order.index(early)
        fmt = format_nhs_number(nhs)
        assert cells(board, late) == ["BREACHED 7m", "Bob Quill", fmt, "CRT NUR", "received", "-"]
        assert cells(board, soon)[0::2] == ["due soon 12m", "unknown", "received"]
        assert cells(board, early)[0::3] == ["on track 1h 50m", "MH"]

        counts = app.model.counts(NOW)
        # the board reports its counts to the status bar in a message of its own: let it land
        status = await until(
            pilot, lambda: f"{counts.open} open" in status_text(app) and status_text(app)
        )
        for words in ("hub connected", f"{counts.open} open", "1 desk online"):
            assert words in status
        assert f"{counts.due_soon} due soon" in status
        assert f"{counts.breached} breached" in status
        assert "showing" not in status

        shown = screen_text(app).splitlines()
        heading = next(line for line in shown if "Time left" in line)
        for label in ("Name", "NHS no.", "Needs", "Status", "Staff"):
            assert label in heading, f"{label} is off-screen at 80 columns"
        bob = next(line for line in shown if "Bob Quill" in line)
        assert bob.split() == ["BREACHED", "7m", "Bob", "Quill", *fmt.split(), "CRT", "NUR",
                               "received", "-"]  # fmt: skip
        for row in app.model.rows.values():
            assert board.layout is not None
            staff = staff_words(row.staff, board.layout.widths["staff"])
            assert str(board.get_cell(row.key, "staff")) == staff


async def test_a_wide_terminal_has_the_full_words_and_names(fixed_hub: RunningHub) -> None:
    async with desk_app(fixed_hub) as app, app.run_test(size=(160, 48)) as pilot:
        board = await loaded(pilot, app)
        late = await create(fixed_hub, "Bob Quill", minutes_ago=208)
        await until(pilot, lambda: late in board.order)
        assert str(board.get_cell(late, "time")) == "BREACHED 1h 28m ago"
        staffed = [row for row in app.model.rows.values() if len(row.staff) > 1]
        assert staffed, "the seed has joint visits"
        for row in staffed:
            assert str(board.get_cell(row.key, "staff")) == ", ".join(row.staff)
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: str(board.get_cell(late, "time")) == "BREACHED 1h 28m")
        assert board.order[0] == late
        await pilot.resize_terminal(80, 14)  # too few lines: the scrollbar shows
        await until(pilot, lambda: board.show_vertical_scrollbar)
        await pilot.pause()
        assert board.max_scroll_x == 0, "the columns no longer fit 80 wide"


async def test_a_change_appears_without_a_key_press_and_the_cursor_follows_its_referral(
    fixed_hub: RunningHub,
) -> None:
    async with desk_app(fixed_hub) as app, app.run_test(size=SIZE) as pilot:
        board = await loaded(pilot, app)
        await pilot.press("down", "down")
        selected = board.selected_key
        assert selected == board.order[2]
        new = await create(fixed_hub, "New Crisis", minutes_ago=300)
        await until(pilot, lambda: new in board.order)
        assert board.order[0] == new
        assert board.selected_key == selected
        assert board.cursor_row == 3

        version = app.replica.data[new]["version"]
        await fixed_hub.call(
            "decline_referral",
            {"referral_id": int(new.rsplit("/", 1)[1]), "version": version, "reason": "dup"},
        )
        await until(pilot, lambda: new not in board.order)
        assert board.selected_key == selected
        assert board.cursor_row == 2


async def test_a_change_from_another_desk_shows_in_its_row_alone(fixed_hub: RunningHub) -> None:
    async with desk_app(fixed_hub) as app, app.run_test(size=SIZE) as pilot:
        board = await loaded(pilot, app)
        key = await create(fixed_hub, "Dot Quill", minutes_ago=30)
        await until(pilot, lambda: key in board.order)
        await pilot.pause()
        before = screen_text(app).splitlines()
        args = {"referral_id": int(key.rsplit("/", 1)[1]), "version": 1}
        await fixed_hub.call("triage_referral", args)
        await until(pilot, lambda: str(board.get_cell(key, "status")) == "triaged")
        await pilot.pause()
        after = screen_text(app).splitlines()
        changed = [(old, new) for old, new in zip(before, after, strict=True) if old != new]
        assert len(changed) == 1, "only the triaged referral's line looks different"
        old, new = changed[0]
        assert "Dot Quill" in new
        assert old.replace("received", "triaged ") == new


async def test_the_countdown_runs_from_the_desk_clock_and_reorders(fixed_hub: RunningHub) -> None:
    clock = FixedClock()
    async with desk_app(fixed_hub, clock=clock) as app, app.run_test(size=SIZE) as pilot:
        board = await loaded(pilot, app)
        key = await create(fixed_hub, "Due Quill", minutes_ago=100)
        await until(pilot, lambda: key in board.order)
        assert str(board.get_cell(key, "time")) == "due soon 20m"
        breached = app.model.counts(NOW).breached

        clock.advance(minutes=27)
        board.refresh_clocks()
        now_breached = app.model.counts(clock()).breached
        assert now_breached > breached  # "Due Quill" among them
        await until(pilot, lambda: f"{now_breached} breached" in status_text(app))
        assert str(board.get_cell(key, "time")) == "BREACHED 7m"
        assert board.order == [row.key for row in app.model.ordered(clock())]


async def test_markup_and_escape_sequences_in_names_show_literally(fixed_hub: RunningHub) -> None:
    name = "[b]x[/b] [TODO] [@click=app.quit]y\x1b[31m\x1b]0;owned\x07 [/b]"
    async with desk_app(fixed_hub) as app, app.run_test(size=SIZE) as pilot:
        board = await loaded(pilot, app)
        key = await create(fixed_hub, name, minutes_ago=119)
        await until(pilot, lambda: key in board.order)
        assert str(board.get_cell(key, "name")) == clean_text(name)
        assert str(board.get_cell(key, "name")) == "[b]x[/b] [TODO] [@click=app.quit]y [/b]"
        shown = screen_text(app)
        assert "[b]x[/b] [TODO]…" in shown  # cut to the Name column, markup and all
        assert "\x1b" not in shown
        await pilot.click(ReferralBoard, offset=(24, board.order.index(key) + 1))
        await pilot.pause()
        assert app.is_running


async def test_listener_end_says_lost_and_unmount_closes_clients(fixed_hub: RunningHub) -> None:
    async with desk_app(fixed_hub) as app:
        async with app.run_test(size=SIZE) as pilot:
            await loaded(pilot, app)
            await app.replica.close()
            await until(pilot, lambda: "hub lost (" in status_text(app))
            assert app.status_bar.reason == "the hub connection closed"
            assert app.is_running
        assert app.replica.state is ReplicaState.STOPPED
        with pytest.raises(HubUnavailable, match="closed"):
            await app.commands.call("list_referrals", {})


async def test_header_footer_and_a_help_screen_read_from_the_bindings(
    fixed_hub: RunningHub,
) -> None:
    async with desk_app(fixed_hub) as app, app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        await until(pilot, lambda: "Alex Morgan" in screen_text(app))
        await until(pilot, lambda: "q Quit" in screen_text(app))  # the footer is composed
        shown = screen_text(app)
        assert "Hub Desk" in shown
        assert "desk-test" in shown
        footer = next(line for line in shown.splitlines() if "q Quit" in line)
        for words in ("/ t s o Filter", "q Quit", "? Help"):
            assert words in footer

        app.bind("z", "bell", description="Ring the bell")  # as another screen's key would
        active = [b.binding for b in app.screen.active_bindings.values()]
        await pilot.press("question_mark")
        help_screen = await until(pilot, lambda: isinstance(app.screen, HelpScreen) and app.screen)
        listed = {(line.keys, line.description) for line in help_screen.lines}
        for binding in active:
            if binding.description and not binding.system:
                keys = app.get_key_display(binding)
                said = binding.tooltip or binding.description  # the longer words where given
                assert any(keys in k.split() and d == said for k, d in listed)
        text = screen_text(app)
        for words in ("Hub Desk keys", "Team filter", "Status filter", "Sort order", "Search",
                      "Ring the bell", "Quit", "Help", "Cursor down", "New referral",
                      "Assign a visit"):  # fmt: skip
            assert words in text or any(words == d for _, d in listed)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("q")
    assert app.return_code == 0


# -- our real hub server class in-process: what a hub process does not easily do --------
# (the `hub_sockets` fixture is in tests/screens/conftest.py)


def app_on(sockets: HubSockets, context: zmq.asyncio.Context | None = None) -> DeskApp:
    port = sockets.ports.snapshot
    replica = Replica(
        port=port, desk_id="desk-test", presence={"desk": "desk-test"}, context=context,
        silence_timeout=1.5, digest=row_from_body,  # as run_desk makes it
    )  # fmt: skip
    commands = CommandClient(port=port, actor=1, desk="desk-test", context=context)
    return DeskApp(replica, commands, desk_id="desk-test", clock=FixedClock())


async def test_a_sequence_gap_shows_resyncing_then_the_fresh_snapshot(
    hub_sockets: HubSockets,
) -> None:
    app = app_on(hub_sockets)
    async with app.run_test(size=SIZE) as pilot:
        board = await loaded(pilot, app)
        assert board.row_count == 2
        resyncs: list[str] = []

        def seen(reason: str) -> None:
            resyncs.append(reason)

        app.status_bar.watch(app.status_bar, "reason", seen, init=False)
        body = referral_body(3, name="Cal Third [red]x[/red]")
        skipped = hub_sockets.sequence + 2  # the update before it never arrives
        await hub_sockets.publish([KVMsg.from_json("/referral/3", skipped, body)])
        await until(pilot, lambda: "/referral/3" in board.order)
        assert any(reason.startswith("missed update") for reason in resyncs)
        assert "hub connected" in status_text(app)
        assert str(board.get_cell("/referral/3", "name")) == "Cal Third [red]x[/red]"
        assert "3 open" in status_text(app)


async def test_a_listener_failure_is_shown_not_fatal(hub_sockets: HubSockets) -> None:
    context = zmq.asyncio.Context()
    app = app_on(hub_sockets, context)
    async with app.run_test(size=SIZE) as pilot:
        board = await loaded(pilot, app)
        context.destroy(linger=0)  # every socket of this desk goes at once, under the listener
        await until(pilot, lambda: "hub lost (" in status_text(app))
        reason = app.status_bar.reason
        assert reason.split(":")[0] in {"ZMQError", "ContextTerminated", "ENOTSOCK"}
        assert app.is_running
        assert board.row_count == 2
        assert any(n.title == "The desk stopped hearing the hub" for n in app._notifications)


async def test_hub_news_arriving_as_the_desk_closes_is_dropped_not_a_crash(
    hub_sockets: HubSockets,
) -> None:
    """As a desk closes, its board goes before the hub news already on its way: that news
    has nowhere to go and is dropped (it raised NoMatches, about one close in twelve)."""
    app = app_on(hub_sockets)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        await app.query_one(BoardPanel).remove()
        await app.query_one(HubStatusBar).remove()
        body = referral_body(3, name="Cal Third")
        for message in (
            HubKeyChanged("/referral/3", body),
            HubKeyChanged("/desk/ward-2", {"desk": "ward-2"}),
            HubSnapshotApplied(sequence=9, count=3),
            HubResyncing("missed update 10"),
            HubReachedAgain(),
            HubLost("the hub connection closed"),
        ):
            app.post_message(message)
        await pilot.pause(0.2)
        assert app.is_running
        assert app.return_code is None  # no error ended it


def test_bindings_of_the_desk_have_ids_and_descriptions() -> None:
    from screens.widgets.board_panel import BoardPanel

    for binding in [*DeskApp.BINDINGS, *BoardPanel.BINDINGS, *ReferralBoard.BINDINGS]:
        assert isinstance(binding, Binding)
        assert binding.id
        assert binding.description
