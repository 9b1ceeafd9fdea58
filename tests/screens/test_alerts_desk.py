"""Alerts and the handover on a desk, against a real hub with its clock frozen."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from rich.console import Console
from textual.widgets import DataTable

from screens.alerts import AlertsScreen
from screens.handover import HandoverScreen, render_handover
from screens.widgets.alert_strip import AlertStrip
from tests.conftest import FIXED_NOW, RunningHub, desk_app
from tests.screens.desk_helpers import until


def strip(app: Any) -> str:
    return app.query_one(AlertStrip).render().plain


def table_text(screen: Any) -> list[str]:
    table = screen.query_one(DataTable)
    return [" | ".join(cell.plain for cell in table.get_row_at(i)) for i in range(table.row_count)]


async def test_breached_clocks_show_as_alerts_and_can_be_acknowledged(
    fixed_hub: RunningHub,
) -> None:
    async with desk_app(fixed_hub) as app, app.run_test(size=(80, 24)) as pilot:
        text = await until(pilot, lambda: strip(app))
        assert "not acknowledged" in text
        assert "breached" in text
        await pilot.press("exclamation_mark")
        screen = await until(pilot, lambda: isinstance(app.screen, AlertsScreen) and app.screen)
        rows = await until(pilot, lambda: table_text(screen))
        assert "BREACHED" in rows[0]
        assert "waiting" in rows[0]
        waiting_before = sum("waiting" in r for r in rows)
        await pilot.press("k")
        await until(pilot, lambda: sum("waiting" in r for r in table_text(screen)) < waiting_before)
        assert any("Alex Morgan" in r for r in table_text(screen))
        await pilot.press("escape")
    # the acknowledgement is in the audit log with who: find it on the referral's timeline
    history = await fixed_hub.call("list_referrals", {})
    timelines = [
        await fixed_hub.call("get_referral", {"referral_id": r["id"]}) for r in history["referrals"]
    ]
    acks = [t for tl in timelines for t in tl["timeline"] if t["action"] == "alert_acknowledged"]
    assert len(acks) == 1
    assert acks[0]["by"]["name"] == "Alex Morgan"
    assert acks[0]["desk"] == "desk-test"


async def test_a_new_breach_pops_up_without_a_key_press(fixed_hub: RunningHub) -> None:
    async with desk_app(fixed_hub) as app, app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.model.rows)
        late = {
            "patient": {"name": "Late Larry", "nhs_number": None, "postcode": "LE4 1AA"},
            "source": "nhs_111",
            "needs": ["MH"],
            "received_at": (FIXED_NOW - timedelta(hours=2, minutes=5)).isoformat(),
        }
        await fixed_hub.call("create_referral", late)
        note = await until(
            pilot, lambda: [n for n in app._notifications if "Late Larry" in n.message]
        )
        assert note[0].severity == "error"
        assert "BREACHED" in note[0].message


async def test_handover_screen_shows_what_the_next_shift_needs(fixed_hub: RunningHub) -> None:
    async with desk_app(fixed_hub) as app, app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.model.rows)
        await pilot.press("h")
        screen = await until(pilot, lambda: isinstance(app.screen, HandoverScreen) and app.screen)
        shown = await until(pilot, lambda: screen.shown)
        assert shown["open_referrals"] == len(app.model.rows)
        console = Console(record=True, width=80)
        console.print(render_handover(shown))
        printed = console.export_text()
        assert "Clocks at risk" in printed
        assert "BREACHED" in printed
        await pilot.press("escape")
        assert not isinstance(app.screen, HandoverScreen)


async def test_the_desk_names_who_is_signed_in(fixed_hub: RunningHub) -> None:
    async with desk_app(fixed_hub, actor=1) as app, app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.actor_name)
        assert app.actor_name == "Alex Morgan"
        assert "Alex Morgan (coordinator)" in app.sub_title
