"""The hub's four sockets and the live map that snapshots are served from.

The hub owns the database and calls `publish()` after each commit; this class owns the
sockets: snapshots (ROUTER, P), updates and HUGZ (PUB, P+1), desk presence (SUB, P+2) and
commands (ROUTER, P+3). Every bad frame is logged and dropped; nothing here crashes the hub.

With `server_keys` and a `DeskAuthenticator`, every socket is a CURVE server and ZAP lets in
only the desks on the allow-list; the sockets then use the authenticator's context, since ZAP
is per context.
"""

from __future__ import annotations

import asyncio
import logging
import types
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from typing import Any, Self

import zmq
import zmq.asyncio

from messaging.envelope import CommandEnvelope, Reply, readable_id
from messaging.kvmsg import KVMsg
from messaging.presence import PresenceTable, parse_presence
from messaging.protocol import (
    DEFAULT_PORT,
    DESK,
    HEARTBEAT_INTERVAL,
    MAX_BODY_BYTES,
    FrameError,
    Ports,
    desk_key,
    parse_icanhaz,
)
from messaging.security import DeskAuthenticator, ServerKeys
from messaging.sockets import close_socket, new_socket, wait_readable

log = logging.getLogger(__name__)

CommandHandler = Callable[[CommandEnvelope], Awaitable[Reply]]
CommandsHandler = Callable[[list[CommandEnvelope]], Awaitable[list[Reply]]]
PresenceHandler = Callable[[str, dict[str, Any] | None], Awaitable[None]]

_PUB_HWM = 10_000
_MAX_GROUP = 64
"""Most commands taken off the socket at once, for one group commit (see `on_commands`)."""
_TOO_LARGE = "The answer is too large to send: ask for fewer (e.g. a lower --limit)"


