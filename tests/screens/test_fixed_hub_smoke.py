"""The frozen-clock hub shows the same board every time (what the SVG snapshots rely on)."""

from __future__ import annotations

from tests.conftest import RunningHub, desk_app


async def test_frozen_hub_board_is_deterministic(fixed_hub: RunningHub) -> None:
    async with desk_app(fixed_hub) as app, app.run_test(size=(80, 24)) as pilot:
        for _ in range(100):
            await pilot.pause(0.05)
            if app.model.rows:
                break
        first = [row.name for row in app.model.rows.values()]
    assert first
    result = await fixed_hub.call("list_referrals", {})
    assert len(result["referrals"]) == len(first)
