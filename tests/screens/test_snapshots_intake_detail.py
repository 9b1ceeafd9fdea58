"""SVG snapshots of the intake form and the referral detail, at 80x24 (a ward laptop over
SSH) and 160x48 (a desk), on a real hub with its clock frozen and seeded data."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from messaging.command_client import CommandClient
from messaging.replica import Replica
from screens.app import DeskApp
from screens.detail import ReferralDetailScreen
from screens.intake import IntakeScreen
from tests.conftest import FixedClock, RunningHub
from tests.screens.coordinator import board_ready, nhs_number, type_text, until

SIZES = [(80, 24), (160, 48)]


def snapshot_desk(hub: RunningHub) -> DeskApp:
    """A real desk on `hub` (the app closes its replica and client when it stops)."""
    replica = Replica(
        host=hub.host, port=hub.port, desk_id="desk-snap", presence={"desk": "desk-snap"}
    )
    commands = CommandClient(host=hub.host, port=hub.port, actor=1, desk="desk-snap")
    return DeskApp(
        replica, commands, desk_id="desk-snap", actor_name="Alex Morgan", clock=FixedClock()
    )


async def steady(pilot: Pilot[Any]) -> None:
    """No blinking cursor and no passing notifications in the picture."""
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    pilot.app.clear_notifications()
    await pilot.pause(0.2)


async def intake_half_typed(pilot: Pilot[Any]) -> None:
    await board_ready(pilot)
    await pilot.press("n")
    await until(pilot, lambda: isinstance(pilot.app.screen, IntakeScreen))
    for text in ("Edna Newcomer", "02/04/1938", nhs_number(1500, valid=False)):
        await type_text(pilot, text)
        await pilot.press("tab")
    await type_text(pilot, "12 Granby Street, Leicester")
    await steady(pilot)


async def detail_of_an_assigned_referral(pilot: Pilot[Any]) -> None:
    app = pilot.app
    board = await board_ready(pilot)
    key = next(k for k in board.order if app.replica.data[k].get("status") == "assigned")
    board.focus()
    board.move_cursor(row=board.get_row_index(key))
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, ReferralDetailScreen) and app.screen.timeline)
    await steady(pilot)


SCENES: dict[str, Callable[[Pilot[Any]], Awaitable[None]]] = {
    "intake": intake_half_typed,
    "detail": detail_of_an_assigned_referral,
}


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
@pytest.mark.parametrize("scene", list(SCENES))
def test_snapshot(
    fixed_hub: RunningHub, snap_compare: Any, scene: str, size: tuple[int, int]
) -> None:
    app = snapshot_desk(fixed_hub)
    assert snap_compare(app, terminal_size=size, run_before=SCENES[scene])
