"""The desk application: wiring only (bindings, the hub listener, message routing)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Header
from textual.worker import Worker, WorkerState

from messaging.protocol import ALERT, CURRENT_HANDOVER, DESK
from models.enums import AlertKind
from models.text import clean_text
from screens.messages import (
    HubKeyChanged,
    HubLost,
    HubReachedAgain,
    HubResyncing,
    HubSnapshotApplied,
    message_for,
)
from screens.state import BoardModel
from screens.widgets.alert_strip import AlertRow, AlertStrip, alert_row, alert_rows, strip_text
from screens.widgets.board import ReferralBoard
from screens.widgets.board_panel import BoardPanel
from screens.widgets.status_bar import Connection, HubStatusBar

if TYPE_CHECKING:
    from messaging.replica import ReplicaData

LISTENER = "hub-listener"


class ReplicaLike(Protocol):
    data: ReplicaData

    def events(self) -> Any: ...

    async def close(self) -> None: ...


class CommandsLike(Protocol):
    async def call(
        self, command: str, args: dict[str, Any] | None = None, *, command_id: str | None = None
    ) -> dict[str, Any]: ...

    async def close(self) -> None: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


class DeskApp(App[None]):
    """The live referral board of one desk, fed by a replica of the hub's state."""

    CSS_PATH = "desk.tcss"
    TITLE = "Hub Desk"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", key_display="?", id="app.help"),
        Binding("n", "new_referral", "New", tooltip="New referral", id="board.new_referral"),
        Binding("a", "assign_visit", "Assign", tooltip="Assign a visit", id="board.assign"),
        Binding("exclamation_mark", "alerts", "Alerts", key_display="!", id="app.alerts"),
        Binding("h", "handover", "Handover", id="app.handover"),
    ]

    def __init__(
        self,
        replica: ReplicaLike,
        commands: CommandsLike,
        *,
        desk_id: str,
        actor_name: str = "",
        clock: Callable[[], datetime] = utc_now,
        actor: int | None = None,
    ) -> None:
        super().__init__()
        self.actor = actor
        self.replica = replica
        self.commands = commands
        self.desk_id = clean_text(desk_id)
        self.actor_name = clean_text(actor_name)
        self.clock = clock
        self.model = BoardModel()
        self._known_alerts: set[str] = set()
        parts = [f"desk {self.desk_id}"] + ([self.actor_name] if self.actor_name else [])
        self.sub_title = " · ".join(parts)

    def compose(self) -> ComposeResult:
        yield Header()
        yield BoardPanel(clock=self.clock, id="board-panel")
        yield AlertStrip(id="alert-strip")
        yield HubStatusBar(id="status")
        yield Footer(show_command_palette=False)  # ^p is in the help (?): room for keys

    def on_mount(self) -> None:
        self.listen_to_hub()

    async def on_unmount(self) -> None:
        self.workers.cancel_group(self, "hub")
        await self.replica.close()
        await self.commands.close()

    @work(exclusive=True, group="hub", name=LISTENER, exit_on_error=False)
    async def listen_to_hub(self) -> None:
        async for event in self.replica.events():
            message = message_for(event)
            if message is not None:
                self.post_message(message)
        self.post_message(HubLost("the hub connection closed"))

    # -- routing ------------------------------------------------------------------------

    @property
    def board(self) -> ReferralBoard:
        return self.query_one(ReferralBoard)

    @property
    def status_bar(self) -> HubStatusBar:
        return self.query_one(HubStatusBar)

    def _board_gone(self) -> bool:
        """The board's screen is gone (the desk closing): hub news that was already on its
        way has nowhere to go, and is dropped rather than raising NoMatches."""
        return self.query_one_optional(ReferralBoard) is None

    def _show_model(self) -> None:
        self.board.show_rows(self.model.rows.values())
        self.status_bar.desks_online = len(self.model.desks)

    @on(HubSnapshotApplied)
    def _snapshot_applied(self) -> None:
        if self._board_gone():
            return
        with self.batch_update():
            self.model.load(self.replica.data, self.replica.data.digests)
            self._show_model()
            # The board's `Counted` comes up through the panel and the screen a frame or
            # more later: its counts are shown with the board, not after it.
            self.status_bar.counts = self.board.counts
            self.status_bar.set_connection(Connection.CONNECTED)

    @on(HubKeyChanged)
    def _key_changed(self, message: HubKeyChanged) -> None:
        """A referral's change goes to the board; a desk's (presence) changes only the count
        of desks online, never the board's rows."""
        if self._board_gone():
            return
        if not self.model.apply(message.key, message.body, self.replica.data.digests):
            return
        if message.key.startswith(DESK):
            self.status_bar.desks_online = len(self.model.desks)
            return
        with self.batch_update():
            self.board.show_rows(self.model.rows.values())

    @on(HubResyncing)
    def _resyncing(self, message: HubResyncing) -> None:
        if not self._board_gone():
            self.status_bar.set_connection(Connection.RESYNCING, message.reason)

    @on(HubReachedAgain)
    def _reached_again(self) -> None:
        if not self._board_gone():
            self.status_bar.set_connection(Connection.RESYNCING, "hub answered, reloading")

    @on(HubLost)
    def _lost(self, message: HubLost) -> None:
        if not self._board_gone():
            self.status_bar.set_connection(Connection.LOST, message.reason)

    @on(ReferralBoard.Counted)
    def _counted(self, message: ReferralBoard.Counted) -> None:
        # May arrive after the board's screen is gone (the desk closing): nothing to show.
        bar = self.query_one_optional(HubStatusBar)
        if bar is not None:
            bar.counts = message.counts

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place worker failures are shown: the status bar and a notification."""
        if event.state is not WorkerState.ERROR or self._board_gone():
            return
        error = event.worker.error
        reason = clean_text(f"{type(error).__name__}: {error}")
        self.status_bar.set_connection(Connection.LOST, reason)
        self.notify(
            reason, title="The desk stopped hearing the hub", severity="error", markup=False
        )

    @on(HubSnapshotApplied)
    async def _who_am_i(self) -> None:
        """Name the acting staff member from the hub's staff list, once it has arrived."""
        if self.actor is None or self.actor_name:
            return
        person = self.replica.data.get(f"/staff/{self.actor}")
        if not person:
            self.notify(
                f"Staff id {self.actor} is not known to this hub: check --as",
                severity="warning",
                markup=False,
            )
            return
        self.actor_name = clean_text(str(person.get("name", "")))
        role = clean_text(str(person.get("role", "")))
        self.sub_title = f"desk {self.desk_id} · {self.actor_name} ({role})"
        set_presence = getattr(self.replica, "set_presence", None)
        if set_presence is not None:
            presence = {"desk": self.desk_id, "staff": self.actor_name, "staff_id": self.actor,
                        "role": role, "since": self.clock().isoformat()}  # fmt: skip
            await set_presence(presence)

    # -- alerts and handover (the hub raises them; the desk shows and acknowledges) -------

    @on(HubSnapshotApplied)
    def _alerts_after_snapshot(self) -> None:
        rows = alert_rows(self.replica.data)
        self._known_alerts = {r.key for r in rows}
        self._show_alerts(rows)

    @on(HubKeyChanged)
    def _alert_or_handover_changed(self, message: HubKeyChanged) -> None:
        if message.key == CURRENT_HANDOVER and message.body:
            label = clean_text(str(message.body.get("label", "Handover")))
            self.notify(f"{label} is ready: press h", title="Handover", markup=False)
            return
        if not message.key.startswith(ALERT):
            return
        rows = alert_rows(self.replica.data)
        if message.body is not None and message.key not in self._known_alerts:
            new = alert_row(message.key, message.body)
            if new is not None and new.waiting:
                severity = "error" if new.kind == AlertKind.BREACH else "warning"
                self.notify(new.message, title="Alert", severity=severity, markup=False, timeout=15)
        self._known_alerts = {r.key for r in rows}
        self._show_alerts(rows)

    def _show_alerts(self, rows: list[AlertRow]) -> None:
        # May arrive after the board's screen is gone (the desk closing): nothing to show.
        strip = self.query_one_optional(AlertStrip)
        if strip is None:
            return
        text = strip_text(rows)
        strip.update(text)
        strip.display = bool(text.plain)
        if self.screen in self._open_screens("screens.alerts", "AlertsScreen"):
            from screens.alerts import AlertsChanged

            self.screen.post_message(AlertsChanged())

    def _open_screens(self, module: str, name: str) -> list[Any]:
        """The screens of class `name` on the stack: a class from `module`, which loads when
        one is first opened. While it has not loaded, none can be open, and it stays unloaded."""
        loaded = sys.modules.get(module)
        if loaded is None:
            return []
        kind = getattr(loaded, name)
        return [screen for screen in self.screen_stack if isinstance(screen, kind)]

    def action_alerts(self) -> None:
        from screens.alerts import AlertsScreen

        if not isinstance(self.screen, AlertsScreen):
            self.push_screen(AlertsScreen())

    def action_handover(self) -> None:
        from screens.handover import HandoverScreen

        if not isinstance(self.screen, HandoverScreen):
            self.push_screen(HandoverScreen())

    def action_help(self) -> None:
        """Every key active on the current screen, read from the bindings themselves."""
        from screens.help import HelpScreen, key_help

        self.push_screen(HelpScreen(key_help(self.screen.active_bindings, self.get_key_display)))

    # -- intake and referral detail -------------------------------------------------------

    def action_new_referral(self) -> None:
        from screens.intake import IntakeScreen

        self.push_screen(IntakeScreen())

    @on(ReferralBoard.RowSelected)
    def _referral_chosen(self, message: ReferralBoard.RowSelected) -> None:
        from screens.detail import ReferralDetailScreen

        if ReferralDetailScreen.shows(message.key):
            self.push_screen(ReferralDetailScreen(message.key))

    @on(HubKeyChanged)
    def _detail_follows_key(self, message: HubKeyChanged) -> None:
        for screen in self._open_screens("screens.detail", "ReferralDetailScreen"):
            screen.replica_changed(message.key)

    @on(HubSnapshotApplied)
    def _detail_follows_snapshot(self) -> None:
        for screen in self._open_screens("screens.detail", "ReferralDetailScreen"):
            screen.replica_reloaded()

    # -- joint-visit assignment (key a) -----------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "assign_visit":  # the board's key: other screens bind their own
            return len(self.screen_stack) == 1
        return super().check_action(action, parameters)

    def action_assign_visit(self, key: str | None = None) -> None:
        """Assign a visit to `key`, or to the referral under the board's cursor."""
        from screens.assign import AssignScreen

        key = key or self.board.selected_key
        if not key or not AssignScreen.shows(key):
            self.notify("Pick a referral on the board first.", markup=False)
            return
        screen = AssignScreen(key, replica=self.replica, commands=self.commands, clock=self.clock)
        self.push_screen(screen)

    @on(HubKeyChanged)
    def _assign_follows_key(self, message: HubKeyChanged) -> None:
        for screen in self._open_screens("screens.assign", "AssignScreen"):
            screen.replica_changed(message.key)

    @on(HubSnapshotApplied)
    def _assign_follows_snapshot(self) -> None:
        for screen in self._open_screens("screens.assign", "AssignScreen"):
            screen.replica_changed(None)
