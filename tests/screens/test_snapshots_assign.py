"""SVG snapshots of the assignment screen (key a) at 80x24 and 160x48, on the frozen-clock
hub: a new crisis referral needing CRT and NUR, the suggested pair picked."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from messaging.command_client import CommandClient
from messaging.replica import Replica
from screens.app import DeskApp
from tests.conftest import FixedClock, RunningHub
from tests.screens.test_assign import new_triaged_referral, open_assign


def _desk(hub: RunningHub) -> DeskApp:
    """The same desk `tests.conftest.desk_app` builds, for snap_compare (which runs the app
    itself, outside any event loop)."""
    replica = Replica(
        host=hub.host, port=hub.port, desk_id="desk-test", presence={"desk": "desk-test"},
        silence_timeout=1.5,
    )  # fmt: skip
    commands = CommandClient(host=hub.host, port=hub.port, actor=1, desk="desk-test")
    return DeskApp(replica, commands, desk_id="desk-test", clock=FixedClock())


async def _assign_screen(pilot: Pilot[Any], hub: RunningHub) -> None:
    key = await new_triaged_referral(hub)
    await open_assign(pilot.app, pilot, key)  # type: ignore[arg-type]
    await pilot.pause(0.2)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_assign_screen(snap_compare: Any, fixed_hub: RunningHub, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _assign_screen(pilot, fixed_hub)

    assert snap_compare(_desk(fixed_hub), terminal_size=size, run_before=run_before)
