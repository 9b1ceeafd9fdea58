"""The referral detail: everything about one referral and its timeline, kept live, and the
actions taken from it. Real desks on a real hub with a frozen clock (`fixed_hub`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from textual.widgets import Button

from messaging.protocol import REFERRAL, VISIT
from models.nhs import format_nhs_number
from screens.detail import ReferralDetailScreen
from screens.detail_view import referral_content, timeline_content, title
from screens.prompts import ConfirmPrompt, TextPrompt, TriagePrompt
from tests.conftest import FIXED_NOW, RunningHub, desk_app
from tests.screens.coordinator import board_ready, shown, type_text, until

BIG = (120, 60)
LONDON = ZoneInfo("Europe/London")
HOSTILE = "[b]x[/b] [TODO] [@click=app.quit]y"


def referral_with(app: Any, status: str) -> str:
    """The key of the most urgent open referral in `status` (one with an NHS number if any)."""
    board = app.query_one("ReferralBoard")
    keys = [key for key in board.order if app.replica.data[key].get("status") == status]
    known = [key for key in keys if app.replica.data[key]["patient"].get("nhs_number")]
    assert keys, f"no referral is {status}"
    return (known or keys)[0]


async def open_detail(pilot: Any, key: str) -> ReferralDetailScreen:
    """Put the board's cursor on `key` and press enter, as a coordinator would."""
    board = await board_ready(pilot)
    board.focus()
    board.move_cursor(row=board.get_row_index(key))
    await pilot.press("enter")
    screen = await until(pilot, lambda: isinstance(pilot.app.screen, ReferralDetailScreen))
    screen = pilot.app.screen
    await until(pilot, lambda: screen.timeline)
    return screen


def problem(screen: ReferralDetailScreen) -> str:
    box = screen.query_one("#detail-problem")
    return str(screen.query_one("#detail-problem-text").render()) if box.display else ""


async def test_the_detail_shows_the_referral_and_its_timeline_with_who_and_when(
    fixed_hub: RunningHub,
) -> None:
    async with desk_app(fixed_hub) as app, app.run_test(size=BIG) as pilot:
        await board_ready(pilot)
        key = referral_with(app, "assigned")
        screen = await open_detail(pilot, key)
        body = app.replica.data[key]
        text = shown(app)
        assert f"Referral {body['id']}" in text
        assert body["patient"]["name"] in text
        assert format_nhs_number(body["patient"]["nhs_number"]) in text
        assert body["patient"]["postcode"] in text
        assert "assigned" in text
        assert "left" in text or "BREACHED" in text  # the clock in words
        for person in body["staff"]:
            assert person["name"] in text
        history = await fixed_hub.call("get_referral", {"referral_id": body["id"]})
        first = history["timeline"][0]
        at = datetime.fromisoformat(first["at"]).astimezone(LONDON)
        assert at.strftime("%a %d %b %Y") in text
        assert f"{at:%H:%M}  {first['by']['name']}" in text
        assert first["summary"] in text
        assert len(screen.timeline) == len(history["timeline"])
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ReferralDetailScreen))


async def test_the_detail_follows_changes_made_at_another_desk(fixed_hub: RunningHub) -> None:
    async with desk_app(fixed_hub) as app, app.run_test(size=BIG) as pilot:
        await board_ready(pilot)
        key = referral_with(app, "received")
        screen = await open_detail(pilot, key)
        referral_id = int(key.removeprefix(REFERRAL))
        await fixed_hub.call(
            "add_note", {"referral_id": referral_id, "text": "Daughter will meet the crew"}, actor=3
        )
        await until(pilot, lambda: "Daughter will meet the crew" in shown(app))
        version = app.replica.data[key]["version"]
        await fixed_hub.call(
            "triage_referral", {"referral_id": referral_id, "version": version}, actor=3
        )
        await until(pilot, lambda: (screen.body or {}).get("status") == "triaged")
        await until(pilot, lambda: "Triaged as crisis" in shown(app))
        assert "triaged" in str(screen.query_one("#detail-title").render())


