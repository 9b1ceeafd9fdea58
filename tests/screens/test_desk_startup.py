"""What a desk does as it starts, kept small: no second pass over the board for a desk
coming online, counts shown with the first board, secondary screens loaded when opened."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import screens
from messaging.command_client import CommandClient
from messaging.hub_sockets import HubSockets
from messaging.kvmsg import KVMsg
from messaging.replica import Replica
from screens.app import DeskApp
from screens.state import row_from_body
from screens.widgets.board import ReferralBoard
from tests.conftest import FixedClock
from tests.screens.desk_helpers import loaded, referral_body, status_text, until

SIZE = (80, 24)


def desk_on(hub: HubSockets) -> DeskApp:
    port = hub.ports.snapshot
    replica = Replica(
        port=port, desk_id="desk-test", presence={"desk": "desk-test"}, digest=row_from_body
    )
    replica.request_snapshot()  # as run_desk does
    commands = CommandClient(port=port, actor=1, desk="desk-test")
    return DeskApp(replica, commands, desk_id="desk-test", clock=FixedClock())


async def test_a_desk_coming_online_changes_the_count_not_the_board(
    hub_sockets: HubSockets, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[int] = []
    real_show_rows = ReferralBoard.show_rows

    def show_rows(board: ReferralBoard, rows) -> None:  # type: ignore[no-untyped-def]
        rows = list(rows)
        shown.append(len(rows))
        real_show_rows(board, rows)

    monkeypatch.setattr(ReferralBoard, "show_rows", show_rows)
    app = desk_on(hub_sockets)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        before = len(shown)
        await hub_sockets.publish(
            [KVMsg.from_json("/desk/ward-2", hub_sockets.sequence + 1, {"desk": "ward-2"})]
        )
        await until(pilot, lambda: "2 desks online" in status_text(app))
        assert len(shown) == before  # the rows were not gone through again

        body = referral_body(3, name="Cal Third")
        await hub_sockets.publish([KVMsg.from_json("/referral/3", hub_sockets.sequence + 1, body)])
        await until(pilot, lambda: "/referral/3" in app.board.order)
        assert shown[-1] == 3


async def test_the_forms_styles_load_with_the_first_form(hub_sockets: HubSockets) -> None:
    """The board's styles are all a desk parses to start; the forms' come with the first."""
    forms = Path(screens.__file__).parent / "forms.tcss"
    app = desk_on(hub_sockets)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        assert not app.stylesheet.has_source(str(forms))
        await pilot.press("n")
        await until(pilot, lambda: app.screen.id == "intake")
        assert app.stylesheet.has_source(str(forms))
        title = app.screen.query_one("#intake-title")
        assert title.styles.text_style.bold  # forms.tcss: the intake title is bold


def test_secondary_screens_load_when_first_opened() -> None:
    """Nor what only they use: Textual's DataTable (the alerts screen) and zmq.auth (the
    hub's side of CURVE)."""
    lazy = (
        "screens.intake",
        "screens.detail",
        "screens.assign",
        "screens.alerts",
        "screens.help",
        "screens.handover",
        "textual.widgets._data_table",
        "zmq.auth",
    )
    code = (
        "import sys, screens.main, screens.app\n"
        f"lazy = {lazy!r}\n"
        "print(sorted(m for m in lazy if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
