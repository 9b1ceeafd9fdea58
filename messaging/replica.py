"""A desk's replica of the hub's live state: the Clone client of RFC 12/CHP as a state machine.

    INITIAL --open sockets--> SYNCING --KTHXBAI--> ACTIVE --gap, HUGZ ahead, silence--> RESYNCING
    RESYNCING --KTHXBAI--> ACTIVE;  close() from anywhere --> STOPPED

The SUB socket (updates and HUGZ) is connected first and kept for good; each snapshot uses a
fresh DEALER. Updates at or below the snapshot's sequence are dropped, the next one is
applied, a gap means a resync. Knows nothing of Textual: `events()` yields plain facts.
With `client_keys` and the hub's `server_public_key`, every socket it makes (the re-created
DEALERs too) talks CURVE. `data` keeps the bulky bodies (referrals) as the bytes the hub sent
(see `ReplicaData`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any, Self

import zmq
import zmq.asyncio

from messaging.curve import ClientKeys, client_curve
from messaging.kvmsg import KVMsg
from messaging.protocol import (
    DEFAULT_PORT,
    HUGZ,
    ICANHAZ,
    KTHXBAI,
    PRESENCE_TTL,
    REFERRAL,
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
from messaging.sockets import close_socket, new_socket, sleep_unless, wait_readable

__all__ = [
    "HubReached",
    "KeyChanged",
    "Replica",
    "ReplicaData",
    "ReplicaEvent",
    "ReplicaState",
    "Resyncing",
    "SnapshotApplied",
]

log = logging.getLogger(__name__)

_SUB_HWM = 10_000
_DRAIN = 512
"""Most snapshot messages taken off the socket in one go."""
_SNAPSHOT_HWM = 200
"""Snapshot messages this desk's ZeroMQ holds for it: the rest of a snapshot not yet read
waits at the hub (its ROUTER queues without limit), not in this process's memory."""
_ANNOUNCE_RETRY = 0.1
"""First wait before announcing this desk again while the hub has not echoed it: the first
announcement goes out as the PUB socket connects, before the hub's SUB has subscribed, and
ZeroMQ drops it (the slow joiner). The wait doubles up to the usual refresh."""

Body = dict[str, Any]
Digest = Callable[[str, Body], object]
"""Made once from a raw body as it arrives (a desk's board row): what the desk needs from it
without parsing it again."""


