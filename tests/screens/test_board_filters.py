"""Filtering, searching and ordering the board from the keyboard, against a frozen hub."""

from __future__ import annotations

from textual.widgets import Input

from models.enums import ReferralStatus, TeamCode
from models.nhs import format_nhs_number
from screens.app import DeskApp
from screens.board_view import BoardView, SortOrder
from screens.widgets.filter_bar import FilterBar
from tests.conftest import RunningHub, desk_app
from tests.screens.desk_helpers import (
    NOW,
    loaded,
    referral_args,
    screen_text,
    status_text,
    until,
    unused_nhs_number,
)

SIZE = (80, 24)


def summary(app: DeskApp) -> str:
    return str(app.query_one("#filter-summary").render())


def expected(app: DeskApp, view: BoardView) -> list[str]:
    return [row.key for row in view.rows(app.model.rows.values(), NOW)]


async def test_team_and_status_keys_filter_and_the_counts_stay_those_of_all_open(
    fixed_hub: RunningHub,
) -> None:
    async with desk_app(fixed_hub) as app, app.run_test(size=SIZE) as pilot:
        board = await loaded(pilot, app)
        counts = app.model.counts(NOW)
        everything = board.order

        await pilot.press("t")
        crt = expected(app, BoardView(team=TeamCode.CRISIS_RESPONSE))
        assert 0 < len(crt) < len(everything)
        await until(pilot, lambda: board.order == crt)
        assert all("CRT" in str(board.get_cell(key, "needs")) for key in crt)
        assert "t Team: CRT" in summary(app)
        showing = f"showing {len(crt)} of {counts.open}"
        await until(pilot, lambda: showing in status_text(app))
        status = status_text(app)
        assert f"{counts.open} open" in status  # the counts are still of all open referrals
        assert f"{counts.due_soon} due soon" in status
        assert f"{counts.breached} breached" in status

        await pilot.press("s")
        view = BoardView(team=TeamCode.CRISIS_RESPONSE, status=ReferralStatus.RECEIVED)
        await until(pilot, lambda: board.order == expected(app, view))
        assert "s Status: received" in summary(app)
        assert all(str(board.get_cell(key, "status")) == "received" for key in board.order)

        await pilot.press("escape")
        await until(pilot, lambda: board.order == everything)
        assert "showing" not in status_text(app)
        assert "Team: all" in summary(app)
        assert "Status: all" in summary(app)


async def test_the_sort_key_cycles_and_says_so_on_screen(fixed_hub: RunningHub) -> None:
    async with desk_app(fixed_hub) as app, app.run_test(size=SIZE) as pilot:
        board = await loaded(pilot, app)
        assert "o Sort: time left" in screen_text(app)
        for sort in (SortOrder.RECEIVED, SortOrder.STATUS, SortOrder.TIME_LEFT):
            await pilot.press("o")
            await until(pilot, lambda sort=sort: f"o Sort: {sort.value}" in screen_text(app))
            assert board.order == expected(app, BoardView(sort=sort))
            assert "showing" not in status_text(app)  # an order hides nothing
        newest_first = expected(app, BoardView(SortOrder.RECEIVED))
        received = [app.model.rows[key].received_at for key in newest_first]
        assert received == sorted(received, reverse=True)  # type: ignore[type-var]


async def test_search_by_name_nhs_number_with_or_without_spaces_and_postcode(
    fixed_hub: RunningHub,
) -> None:
    async with desk_app(fixed_hub) as app, app.run_test(size=SIZE) as pilot:
        board = await loaded(pilot, app)
        nhs = unused_nhs_number(555)
        result = await fixed_hub.call(
            "create_referral",
            referral_args("Wanda Zebedee", minutes_ago=5, nhs_number=nhs, postcode="le7 9zz"),
        )
        key = f"/referral/{result['referral_id']}"
        await until(pilot, lambda: key in board.order)
        search = app.query_one("#search", Input)

        for typed in ("zebedee", "WANDA zeb", nhs, format_nhs_number(nhs), "LE7 9ZZ", "le79"):
            await pilot.press("slash")
            assert app.focused is search
            await pilot.press(*("space" if char == " " else char for char in typed))
            await until(pilot, lambda typed=typed: search.value == typed)
            await until(pilot, lambda: board.order == [key])
            assert "showing 1 of" in status_text(app)
            assert "Wanda Zebedee" in screen_text(app)
            await pilot.press("escape")
            await until(pilot, lambda: len(board.order) == len(app.model.rows))
            assert search.value == ""
            assert app.focused is board


async def test_enter_keeps_the_search_and_goes_back_to_the_board(fixed_hub: RunningHub) -> None:
    async with desk_app(fixed_hub) as app, app.run_test(size=SIZE) as pilot:
        board = await loaded(pilot, app)
        await pilot.press("slash", "9", "9", "9", "space", "4")
        view = BoardView(search="999 4")
        await until(pilot, lambda: board.order == expected(app, view))
        assert 0 < len(board.order) < len(app.model.rows)
        await pilot.press("enter")
        assert app.focused is board
        footer = await until(pilot, lambda: "esc Clear" in screen_text(app) and screen_text(app))
        assert "t s o Filter" in footer
        await pilot.press("t")  # a key on the board again, not a letter in the search
        assert app.query_one(FilterBar).search_input.value == "999 4"
        await pilot.press("escape")
        await until(pilot, lambda: len(board.order) == len(app.model.rows))
        assert app.query_one(FilterBar).search_input.value == ""
        assert "esc Clear" not in screen_text(app)


async def test_the_cursor_stays_on_its_referral_through_a_filter(fixed_hub: RunningHub) -> None:
    async with desk_app(fixed_hub) as app, app.run_test(size=SIZE) as pilot:
        board = await loaded(pilot, app)
        crt = expected(app, BoardView(team=TeamCode.CRISIS_RESPONSE))
        board.move_cursor(row=board.order.index(crt[-1]))
        await pilot.press("t")
        await until(pilot, lambda: board.order == crt)
        assert board.selected_key == crt[-1]
        await pilot.press("escape")
        await until(pilot, lambda: len(board.order) == len(app.model.rows))
        assert board.selected_key == crt[-1]