class HubSockets:
    def __init__(
        self,
        *,
        bind: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        on_command: CommandHandler | None = None,
        on_commands: CommandsHandler | None = None,
        on_presence: PresenceHandler | None = None,
        context: zmq.asyncio.Context | None = None,
        heartbeat_interval: float = HEARTBEAT_INTERVAL,
        server_keys: ServerKeys | None = None,
        authenticator: DeskAuthenticator | None = None,
    ) -> None:
        if (on_command is None) == (on_commands is None):
            raise ValueError("give one of on_command (one at a time) or on_commands (groups)")
        if (server_keys is None) != (authenticator is None):
            # CURVE without ZAP accepts any client key pair: never one without the other.
            raise ValueError("server_keys and authenticator go together")
        if authenticator is not None:
            if context is not None and context is not authenticator.context:
                raise ValueError("the authenticator must run on the sockets' context")
            context = authenticator.context
        self.ports = Ports.from_base(port)
        self._bind = bind
        self._on_command = on_command
        self._on_commands = on_commands
        self._on_presence = on_presence
        self._context = context
        self._heartbeat_interval = heartbeat_interval
        self._server_keys = server_keys
        self._authenticator = authenticator
        self._live: dict[str, KVMsg] = {}
        self._sequence = 0
        self._presence = PresenceTable()
        self._sockets: dict[str, zmq.asyncio.Socket] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._publish_lock = asyncio.Lock()
        self._last_sent = 0.0

    # -- state --------------------------------------------------------------------------

    @property
    def sequence(self) -> int:
        return self._sequence

    @property
    def live(self) -> Mapping[str, KVMsg]:
        """A read-only view of the live map (key -> latest message)."""
        return types.MappingProxyType(self._live)

    def load(self, messages: Iterable[KVMsg], sequence: int) -> None:
        """Replace the live map and the current sequence (at start-up, from the database).

        The desks online are not in the database: on a reload (the database moved on
        without this hub), each desk still announcing itself keeps its entry, so it stays
        on every board; one that cannot (its entry is newer than `sequence`) is forgotten
        and taken as new at its next announcement."""
        if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 0:
            raise ValueError(f"sequence must be a non-negative integer, not {sequence!r}")
        live: dict[str, KVMsg] = {}
        for msg in messages:
            if msg.is_special:
                raise ValueError(f"{msg.key} is not a state key")
            if msg.sequence > sequence:
                raise ValueError(f"{msg.key} has sequence {msg.sequence} > {sequence}")
            if msg.is_delete:
                live.pop(msg.key, None)
            else:
                live[msg.key] = msg
        for key, msg in self._live.items():
            desk_id = key.removeprefix(DESK)
            if key == desk_id or key in live or desk_id not in self._presence:
                continue
            if msg.sequence <= sequence:
                live[key] = msg
            else:
                self._presence.remove(desk_id)
        self._live = live
        self._sequence = sequence

    # -- life cycle ---------------------------------------------------------------------

    async def start(self) -> None:
        if self._tasks:
            raise RuntimeError("HubSockets already started")
        if self._authenticator is not None and not self._authenticator.running:
            raise RuntimeError("start the DeskAuthenticator before the hub's CURVE sockets")
        context = self._context or zmq.asyncio.Context.instance()
        plan = {
            "snapshot": (zmq.ROUTER, self.ports.snapshot),
            "updates": (zmq.PUB, self.ports.updates),
            "collector": (zmq.SUB, self.ports.collector),
            "commands": (zmq.ROUTER, self.ports.commands),
        }
        try:
            for name, (kind, port) in plan.items():
                sock = new_socket(
                    context,
                    kind,
                    sndhwm=_PUB_HWM if kind == zmq.PUB else 0,
                    security=self._server_keys,
                )
                self._sockets[name] = sock
                if kind == zmq.ROUTER:
                    sock.setsockopt(zmq.ROUTER_MANDATORY, 1)
                if kind == zmq.SUB:
                    sock.setsockopt(zmq.SUBSCRIBE, b"")
                sock.bind(f"tcp://{self._bind}:{port}")
        except BaseException:
            self._close_sockets()
            raise
        self._last_sent = asyncio.get_running_loop().time()
        self._spawn("hub-snapshots", self._serve_snapshots)
        self._spawn("hub-commands", self._serve_commands)
        self._spawn("hub-collector", self._collect)
        self._spawn("hub-heartbeat", self._heartbeat)
        log.info(
            "hub sockets bound on %s ports %d-%d (%s)",
            self._bind,
            self.ports.snapshot,
            self.ports.commands,
            "CURVE, desk keys checked by ZAP" if self._server_keys else "no encryption",
        )

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._close_sockets()
        self._presence.clear()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def _spawn(self, name: str, serve: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self._tasks.append(asyncio.create_task(self._supervise(name, serve), name=name))

    @staticmethod
    async def _supervise(name: str, serve: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run a server loop for good: a bug in one message is logged, never fatal."""
        while True:
            try:
                await serve()
            except Exception:
                log.exception("%s failed; restarting it", name)
                await asyncio.sleep(0.1)

    def _close_sockets(self) -> None:
        for sock in self._sockets.values():
            close_socket(sock)
        self._sockets.clear()

    # -- publishing ---------------------------------------------------------------------

    async def publish(self, messages: Sequence[KVMsg]) -> None:
        """Apply committed messages to the live map and send them on PUB, in order.

        Each message carries its own sequence, strictly increasing from the current one;
        anything else is a bug in the caller and raises ValueError before anything changes.
        Before `start()` the live map is updated and nothing is sent.
        """
        messages = list(messages)
        async with self._publish_lock:
            last = self._sequence
            for msg in messages:
                if msg.is_special:
                    raise ValueError(f"cannot publish the special key {msg.key}")
                if msg.sequence <= last:
                    raise ValueError(f"sequence {msg.sequence} of {msg.key} is not after {last}")
                last = msg.sequence
            pub = self._sockets.get("updates")
            for msg in messages:
                if msg.is_delete:
                    self._live.pop(msg.key, None)
                else:
                    self._live[msg.key] = msg
                self._sequence = msg.sequence
                if pub is not None:
                    await pub.send_multipart(msg.to_frames())
            self._last_sent = asyncio.get_running_loop().time()

    async def _heartbeat(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            idle = loop.time() - self._last_sent
            if idle < self._heartbeat_interval:
                await asyncio.sleep(self._heartbeat_interval - idle)
                continue
            async with self._publish_lock:
                await self._sockets["updates"].send_multipart(
                    KVMsg.hugz(self._sequence).to_frames()
                )
                self._last_sent = loop.time()

    # -- snapshots ----------------------------------------------------------------------

    async def _serve_snapshots(self) -> None:
        router = self._sockets["snapshot"]
        while True:
            frames = await router.recv_multipart()
            try:
                identity, subtree = parse_icanhaz(frames)
            except FrameError as exc:
                log.warning("dropped a bad snapshot request: %s", exc)
                continue
            # Copy first: publish() may change the map while we send.
            matching = [msg for key, msg in self._live.items() if key.startswith(subtree)]
            sequence = self._sequence
            try:
                for msg in matching:
                    await router.send_multipart([identity, *msg.to_frames()])
                await router.send_multipart(
                    [identity, *KVMsg.kthxbai(sequence, subtree).to_frames()]
                )
            except zmq.ZMQError as exc:
                log.warning("snapshot for a desk that left was dropped: %s", exc)
                continue
            log.debug("sent a snapshot of %d keys at %d for %r", len(matching), sequence, subtree)

    # -- commands -----------------------------------------------------------------------

    async def _serve_commands(self) -> None:
        """Take every command already waiting (up to `_MAX_GROUP`) as one group: under load
        the hub commits them together, and when quiet a group is one command."""
        router = self._sockets["commands"]
        while True:
            received = [await router.recv_multipart()]
            while len(received) < _MAX_GROUP:
                try:
                    received.append(await router.recv_multipart(flags=zmq.NOBLOCK))
                except zmq.Again:
                    break
            replies = await self._handle_commands([frames[1:] for frames in received])
            for frames, reply in zip(received, replies, strict=True):
                await self._send_reply(router, frames[0], reply)

    async def _send_reply(self, router: zmq.asyncio.Socket, identity: bytes, reply: Reply) -> None:
        try:
            payload = reply.to_bytes()
        except FrameError:
            log.exception("command reply %s is not JSON-ready", reply.id)
            payload = Reply.internal(reply.id).to_bytes()
        if len(payload) > MAX_BODY_BYTES:
            log.warning(
                "reply %s is %d bytes, over the %d-byte limit: sent too_large instead",
                reply.id,
                len(payload),
                MAX_BODY_BYTES,
            )
            payload = Reply.failure(reply.id, "too_large", _TOO_LARGE).to_bytes()
        try:
            await router.send_multipart([identity, payload])
        except zmq.ZMQError as exc:
            log.warning("reply %s to a desk that left was dropped: %s", reply.id, exc)

    async def _handle_commands(self, payloads: list[list[bytes]]) -> list[Reply]:
        """One reply per payload, in order: bad frames are answered here, the rest by the
        hub's handler."""
        replies: list[Reply | None] = []
        envelopes: list[CommandEnvelope] = []
        for payload in payloads:
            if len(payload) != 1:
                log.warning("dropped a command of %d frames", len(payload))
                message = f"a command is 1 frame, got {len(payload)}"
                replies.append(Reply.failure(None, "bad_request", message))
                continue
            try:
                envelopes.append(CommandEnvelope.from_bytes(payload[0]))
            except FrameError as exc:
                log.warning("refused a bad command: %s", exc)
                replies.append(Reply.failure(readable_id(payload[0]), "bad_request", str(exc)))
                continue
            except Exception as exc:  # noqa: BLE001 - e.g. JSON nested too deep: RecursionError
                log.warning("refused a command that could not be read: %r", exc)
                message = "The command could not be read"
                replies.append(Reply.failure(readable_id(payload[0]), "bad_request", message))
                continue
            replies.append(None)
        answers = iter(await self._answer(envelopes))
        return [reply if reply is not None else next(answers) for reply in replies]

    async def _answer(self, envelopes: list[CommandEnvelope]) -> list[Reply]:
        if not envelopes:
            return []
        if self._on_command is not None:
            return [await self._answer_one(self._on_command, env) for env in envelopes]
        assert self._on_commands is not None
        try:
            replies = await self._on_commands(envelopes)
            if len(replies) != len(envelopes) or not all(isinstance(r, Reply) for r in replies):
                raise TypeError("on_commands must return one Reply per command")
        except Exception:
            log.exception("a group of %d commands failed", len(envelopes))
            return [Reply.internal(env.id) for env in envelopes]
        return replies

    @staticmethod
    async def _answer_one(handler: CommandHandler, envelope: CommandEnvelope) -> Reply:
        try:
            reply = await handler(envelope)
            if not isinstance(reply, Reply):
                raise TypeError(f"on_command returned {type(reply).__name__}, not Reply")
        except Exception:
            log.exception("command %s (%s) failed", envelope.command, envelope.id)
            return Reply.internal(envelope.id)
        return reply

    # -- presence -----------------------------------------------------------------------

    async def _collect(self) -> None:
        sub = self._sockets["collector"]
        loop = asyncio.get_running_loop()
        while True:
            deadline = self._presence.next_expiry()
            timeout = None if deadline is None else deadline - loop.time()
            if await wait_readable(sub, timeout):
                frames = await sub.recv_multipart()
                await self._on_collected(frames, loop.time())
            for desk_id in self._presence.expire(loop.time()):
                log.info("desk %s went silent", desk_id)
                await self._notify_presence(desk_id, None)

    async def _on_collected(self, frames: list[bytes], now: float) -> None:
        try:
            desk_id, body, ttl = parse_presence(frames)
        except FrameError as exc:
            log.warning("dropped a bad presence frame: %s", exc)
            return
        if body is None:  # the desk says goodbye
            if self._presence.remove(desk_id):
                log.info("desk %s left", desk_id)
                await self._notify_presence(desk_id, None)
        elif self._presence.refresh(desk_id, body, ttl, now):
            log.info("desk %s is online", desk_id)
            await self._notify_presence(desk_id, body)

    async def _notify_presence(self, desk_id: str, body: dict[str, Any] | None) -> None:
        try:
            if self._on_presence is not None:
                await self._on_presence(desk_id, body)
            else:
                msg = KVMsg.from_json(desk_key(desk_id), self._sequence + 1, body)
                await self.publish([msg])
        except Exception:
            log.exception("presence of desk %s could not be recorded", desk_id)
