"""A desk's command client: one DEALER to the hub's command ROUTER (P+3), lazy-pirate style.

A command that gets no reply within `timeout` is sent again, with the SAME id, on a fresh
socket, up to `retries` times in all; the hub de-duplicates by id, so a retry after a lost
reply returns the first result and never changes anything twice. With `client_keys` and the
hub's `server_public_key` every socket it makes talks CURVE.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Mapping
from typing import Any, Self

import zmq
import zmq.asyncio

from messaging.curve import ClientKeys, client_curve
from messaging.envelope import CommandEnvelope, Reply
from messaging.protocol import DEFAULT_PORT, FrameError, Ports
from messaging.sockets import close_socket, new_socket, wait_readable

log = logging.getLogger(__name__)


class CommandRefused(Exception):
    """The hub refused a command; `message` is meant for the user as it is."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class HubUnavailable(Exception):
    """The hub did not answer a command after every retry."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CommandClient:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        actor: int,
        desk: str,
        context: zmq.asyncio.Context | None = None,
        timeout: float = 5.0,
        retries: int = 3,
        client_keys: ClientKeys | None = None,
        server_public_key: str | None = None,
    ) -> None:
        if timeout <= 0 or retries < 1:
            raise ValueError("timeout must be positive and retries at least 1")
        self._security = client_curve(client_keys, server_public_key)
        self.actor = actor
        self.desk = desk
        self.last_sequence: int | None = None
        self._endpoint = f"tcp://{host}:{Ports.from_base(port).commands}"
        self._context = context
        self._timeout = timeout
        self._retries = retries
        self._dealer: zmq.asyncio.Socket | None = None
        self._lock = asyncio.Lock()
        self._closed = False

    async def call(
        self,
        command: str,
        args: Mapping[str, Any] | None = None,
        *,
        command_id: str | None = None,
    ) -> dict[str, Any]:
        """Send a command and return its result; CommandRefused or HubUnavailable otherwise.

        Pass the same `command_id` when the user retries a command the hub did not answer:
        the hub de-duplicates by id, so the retry returns the first result instead of doing
        it twice. Without one, a fresh id is made.
        """
        envelope = CommandEnvelope.new(command, args, actor=self.actor, desk=self.desk)
        if command_id is not None:
            envelope = dataclasses.replace(envelope, id=command_id)
        reply = await self.request(envelope)
        if not reply.ok:
            raise CommandRefused(reply.error_code or "unknown", reply.message or "", reply.field)
        return reply.result or {}

    async def request(self, envelope: CommandEnvelope) -> Reply:
        """Send a prepared envelope with retries and return the hub's reply, ok or not."""
        if self._closed:
            raise HubUnavailable("The command client is closed.")
        payload = envelope.to_bytes()
        async with self._lock:
            for attempt in range(1, self._retries + 1):
                dealer = self._socket()
                await dealer.send(payload)
                reply = await self._wait_reply(dealer, envelope.id)
                if reply is not None:
                    self.last_sequence = reply.sequence
                    return reply
                log.warning(
                    "no reply to %s (%s) within %g s, try %d of %d",
                    envelope.command,
                    envelope.id,
                    self._timeout,
                    attempt,
                    self._retries,
                )
                self._drop_socket()
                if self._closed:
                    break
        raise HubUnavailable(
            f"The hub did not answer ({envelope.command}) after {self._retries} tries."
        )

    async def close(self) -> None:
        self._closed = True
        self._drop_socket()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def _socket(self) -> zmq.asyncio.Socket:
        if self._dealer is None:
            context = self._context or zmq.asyncio.Context.instance()
            self._dealer = new_socket(context, zmq.DEALER, security=self._security)
            self._dealer.connect(self._endpoint)
        return self._dealer

    def _drop_socket(self) -> None:
        close_socket(self._dealer)
        self._dealer = None

    async def _wait_reply(self, dealer: zmq.asyncio.Socket, command_id: str) -> Reply | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        while not self._closed and await wait_readable(dealer, deadline - loop.time()):
            frames = await dealer.recv_multipart()
            if len(frames) != 1:
                log.warning("dropped a reply of %d frames", len(frames))
                continue
            try:
                reply = Reply.from_bytes(frames[0])
            except FrameError as exc:
                log.warning("dropped a bad reply: %s", exc)
                continue
            if reply.id is not None and reply.id != command_id:
                log.info("dropped a late reply to %s", reply.id)
                continue
            return reply
        return None