class ReplicaData(Mapping[str, Body]):
    """The replica's keys and bodies, read-only for everyone but the replica.

    A body under one of `raw_subtrees` is kept as the JSON the hub sent (checked to be an
    object when it arrived) and parsed into a new dict each time it is read: referrals are
    most of a hub's live state (2,000 of 2,150 keys at a busy hub: 1.6 MB as bytes, 8 MB as
    dicts) and a desk reads them once into its board, then one at a time. Other bodies are
    kept parsed. To find some keys, scan the keys (`for key in data`) and read only the
    bodies wanted: iterating `items()` parses every referral.

    With a `digest`, each raw body's digest is made from the one parse on arrival and kept
    in `digests` (a desk keeps its board rows there, so a snapshot of 2,000 referrals is
    parsed once, not twice). A digest that raises is logged and kept as None.
    """

    __slots__ = ("_bodies", "_digest", "_digests", "_raw_subtrees")

    def __init__(
        self, raw_subtrees: tuple[str, ...] = (REFERRAL,), digest: Digest | None = None
    ) -> None:
        self._raw_subtrees = raw_subtrees
        self._digest = digest
        self._bodies: dict[str, bytes | Body] = {}
        self._digests: dict[str, object] = {}

    def __getitem__(self, key: str) -> Body:
        body = self._bodies[key]
        return json.loads(body.decode("utf-8")) if isinstance(body, bytes) else body

    def __contains__(self, key: object) -> bool:
        return key in self._bodies

    def __iter__(self) -> Iterator[str]:
        return iter(self._bodies)

    def __len__(self) -> int:
        return len(self._bodies)

    def __repr__(self) -> str:
        return f"<ReplicaData: {len(self._bodies)} keys>"

    @property
    def digests(self) -> Mapping[str, object]:
        """The digest of each raw body, by key; empty without a `digest`. Read-only."""
        return self._digests

    # -- the replica's side -------------------------------------------------------------

    def put(self, key: str, body: Body, raw: bytes) -> None:
        """Keep `key`'s `body` (parsed from `raw`): as `raw` under a raw subtree, with its
        digest; else as `body`."""
        if not key.startswith(self._raw_subtrees):
            self._bodies[key] = body
            return
        self._bodies[key] = raw
        if self._digest is not None:
            try:
                self._digests[key] = self._digest(key, body)
            except Exception:
                log.exception("no digest of %s", key[:80])
                self._digests[key] = None

    def discard(self, key: str) -> None:
        self._bodies.pop(key, None)
        self._digests.pop(key, None)

    def empty(self) -> ReplicaData:
        """A new, empty store kept the same way: a snapshot is gathered in one."""
        return ReplicaData(self._raw_subtrees, self._digest)

    def replace(self, other: ReplicaData) -> None:
        """Everything at once, from a snapshot gathered in `other` (which is left empty)."""
        self._bodies, other._bodies = other._bodies, {}
        self._digests, other._digests = other._digests, {}


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
        digest: Digest | None = None,
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

        self.data = ReplicaData(digest=digest)
        self.sequence = 0
        self.state = ReplicaState.INITIAL

        self._stop = asyncio.Event()
        self._running = False
        self._sub: zmq.asyncio.Socket | None = None
        self._pub: zmq.asyncio.Socket | None = None
        self._dealer: zmq.asyncio.Socket | None = None
        self._early_sub: zmq.asyncio.Socket | None = None  # made by request_snapshot,
        self._early_dealer: zmq.asyncio.Socket | None = None  # until events() takes them
        self._lost = False  # a loss was reported; say HubReached on the next snapshot
        self._caught_up = False  # heard something sent after the snapshot
        self._last_heard = 0.0
        self._next_presence = 0.0
        self._presence_sent = 0.0
        self._announce_retry = _ANNOUNCE_RETRY
        self._retry_at = 0.0

    # -- public API ---------------------------------------------------------------------

    @property
    def presence(self) -> dict[str, Any]:
        return dict(self._presence)

    async def set_presence(self, presence: Mapping[str, Any]) -> None:
        """Change what this desk announces about itself; sent at once when active."""
        self._presence = self._checked_presence(presence)
        self._announce_retry = _ANNOUNCE_RETRY
        if self.state is ReplicaState.ACTIVE and self._pub is not None:
            await self._announce(asyncio.get_running_loop().time())

    def request_snapshot(self) -> None:
        """Subscribe and ask for the first snapshot now, before the event loop runs: the
        hub sends it while the desk starts its UI (2,000 referrals take it tens of
        milliseconds), and `events()` finds it waiting. Optional: `events()` asks for itself
        otherwise. The two sockets are the loop's kind (zmq.asyncio), which can be made before
        a loop runs; the request goes out through a plain view of the DEALER. (Not plain
        sockets adopted later with `from_socket`: the plain owner, collected later, closes
        its handle again, and by then the handle may be another socket's.)"""
        if self.state is not ReplicaState.INITIAL or self._early_sub is not None:
            return
        context = self._context or zmq.asyncio.Context.instance()
        sub = self._subscriber(context)
        dealer = None
        try:
            dealer = self._snapshot_dealer(context)
            plain = zmq.Socket.shadow(dealer.underlying)  # a view: closes nothing
            plain.send_multipart(self._icanhaz())  # queued until the connection is up
        except BaseException:
            close_socket(sub)
            close_socket(dealer)
            raise
        self._early_sub, self._early_dealer = sub, dealer

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
        if self._early_sub is not None:
            self._sub, self._early_sub = self._early_sub, None
        else:
            self._sub = self._subscriber(context)
        pub = new_socket(context, zmq.PUB, security=self._security)
        pub.connect(self._collector_endpoint)
        self._pub = pub

    def _subscriber(self, context: zmq.asyncio.Context) -> zmq.asyncio.Socket:
        """The SUB socket for updates and HUGZ, connected (made first: see the module)."""
        sub = new_socket(context, zmq.SUB, security=self._security)
        try:
            sub.setsockopt(zmq.RCVHWM, _SUB_HWM)
            sub.setsockopt(zmq.SUBSCRIBE, self._subtree.encode("utf-8"))
            if self._subtree:
                sub.setsockopt(zmq.SUBSCRIBE, HUGZ.encode("ascii"))
            sub.connect(self._updates_endpoint)
        except BaseException:
            sub.close(linger=0)
            raise
        return sub

    def _snapshot_dealer(self, context: zmq.asyncio.Context) -> zmq.asyncio.Socket:
        """A DEALER for one snapshot, connected."""
        dealer = new_socket(context, zmq.DEALER, security=self._security)
        try:
            dealer.setsockopt(zmq.RCVHWM, _SNAPSHOT_HWM)
            dealer.connect(self._snapshot_endpoint)
        except BaseException:
            dealer.close(linger=0)
            raise
        return dealer

    def _icanhaz(self) -> list[bytes]:
        return [ICANHAZ, self._subtree.encode("utf-8")]

    def _close_sockets(self) -> None:
        # The early two are there only if events() never took them over.
        for sock in (self._dealer, self._sub, self._pub, self._early_sub, self._early_dealer):
            close_socket(sock)
        self._dealer = self._sub = self._pub = self._early_sub = self._early_dealer = None

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

    def _hub_knows_us(self) -> bool:
        """The hub's state (as replicated here) holds this desk's presence as announced;
        taken as true when this replica's subtree leaves desks out (it cannot see them)."""
        if not self._presence_key.startswith(self._subtree):
            return True
        return self.data.get(self._presence_key) == self._presence

    async def _announce(self, now: float) -> None:
        """Announce this desk; refresh it after ttl/3 if the hub already shows it, else try
        again soon (see `_ANNOUNCE_RETRY`)."""
        await self._send_presence()
        self._presence_sent = now
        if self._hub_knows_us():
            self._next_presence = now + self._ttl / 3
        else:
            self._next_presence = now + self._announce_retry
            self._announce_retry = min(self._announce_retry * 2, self._ttl / 3)

    def _on_own_presence(self) -> None:
        """The hub echoed this desk's presence: back to refreshing it every ttl/3."""
        if self._hub_knows_us():
            self._announce_retry = _ANNOUNCE_RETRY
            self._next_presence = self._presence_sent + self._ttl / 3

    # -- SYNCING / RESYNCING ------------------------------------------------------------

    async def _step_sync(self) -> list[ReplicaEvent]:
        """One snapshot attempt: a fresh DEALER, ICANHAZ?, frames until KTHXBAI."""
        loop = asyncio.get_running_loop()
        delay = self._retry_at - loop.time()
        if delay > 0:
            await sleep_unless(self._stop, delay)
            if self._stop.is_set():
                return []
        close_socket(self._dealer)
        if self._early_dealer is not None:  # asked already, by request_snapshot
            dealer = self._dealer = self._early_dealer
            self._early_dealer = None
        else:
            context = self._context or zmq.asyncio.Context.instance()
            dealer = self._dealer = self._snapshot_dealer(context)
            await dealer.send_multipart(self._icanhaz())
        snapshot = self.data.empty()
        plain = zmq.Socket.shadow(dealer.underlying)  # takes what is waiting, no futures
        while await wait_readable(dealer, self._silence, self._stop):
            for frames in _waiting(plain, _DRAIN):
                sequence = self._on_snapshot_frame(frames, snapshot)
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

    def _on_snapshot_frame(self, frames: list[bytes], snapshot: ReplicaData) -> int | None:
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
        snapshot.put(msg.key, body, msg.body)
        return None

    def _apply_snapshot(self, snapshot: ReplicaData, sequence: int) -> list[ReplicaEvent]:
        now = asyncio.get_running_loop().time()
        keys = len(snapshot)
        self.data.replace(snapshot)
        self.sequence = sequence
        self.state = ReplicaState.ACTIVE
        self._caught_up = False
        self._last_heard = now
        self._next_presence = now  # announce this desk at once
        self._announce_retry = _ANNOUNCE_RETRY
        log.info("snapshot of %d keys applied at sequence %d", keys, sequence)
        events: list[ReplicaEvent] = []
        if self._lost:
            self._lost = False
            events.append(HubReached())
        events.append(SnapshotApplied(sequence, keys))
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
            await self._announce(loop.time())
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
            self.data.discard(msg.key)
        else:
            self.data.put(msg.key, body, msg.body)
        if msg.key == self._presence_key:
            self._on_own_presence()
        return [KeyChanged(msg.key, msg.sequence, body)]

    def _on_hugz(self, sequence: int) -> list[ReplicaEvent]:
        if sequence > self.sequence:
            return self._resync(f"missed update {self.sequence + 1}")
        if sequence == self.sequence:
            self._caught_up = True
        elif self._caught_up:
            return self._resync(f"hub sequence went back to {sequence}")
        return []


def _waiting(sock: zmq.Socket, limit: int) -> list[list[bytes]]:
    """The messages already waiting on `sock` (at most `limit`), without waiting for more.
    A poll and a future per message cost the snapshot of a busy hub (2,000+ messages)
    more than parsing them does."""
    messages: list[list[bytes]] = []
    while len(messages) < limit:
        try:
            messages.append(sock.recv_multipart(zmq.NOBLOCK))
        except zmq.Again:
            break
    return messages
