"""Assigning a (joint) visit from the keyboard, against a real frozen-clock hub process."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from textual.pilot import Pilot

from messaging.protocol import REFERRAL
from screens.app import DeskApp
from screens.assign import AssignScreen, default_time, parse_hhmm
from screens.widgets.board import ReferralBoard
from screens.widgets.staff_picker import StaffPicker
from screens.widgets.staff_visits import VisitList
from tests.conftest import FIXED_NOW, RunningHub, desk_app
from tests.screens.desk_helpers import screen_text

SIZE = (80, 24)


async def until(pilot: Pilot, condition: Callable[[], bool], timeout: float = 8.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    assert condition()


async def new_triaged_referral(hub: RunningHub, name: str = "Edna Marsh", **extra: Any) -> str:
    args = {
        "patient": {"name": name, "postcode": "LE2 1AA"},
        "source": "gp",
        "reason": "fall at home",
        "needs": ["CRT", "NUR"],
    } | extra
    referral_id = (await hub.call("create_referral", args))["referral_id"]
    await hub.call("triage_referral", {"referral_id": referral_id, "version": 1})
    return f"{REFERRAL}{referral_id}"


async def open_assign(app: DeskApp, pilot: Pilot, key: str) -> AssignScreen:
    """Put the board's cursor on `key`, press a, and wait for the staff list."""
    board = app.query_one(ReferralBoard)
    await until(pilot, lambda: key in board.order and "status" in str(app.replica.data.get(key)))
    await until(pilot, lambda: app.replica.data[key]["status"] == "triaged")
    board.move_cursor(row=board.get_row_index(key), animate=False)
    await pilot.pause()
    await pilot.press("a")
    await until(pilot, lambda: isinstance(app.screen, AssignScreen))
    screen = app.screen
    assert isinstance(screen, AssignScreen)
    await until(pilot, lambda: bool(screen.query_one(StaffPicker).rows))
    return screen


def picker(app: DeskApp) -> StaffPicker:
    return app.screen.query_one(StaffPicker)


def visits_shown(app: DeskApp) -> str:
    visits = app.screen.query_one(VisitList)
    return "\n".join(str(visits.get_option_at_index(i).prompt) for i in range(visits.option_count))


def message(app: DeskApp) -> str:
    return str(app.screen.query_one("#assign-message").render())


def live_visits(app: DeskApp, key: str) -> list[dict[str, Any]]:
    referral_id = int(key.removeprefix(REFERRAL))
    return [
        body
        for k, body in app.replica.data.items()
        if k.startswith("/visit/") and body.get("referral_id") == referral_id
    ]


def staff_status(app: DeskApp, staff_id: int) -> str:
    return app.replica.data[f"/staff/{staff_id}"]["status"]


def test_the_default_time_is_now_rounded_up_to_five_minutes() -> None:
    assert default_time(FIXED_NOW) == FIXED_NOW
    assert default_time(FIXED_NOW + timedelta(seconds=1)) == FIXED_NOW + timedelta(minutes=5)
    assert default_time(FIXED_NOW + timedelta(minutes=7)) == FIXED_NOW + timedelta(minutes=10)
    summer = datetime(2026, 7, 1, 9, 58, tzinfo=UTC)  # 10:58 in London (BST)
    assert default_time(summer).strftime("%H:%M %Z") == "11:00 BST"


def test_a_typed_time_means_today_or_tomorrow_if_already_past() -> None:
    assert parse_hhmm("14:30", FIXED_NOW) == FIXED_NOW.replace(hour=14, minute=30)
    assert parse_hhmm("1430", FIXED_NOW) == FIXED_NOW.replace(hour=14, minute=30)
    assert parse_hhmm("10:00", FIXED_NOW) == FIXED_NOW
    assert parse_hhmm("9:05", FIXED_NOW) == FIXED_NOW.replace(hour=9, minute=5) + timedelta(days=1)
    summer = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)  # 10:00 in London
    assert parse_hhmm("10:30", summer) == datetime(2026, 7, 1, 9, 30, tzinfo=UTC)
    for bad in ("", "24:00", "12:60", "12:3", "noon", "123", "12345"):
        assert parse_hhmm(bad, FIXED_NOW) is None, bad


async def test_plan_a_joint_visit_from_the_keyboard_then_both_set_off(
    fixed_hub: RunningHub,
) -> None:
    async with desk_app(fixed_hub) as app, app.run_test(size=SIZE) as pilot:
        key = await new_triaged_referral(fixed_hub, name="[b]Edna[/b] [TODO]")
        screen = await open_assign(app, pilot, key)
        shown = screen_text(app)
        assert "Assign visit: [b]Edna[/b] [TODO]  needs CRT NUR  LE2  triaged" in shown
        assert "Time (HH:MM) 10:00" in shown
        rows = picker(app).rows
        suggested = picker(app).picked_ids
        assert [rows[i].team for i in suggested] == ["CRT", "NUR"]
        assert screen.suggested == suggested
        assert "Suggested: " in screen_text(app)
        # move to the next CRT person and pick them instead (one per team)
        crt = [r for r in rows.values() if r.team == "CRT" and r.eligible]
        assert len(crt) >= 2
        await pilot.press("down", "space")
        chosen = [crt[1].id, suggested[1]]
        assert picker(app).picked_ids == chosen
        assert f"Picked: {crt[1].name} (CRT)" in screen_text(app)
        await pilot.press("enter")
        await until(pilot, lambda: len(live_visits(app, key)) == 1)
        [visit] = live_visits(app, key)
        assert visit["status"] == "planned"
        assert sorted(s["id"] for s in visit["staff"]) == sorted(chosen)
        await until(pilot, lambda: "planned for 10:00" in visits_shown(app))
        assert "Joint visit planned for 10:00 with" in message(app)
        assert app.replica.data[key]["status"] == "assigned"

        await pilot.press("tab")  # to the visits list
        assert isinstance(app.focused, VisitList)
        await pilot.press("o")
        await until(pilot, lambda: all(staff_status(app, i) == "travelling" for i in chosen))
        await until(pilot, lambda: "on the way" in visits_shown(app))
        shown = visits_shown(app)
        for staff_id in chosen:
            assert f"{rows[staff_id].name} ({rows[staff_id].team}) travelling" in shown
        assert "set off: on the way" in message(app)
        assert live_visits(app, key)[0]["status"] == "travelling"
        assert "travelling" in screen_text(app)