async def test_a_stale_version_says_who_changed_it_and_offers_a_reload(
    fixed_hub: RunningHub,
) -> None:
    async with desk_app(fixed_hub) as app, app.run_test(size=BIG) as pilot:
        await board_ready(pilot)
        key = referral_with(app, "received")
        referral_id = int(key.removeprefix(REFERRAL))
        screen = await open_detail(pilot, key)
        shown_version = screen.body["version"]
        await pilot.press("t")  # the triage prompt holds the version the screen showed
        await until(pilot, lambda: isinstance(app.screen, TriagePrompt))
        # meanwhile someone else triages it
        await fixed_hub.call(
            "triage_referral", {"referral_id": referral_id, "version": shown_version}, actor=2
        )
        await until(pilot, lambda: (screen.body or {}).get("version") != shown_version)
        history = await fixed_hub.call("get_referral", {"referral_id": referral_id})
        who = history["timeline"][-1]["by"]["name"]
        await pilot.press("enter")  # confirm the triage: refused, not a silent overwrite
        message = await until(pilot, lambda: "changed by" in problem(screen) and problem(screen))
        assert f"changed by {who} at 10:00" in message
        assert message.endswith("Reload?")
        assert "Reload?" in shown(app)
        reload = screen.query_one("#detail-reload", Button)
        assert reload.display
        assert app.focused is reload
        await pilot.press("enter")  # the offered reload
        await until(pilot, lambda: not problem(screen))
        assert screen.body["version"] == app.replica.data[key]["version"]
        # the desk can act again, now on the version it shows
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, TextPrompt))
        await type_text(pilot, "Already admitted")
        await pilot.press("enter")
        await until(pilot, lambda: key not in app.replica.data)  # declined: off the board
        after = await fixed_hub.call("get_referral", {"referral_id": referral_id})
        assert after["referral"]["status"] == "declined"
        assert after["referral"]["decline_reason"] == "Already admitted"


async def test_a_refused_note_is_kept_for_the_next_try(fixed_hub: RunningHub) -> None:
    async with desk_app(fixed_hub) as app, app.run_test(size=BIG) as pilot:
        await board_ready(pilot)
        key = referral_with(app, "received")
        screen = await open_detail(pilot, key)
        await pilot.press("x")  # close: a received referral cannot be closed yet
        await until(pilot, lambda: app.screen is not screen)
        app.screen.query_one("#close-outcome").value = "referred_on"
        app.screen.query_one("#close-note").value = "Passed to the GP"
        await pilot.press("ctrl+s")
        # "Sending…" shows first; wait for the hub's answer
        message = await until(pilot, lambda: "Cannot close" in problem(screen) and problem(screen))
        assert "Reload?" not in message
        await pilot.press("x")
        await until(pilot, lambda: app.screen is not screen)
        assert app.screen.query_one("#close-note").value == "Passed to the GP"


async def test_arrival_is_recorded_for_the_live_visit(fixed_hub: RunningHub) -> None:
    async with desk_app(fixed_hub) as app, app.run_test(size=BIG) as pilot:
        await board_ready(pilot)
        key = referral_with(app, "assigned")
        screen = await open_detail(pilot, key)
        visit = screen.live_visit()
        assert visit is not None
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, ConfirmPrompt))
        assert "Record arrival now (10:00)" in shown(app)
        await pilot.press("y")
        await until(pilot, lambda: (screen.body or {}).get("status") == "responded")
        assert app.replica.data[f"{VISIT}{visit['id']}"]["status"] == "arrived"
        await until(pilot, lambda: "clock stopped" in shown(app))


async def test_hostile_text_in_a_note_is_shown_literally(fixed_hub: RunningHub) -> None:
    async with desk_app(fixed_hub) as app, app.run_test(size=BIG) as pilot:
        await board_ready(pilot)
        key = referral_with(app, "received")
        screen = await open_detail(pilot, key)
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, TextPrompt))
        await type_text(pilot, HOSTILE)
        await pilot.press("enter")
        await until(pilot, lambda: HOSTILE in shown(app))
        assert app.is_running
        assert isinstance(app.screen, ReferralDetailScreen)
        assert any(entry["summary"] == HOSTILE for entry in screen.timeline)


async def test_the_command_palette_offers_the_detail_actions(fixed_hub: RunningHub) -> None:
    async with desk_app(fixed_hub) as app, app.run_test(size=BIG) as pilot:
        await board_ready(pilot)
        screen = await open_detail(pilot, referral_with(app, "received"))
        await pilot.press("ctrl+p")
        await type_text(pilot, "add note")
        await until(pilot, lambda: "Add note (o)" in shown(app))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TextPrompt))
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen)
        await pilot.press("question_mark")  # the help lists this screen's keys
        await until(pilot, lambda: "Decline" in shown(app) and app.screen is not screen)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen)


def test_escape_sequences_and_markup_from_the_wire_never_reach_the_terminal() -> None:
    nasty = HOSTILE + "\x1b[31m red \x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\ \x07"
    body = {
        "id": 7,
        "version": 1,
        "status": "received",
        "priority": "crisis",
        "source": "gp",
        "patient": {"name": nasty, "nhs_number": "9990000018", "access_notes": nasty},
        "reason": nasty,
        "needs": ["CRT", nasty],
        "received_at": FIXED_NOW.isoformat(),
        "due_at": FIXED_NOW.isoformat(),
        "staff": [{"name": nasty, "team": "CRT"}],
    }
    timeline = [
        {"at": FIXED_NOW.isoformat(), "by": {"name": nasty}, "summary": nasty, "desk": nasty}
    ]
    for content in (
        title(body, 7, FIXED_NOW),
        referral_content(body, [], FIXED_NOW),
        timeline_content(timeline),
    ):
        assert "\x1b" not in content.plain
        assert "\x07" not in content.plain
        assert HOSTILE in content.plain
        assert "red link" in content.plain
