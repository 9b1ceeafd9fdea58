"""The hub process: owns the database, serves the live state over CHP, runs commands.

Start-up order: migrate the schema, read the last sequence and the live map, start ZAP (with
keys), bind the sockets, then serve until told to stop. Updates are published only after their
commit. With keys, SIGHUP re-reads the desk allow-list.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from typing import Any

import zmq.asyncio
from sqlalchemy.engine import Engine

from hub.changes import Changes
from hub.clock import Clock, system_clock
from hub.db import make_engine
from hub.dispatch import Dispatcher
from hub.live import live_messages
from hub.migrate import upgrade
from hub.scheduler import ClockScheduler
from hub.settings import HubSettings
from messaging.envelope import CommandEnvelope, Reply
from messaging.hub_sockets import HubSockets
from messaging.kvmsg import KVMsg
from messaging.protocol import desk_key
from messaging.security import ALLOWED_DIR, DeskAuthenticator, ServerKeys, load_allow_list

log = logging.getLogger(__name__)


class InsecureBindError(RuntimeError):
    """Refusing to listen beyond loopback without encryption."""


class HubServer:
    def __init__(
        self,
        settings: HubSettings,
        *,
        clock: Clock = system_clock,
        engine: Engine | None = None,
        run_scheduler: bool = True,
    ) -> None:
        if not settings.on_loopback and not settings.insecure and not settings.secure:
            raise InsecureBindError(
                f"Refusing to listen on {settings.bind} without CURVE keys. Bind to 127.0.0.1, "
                "or pass --insecure on a trusted network."
            )
        # With keys, check them now (SecurityError), before anything opens or binds.
        self.server_keys: ServerKeys | None = None
        self.allowed_desks = 0
        if settings.keys_dir is not None:
            self.server_keys = ServerKeys.from_dir(settings.keys_dir)
            self.allowed_desks = len(load_allow_list(settings.keys_dir / ALLOWED_DIR))
        self.authenticator: DeskAuthenticator | None = None
        self._context: zmq.asyncio.Context | None = None
        self.settings = settings
        self.clock = clock
        self.engine = engine or make_engine(settings.db_url)
        self.run_scheduler = run_scheduler
        self.scheduler: ClockScheduler | None = None
        self._wake_pending = False
        self._write_lock = asyncio.Lock()
        self.dispatcher: Dispatcher | None = None
        self.sockets: HubSockets | None = None
        self.started = asyncio.Event()
        self._stop = asyncio.Event()

    async def start(self) -> None:
        upgrade(self.engine)
        self.dispatcher = Dispatcher(self.engine, clock=self.clock, tz=self.settings.tz)
        if self.server_keys is not None and self.settings.keys_dir is not None:
            # ZAP is per context: the hub's own context, shared by ZAP and all four sockets.
            self._context = zmq.asyncio.Context()
            self.authenticator = DeskAuthenticator(
                self.settings.keys_dir / ALLOWED_DIR, context=self._context
            )
            self.authenticator.start()
        self.sockets = HubSockets(
            bind=self.settings.bind,
            port=self.settings.port,
            on_commands=self._on_commands,
            on_presence=self._on_presence,
            server_keys=self.server_keys,
            authenticator=self.authenticator,
        )
        sequence = self.dispatcher.sequence
        self.sockets.load(live_messages(self.engine, sequence, self.clock()), sequence)
        self.dispatcher.live = self.sockets.live  # a view of the map load() just made
        await self.sockets.start()
        if self.run_scheduler:
            commit = self.commit_system_change
            self.scheduler = ClockScheduler(self.dispatcher, commit, self.settings)
            self.scheduler.start()
        log.info(
            "hub serving %s on %s:%d (sequence %d)",
            self.engine.url.render_as_string(hide_password=True),
            self.settings.bind,
            self.settings.port,
            sequence,
        )
        self.started.set()

    async def _on_command(self, env: CommandEnvelope) -> Reply:
        return (await self._on_commands([env]))[0]

    async def _on_commands(self, envs: list[CommandEnvelope]) -> list[Reply]:
        """Run a group of commands as one commit, publish their updates, then reply."""
        assert self.dispatcher is not None
        assert self.sockets is not None
        # Commit and publish under one lock: updates must leave in sequence order, and
        # presence and the scheduler commit from other tasks.
        async with self._write_lock:
            outcomes = self.dispatcher.handle_batch(envs)
            published = [msg for outcome in outcomes for msg in outcome.published]
            await self._publish(published)
        if published:
            self._poke_scheduler()
        return [outcome.reply for outcome in outcomes]

    async def commit_system_change(
        self, action: str, apply: Callable[[Changes], None], *, desk: str = "hub"
    ) -> list[KVMsg]:
        """A change the hub makes itself (presence, clock sweep, handover): commit, publish."""
        assert self.dispatcher is not None
        assert self.sockets is not None
        async with self._write_lock:
            published = self.dispatcher.record_system_change(action, apply, desk=desk)
            await self._publish(published)
        return published

    async def _publish(self, published: list[KVMsg]) -> None:
        """Send committed updates; if the database moved on without us, reload the live map
        from it instead (desks see the higher sequence in the next HUGZ and resync)."""
        assert self.dispatcher is not None
        assert self.sockets is not None
        if self.dispatcher.sequence_jumped:
            self.dispatcher.sequence_jumped = False
            sequence = self.dispatcher.sequence
            self.sockets.load(live_messages(self.engine, sequence, self.clock()), sequence)
            self.dispatcher.live = self.sockets.live  # load() made a new map
            log.warning("live map reloaded at sequence %d", sequence)
        elif published:
            await self.sockets.publish(published)

    def _poke_scheduler(self) -> None:
        """A change may move the next due moment; recompute it soon, at most a few times a
        second however busy the hub is."""
        if self.scheduler is None or self._wake_pending:
            return
        self._wake_pending = True

        def wake() -> None:
            self._wake_pending = False
            if self.scheduler is not None:
                self.scheduler.reschedule_wake()

        asyncio.get_running_loop().call_later(0.25, wake)

    async def _on_presence(self, desk_id: str, body: dict[str, Any] | None) -> None:
        assert self.dispatcher is not None
        assert self.sockets is not None

        def apply(changes: Changes) -> None:
            action = "desk_online" if body is not None else "desk_offline"
            summary = f"Desk {desk_id} " + ("online" if body is not None else "offline")
            changes.record(key=desk_key(desk_id), action=action, summary=summary, body=body)

        await self.commit_system_change("presence", apply, desk=desk_id)

    def request_stop(self) -> None:
        self._stop.set()

    def reload_allow_list(self) -> int:
        """Re-read the desk allow-list (SIGHUP). New connections see it at once; a desk that
        is already connected stays connected until the hub restarts."""
        if self.authenticator is None:
            log.info("no desk allow-list to reload: the hub runs without keys")
            return 0
        return self.authenticator.reload()

    async def serve(self) -> None:
        """Run until `request_stop()` or SIGINT/SIGTERM; with keys, SIGHUP reloads the
        allow-list."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread
                loop.add_signal_handler(sig, self.request_stop)
        sighup = getattr(signal, "SIGHUP", None)
        if sighup is not None and self.settings.secure:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sighup, self.reload_allow_list)
        try:
            await self.start()
            await self._stop.wait()
        finally:
            await self.stop()

    async def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown()
            self.scheduler = None
        if self.sockets is not None:
            await self.sockets.stop()
            self.sockets = None
        if self.authenticator is not None:  # only after the CURVE sockets are closed
            self.authenticator.stop()
            self.authenticator = None
        if self._context is not None:
            self._context.destroy(linger=0)
            self._context = None
        self.engine.dispose()
        log.info("hub stopped")
