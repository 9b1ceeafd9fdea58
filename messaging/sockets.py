"""Small helpers shared by the hub's and the desk's sockets (zmq.asyncio only).

Sockets are made inside the running loop, with linger=0 and an inbound size limit, and are
never handed to a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

import zmq
import zmq.asyncio

from messaging.protocol import MAX_FRAME_BYTES

log = logging.getLogger(__name__)

_RECEIVERS = frozenset({zmq.ROUTER, zmq.DEALER, zmq.SUB})


class SocketSecurity(Protocol):
    """Sets a socket's security options (CURVE keys) before it binds or connects."""

    def apply(self, sock: zmq.Socket) -> None: ...


def new_socket(
    context: zmq.asyncio.Context,
    kind: int,
    *,
    sndhwm: int | None = None,
    security: SocketSecurity | None = None,
) -> zmq.asyncio.Socket:
    """A socket with linger=0, if it receives a limit on each inbound frame, and the given
    security (messaging.security's ServerKeys or CurveClient) set before any bind/connect."""
    sock = context.socket(kind)
    try:
        sock.setsockopt(zmq.LINGER, 0)
        if kind in _RECEIVERS:
            sock.setsockopt(zmq.MAXMSGSIZE, MAX_FRAME_BYTES)
        if sndhwm is not None:
            sock.setsockopt(zmq.SNDHWM, sndhwm)
        if security is not None:
            security.apply(sock)
    except BaseException:
        sock.close(linger=0)
        raise
    return sock


def close_socket(sock: zmq.asyncio.Socket | None) -> None:
    if sock is not None and not sock.closed:
        sock.close(linger=0)


async def wait_readable(
    sock: zmq.asyncio.Socket, within: float | None, stop: asyncio.Event | None = None
) -> bool:
    """True when a message is waiting; False after `within` seconds or once `stop` is set.

    `within=None` waits for ever (or until `stop`). Waiting on poll() consumes nothing, so
    a message is never lost to a timeout.
    """
    if stop is not None and stop.is_set():
        return False
    if sock.get(zmq.EVENTS) & zmq.POLLIN:
        return True
    if within is not None and within <= 0:
        return False
    timeout_ms = None if within is None else max(1, round(within * 1000))
    poll = asyncio.ensure_future(sock.poll(timeout_ms, zmq.POLLIN))
    waiters: set[asyncio.Future] = {poll}
    if stop is not None:
        waiters.add(asyncio.ensure_future(stop.wait()))
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            if not waiter.done():
                waiter.cancel()
    if (stop is not None and stop.is_set()) or poll.cancelled():
        return False
    if poll.exception() is not None:
        log.debug("poll failed: %s", poll.exception())
        return False
    return bool(poll.result() & zmq.POLLIN)


async def sleep_unless(stop: asyncio.Event, delay: float) -> None:
    """Sleep for `delay` seconds, or less if `stop` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), delay)
