"""A desk's replica of the hub's live state: the Clone client of RFC 12/CHP as a state machine.

    INITIAL --open sockets--> SYNCING --KTHXBAI--> ACTIVE --gap, HUGZ ahead, silence--> RESYNCING
    RESYNCING --KTHXBAI--> ACTIVE;  close() from anywhere --> STOPPED

The SUB socket (updates and HUGZ) is connected first and kept for good; each snapshot uses a
fresh DEALER. Updates at or below the snapshot's sequence are dropped, the next one is
applied, a gap means a resync. Knows nothing of Textual: `events()` yields plain facts.
With `client_keys` and the hub's `server_public_key`, every socket it makes (the re-created
DEALERs too) talks CURVE.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any, Self

import zmq
import zmq.asyncio

from messaging.kvmsg import KVMsg
from messaging.protocol import (
    DEFAULT_PORT,
    HUGZ,
    ICANHAZ,
    KTHXBAI,
    PRESENCE_TTL,
    RETRY_INTERVAL,
    SILENCE_TIMEOUT,
    FrameError,
    Ports,
    check_subtree,
    desk_key,
)
from messaging.replica_events import (
    HubReached,
    KeyChanged,
    ReplicaEvent,
    ReplicaState,
    Resyncing,
    SnapshotApplied,
)
from messaging.security import ClientKeys, client_curve
from messaging.sockets import close_socket, new_socket, sleep_unless, wait_readable

__all__ = [
    "HubReached",
    "KeyChanged",
    "Replica",
    "ReplicaEvent",
    "ReplicaState",
    "Resyncing",
    "SnapshotApplied",
]

log = logging.getLogger(__name__)

_SUB_HWM = 10_000


class Replica:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        desk_id: str,
        presence: Mapping[str, Any] | None = None,
        subtree: str = "",
        context: zmq.asyncio.Context | None = None,
        silence_timeout: float = SILENCE_TIMEOUT,
        presence_ttl: float = PRESENCE_TTL,
        retry_interval: float = RETRY_INTERVAL,
        client_keys: ClientKeys | None = None,
        server_public_key: str | None = None,
    ) -> None:
        if silence_timeout <= 0 or presence_ttl <= 0 or retry_interval < 0:
            raise ValueError("timeouts must be positive")
        self._security = client_curve(client_keys, server_public_key)
        self.desk_id = desk_id
        self._presence_key = desk_key(desk_id)
        self._subtree = check_subtree(subtree)
        ports = Ports.from_base(port)
        self._snapshot_endpoint = f"tcp://{host}:{ports.snapshot}"
        self._updates_endpoint = f"tcp://{host}:{ports.updates}"
        self._collector_endpoint = f"tcp://{host}:{ports.collector}"
        self._context = context
        self._silence = silence_timeout
        self._ttl = presence_ttl
        self._retry = retry_interval
        self._presence = self._checked_presence(presence or {})

        self.data: dict[str, dict[str, Any]] = {}
        self.sequence = 0
        self.state = ReplicaState.INITIAL

        self._stop = asyncio.Event()
        self._running = False
        self._sub: zmq.asyncio.Socket | None = None
        self._pub: zmq.asyncio.Socket | None = None
        self._dealer: zmq.asyncio.Socket | None = None
        self._lost = False  # a loss was reported; say HubReached on the next snapshot
        self._caught_up = False  # heard something sent after the snapshot
        self._last_heard = 0.0
        self._next_presence = 0.0
        self._retry_at = 0.0

    # -- public API ---------------------------------------------------------------------

    @property
    def presence(self) -> dict[str, Any]:
        return dict(self._presence)

    async def set_presence(self, presence: Mapping[str, Any]) -> None:
        """Change what this desk announces about itself; sent at once when active."""
        self._presence = self._checked_presence(presence)
        if self.state is ReplicaState.ACTIVE and self._pub is not None:
            await self._send_presence()

    async def events(self) -> AsyncIterator[ReplicaEvent]:
        """Run the state machine until `close()`, yielding what happened."""
        if self._running:
            raise RuntimeError("events() is already running for this replica")
        if self.state is ReplicaState.STOPPED:
            return
        self._running = True
        try:
            self._open()
            self.state = ReplicaState.SYNCING
            while not self._stop.is_set():
                if self.state is ReplicaState.ACTIVE:
                    batch = await self._step_active()
                else:
                    batch = await self._step_sync()
                for event in batch:
                    yield event
        finally:
            self._running = False
            self._close_sockets()
            self.state = ReplicaState.STOPPED

    async def close(self) -> None:
        self._stop.set()
        self.state = ReplicaState.STOPPED
        self._close_sockets()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- sockets ------------------------------------------------------------------------

    def _open(self) -> None:
        context = self._context or zmq.asyncio.Context.instance()
        sub = new_socket(context, zmq.SUB, security=self._security)
        sub.setsockopt(zmq.RCVHWM, _SUB_HWM)
        sub.setsockopt(zmq.SUBSCRIBE, self._subtree.encode("utf-8"))
        if self._subtree:
            sub.setsockopt(zmq.SUBSCRIBE, HUGZ.encode("ascii"))
        sub.connect(self._updates_endpoint)
        self._sub = sub
        pub = new_socket(context, zmq.PUB, security=self._security)
        pub.connect(self._collector_endpoint)
        self._pub = pub

    def _close_sockets(self) -> None:
        for sock in (self._dealer, self._sub, self._pub):
            close_socket(sock)
        self._dealer = self._sub = self._pub = None

    def _checked_presence(self, presence: Mapping[str, Any]) -> dict[str, Any]:
        body = dict(presence)
        KVMsg.from_json(self._presence_key, 0, body)  # FrameError unless JSON-ready
        return body

    async def _send_presence(self) -> None:
        msg = KVMsg.from_json(
            self._presence_key, 0, self._presence, properties={"ttl": f"{self._ttl:g}"}
        )
        if self._pub is not None:
            await self._pub.send_multipart(msg.to_frames())

    # -- SYNCING / RESYNCING ------------------------------------------------------------

    async def _step_sync(self) -> list[ReplicaEvent]:
        """One snapshot attempt: a fresh DEALER, ICANHAZ?, frames until KTHXBAI."""
        loop = asyncio.get_running_loop()
        delay = self._retry_at - loop.time()
        if delay > 0:
            await sleep_unless(self._stop, delay)
            if self._stop.is_set():
                return []
        context = self._context or zmq.asyncio.Context.instance()
        close_socket(self._dealer)
        dealer = self._dealer = new_socket(context, zmq.DEALER, security=self._security)
        dealer.connect(self._snapshot_endpoint)
        await dealer.send_multipart([ICANHAZ, self._subtree.encode("utf-8")])
        snapshot: dict[str, dict[str, Any]] = {}
        while await wait_readable(dealer, self._silence, self._stop):
            sequence = self._on_snapshot_frame(await dealer.recv_multipart(), snapshot)
            if sequence is not None:
                close_socket(dealer)
                self._dealer = None
                return self._apply_snapshot(snapshot, sequence)
        close_socket(dealer)
        self._dealer = None
        if self._stop.is_set():
            return []
        log.info("no snapshot from %s within %g s", self._snapshot_endpoint, self._silence)
        self._retry_at = loop.time() + self._retry
        if self._lost:
            return []
        self._lost = True
        return [Resyncing("hub unreachable")]

    def _on_snapshot_frame(self, frames: list[bytes], snapshot: dict[str, dict]) -> int | None:
        """Store one snapshot entry; return the sequence once KTHXBAI arrives."""
        try:
            msg = KVMsg.from_frames(frames)
            if msg.key == KTHXBAI:
                if msg.body != self._subtree.encode("utf-8"):
                    raise FrameError("KTHXBAI for another subtree")
                return msg.sequence
            if msg.is_special or not msg.key.startswith(self._subtree):
                raise FrameError(f"unexpected key {msg.key[:60]!r} in a snapshot")
            body = msg.json()
            if body is None:
                raise FrameError(f"snapshot entry {msg.key} has no body")
        except FrameError as exc:
            log.warning("dropped a bad snapshot frame: %s", exc)
            return None
        snapshot[msg.key] = body
        return None

    def _apply_snapshot(self, snapshot: dict[str, dict], sequence: int) -> list[ReplicaEvent]:
        now = asyncio.get_running_loop().time()
        self.data.clear()
        self.data.update(snapshot)
        self.sequence = sequence
        self.state = ReplicaState.ACTIVE
        self._caught_up = False
        self._last_heard = now
        self._next_presence = now  # announce this desk at once
        log.info("snapshot of %d keys applied at sequence %d", len(snapshot), sequence)
        events: list[ReplicaEvent] = []
        if self._lost:
            self._lost = False
            events.append(HubReached())
        events.append(SnapshotApplied(sequence, len(snapshot)))
        return events

    def _resync(self, reason: str, *, lost: bool = False) -> list[ReplicaEvent]:
        log.info("resyncing: %s", reason)
        self.state = ReplicaState.RESYNCING
        self._retry_at = 0.0
        self._lost = self._lost or lost
        return [Resyncing(reason)]

    # -- ACTIVE -------------------------------------------------------------------------

    async def _step_active(self) -> list[ReplicaEvent]:
        """Wait for one update (or HUGZ), refreshing presence and watching for silence."""
        loop = asyncio.get_running_loop()
        if loop.time() >= self._next_presence:
            await self._send_presence()
            self._next_presence = loop.time() + self._ttl / 3
        sub = self._sub
        if sub is None:
            return []
        wait = min(self._last_heard + self._silence, self._next_presence) - loop.time()
        if not await wait_readable(sub, wait, self._stop):
            if not self._stop.is_set() and loop.time() - self._last_heard >= self._silence:
                return self._resync(f"hub silent for {self._silence:g} s", lost=True)
            return []
        frames = await sub.recv_multipart()
        self._last_heard = loop.time()
        return self._on_update(frames)

    def _on_update(self, frames: list[bytes]) -> list[ReplicaEvent]:
        try:
            msg = KVMsg.from_frames(frames)
        except FrameError as exc:
            log.warning("dropped a bad update: %s", exc)
            return []
        if msg.key == HUGZ:
            return self._on_hugz(msg.sequence)
        if msg.is_special or not msg.key.startswith(self._subtree):
            log.warning("dropped an update for unexpected key %r", msg.key[:60])
            return []
        if msg.sequence <= self.sequence:
            if self._caught_up:
                return self._resync(f"hub sequence went back to {msg.sequence}")
            return []  # already in the snapshot
        if msg.sequence > self.sequence + 1:
            return self._resync(f"missed update {self.sequence + 1}")
        try:
            body = msg.json()
        except FrameError as exc:
            # Not applied: the next update shows a gap and a snapshot repairs the state.
            log.warning("dropped update %d of %s: %s", msg.sequence, msg.key, exc)
            return []
        self.sequence = msg.sequence
        self._caught_up = True
        if body is None:
            self.data.pop(msg.key, None)
        else:
            self.data[msg.key] = body
        return [KeyChanged(msg.key, msg.sequence, body)]

    def _on_hugz(self, sequence: int) -> list[ReplicaEvent]:
        if sequence > self.sequence:
            return self._resync(f"missed update {self.sequence + 1}")
        if sequence == self.sequence:
            self._caught_up = True
        elif self._caught_up:
            return self._resync(f"hub sequence went back to {sequence}")
        return []