async def test_a_clash_is_shown_plainly_and_nothing_is_lost(fixed_hub: RunningHub) -> None:
    async with desk_app(fixed_hub) as app, app.run_test(size=SIZE) as pilot:
        key = await new_triaged_referral(fixed_hub)
        await open_assign(app, pilot, key)
        suggested = picker(app).picked_ids
        name = picker(app).rows[suggested[0]].name
        # meanwhile another coordinator books the suggested CRT person at the same time
        other = await new_triaged_referral(fixed_hub, name="Bob Other")
        first = await fixed_hub.call(
            "plan_visit",
            {
                "referral_id": int(other.removeprefix(REFERRAL)),
                "version": 2,
                "planned_at": FIXED_NOW.isoformat(),
                "staff_ids": [suggested[0]],
            },
        )
        await pilot.press("ctrl+s")
        clash = f"{name} is already booked from 10:00 to 11:00 (visit {first['visit_id']})"
        await until(pilot, lambda: clash in message(app))
        assert "Not done:" in message(app)
        # the time and the people picked are kept; the list now says why they cannot go
        await until(pilot, lambda: not picker(app).rows[suggested[0]].eligible)
        assert picker(app).picked_ids == suggested
        shown = screen_text(app)
        assert "Time (HH:MM) 10:00" in shown
        assert "booked 10:00-11:00" in shown
        assert live_visits(app, key) == []


async def test_a_visit_planned_for_later_stays_planned(fixed_hub: RunningHub) -> None:
    async with desk_app(fixed_hub) as app, app.run_test(size=SIZE) as pilot:
        key = await new_triaged_referral(fixed_hub)
        screen = await open_assign(app, pilot, key)
        await pilot.press("shift+tab")  # to the time field; its text is selected
        await pilot.press(*"12:30")
        await until(pilot, lambda: screen.planned_at == FIXED_NOW.replace(hour=12, minute=30))
        await pilot.press("enter")  # back to the people
        assert isinstance(app.focused, StaffPicker)
        await until(pilot, lambda: bool(picker(app).picked_ids))
        chosen = picker(app).picked_ids
        before = {i: staff_status(app, i) for i in chosen}
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "planned for 12:30" in visits_shown(app))
        assert "on the way" not in visits_shown(app)
        assert "Joint visit planned for 12:30" in message(app)
        [visit] = live_visits(app, key)
        assert visit["status"] == "planned"
        assert visit["set_off_at"] is None
        assert {i: staff_status(app, i) for i in chosen} == before
        assert "travelling" not in {staff_status(app, i) for i in chosen}


async def test_a_time_already_past_means_tomorrow(fixed_hub: RunningHub) -> None:
    async with desk_app(fixed_hub) as app, app.run_test(size=SIZE) as pilot:
        key = await new_triaged_referral(fixed_hub)
        screen = await open_assign(app, pilot, key)
        await pilot.press("shift+tab", *"09:00")
        tomorrow = FIXED_NOW.replace(hour=9) + timedelta(days=1)
        await until(pilot, lambda: screen.planned_at == tomorrow)
        assert "tomorrow, Tue 24 Nov, for 60 minutes" in screen_text(app)
        await pilot.press("backspace", "backspace", *"x9")  # letters are not taken: "09:9"
        await pilot.press("enter")
        assert "Type the time as HH:MM" in message(app)
        assert screen.planned_at == tomorrow
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, AssignScreen))


async def test_staff_statuses_in_the_list_follow_the_replica(fixed_hub: RunningHub) -> None:
    async with desk_app(fixed_hub) as app, app.run_test(size=SIZE) as pilot:
        key = await new_triaged_referral(fixed_hub)
        await open_assign(app, pilot, key)
        listed = picker(app)
        person = next(r for r in listed.rows.values() if r.eligible)
        body = app.replica.data[f"/staff/{person.id}"]
        assert body["status"] == "available"

        def line() -> str:
            return str(listed.get_option(f"staff-{person.id}").prompt)

        assert "available" in line()
        args = {"staff_id": person.id, "version": body["version"], "status": "on_visit"}
        await fixed_hub.call("set_staff_status", args)
        await until(pilot, lambda: "on visit" in line())
        assert person.name in line()
        assert f"{person.name}" in screen_text(app)


async def test_a_on_the_detail_screen_assigns_that_referral(fixed_hub: RunningHub) -> None:
    from screens.detail import ReferralDetailScreen

    async with desk_app(fixed_hub) as app, app.run_test(size=SIZE) as pilot:
        key = await new_triaged_referral(fixed_hub)
        board = app.query_one(ReferralBoard)
        await until(pilot, lambda: key in board.order)
        board.move_cursor(row=board.get_row_index(key), animate=False)
        board.focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ReferralDetailScreen))
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, AssignScreen))
        assert app.screen.referral_key == key
        await until(pilot, lambda: bool(picker(app).rows))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ReferralDetailScreen))
