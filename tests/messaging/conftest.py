"""Fixtures for messaging tests: real sockets on tcp://127.0.0.1 with free random ports."""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from messaging.envelope import CommandEnvelope, Reply
from messaging.hub_sockets import HubSockets
from messaging.kvmsg import KVMsg
from messaging.replica import Replica, ReplicaEvent

RECEIVE_TIMEOUT = 5.0
SILENCE = 0.5
HEARTBEAT = 0.1


def _ports_free(base: int) -> bool:
    for port in range(base, base + 4):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def free_base_port() -> int:
    """A random base port P with P..P+3 all free on 127.0.0.1."""
    for _ in range(200):
        base = random.randrange(20_000, 60_000)
        if _ports_free(base):
            return base
    raise RuntimeError("no four free ports in a row")


@pytest.fixture
def base_port() -> int:
    return free_base_port()


async def wait_until(predicate: Callable[[], bool], timeout: float = RECEIVE_TIMEOUT) -> None:
    """Poll `predicate` every 10 ms until it holds; fail after `timeout` seconds."""
    for _ in range(int(timeout / 0.01)):
        if predicate():
            return
        await asyncio.sleep(0.01)
    if not predicate():
        raise TimeoutError(f"condition still false after {timeout} s")


class Store:
    """Test scaffolding standing in for the hub's command handlers: a tiny key store."""

    def __init__(self) -> None:
        self.hub: HubSockets | None = None
        self.calls: list[CommandEnvelope] = []
        self.delay_first = 0.0
        self.presence: list[tuple[str, dict[str, Any] | None]] = []

    async def on_presence(self, desk_id: str, body: dict[str, Any] | None) -> None:
        self.presence.append((desk_id, body))

    async def on_command(self, env: CommandEnvelope) -> Reply:
        self.calls.append(env)
        assert self.hub is not None
        if len(self.calls) == 1 and self.delay_first:
            await asyncio.sleep(self.delay_first)
        if env.command == "put":
            sequence = self.hub.sequence + 1
            await self.hub.publish([KVMsg.from_json(env.args["key"], sequence, env.args["body"])])
            return Reply.success(env.id, {"key": env.args["key"]}, sequence)
        if env.command == "delete":
            sequence = self.hub.sequence + 1
            await self.hub.publish([KVMsg.from_json(env.args["key"], sequence, None)])
            return Reply.success(env.id, {}, sequence)
        if env.command == "refuse":
            return Reply.failure(env.id, "validation", "Postcode is not valid.", "postcode")
        if env.command == "boom":
            raise RuntimeError("handler bug")
        return Reply.failure(env.id, "unknown_command", f"No command {env.command}.")


SEED = [
    KVMsg.from_json("/referral/1", 1, {"patient": "Ada", "state": "received"}),
    KVMsg.from_json("/staff/7", 2, {"name": "Sam", "team": "nursing"}),
]


def as_dicts(hub: HubSockets) -> dict[str, dict[str, Any] | None]:
    return {key: msg.json() for key, msg in hub.live.items()}


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
async def hub(base_port: int, store: Store) -> AsyncIterator[HubSockets]:
    sockets = HubSockets(
        port=base_port,
        on_command=store.on_command,
        on_presence=store.on_presence,
        heartbeat_interval=HEARTBEAT,
    )
    store.hub = sockets
    sockets.load(SEED, 2)
    await sockets.start()
    yield sockets
    await sockets.stop()


class Pump:
    """Runs a replica's events() in a task and lets a test wait for one kind of event."""

    def __init__(self, replica: Replica) -> None:
        self.replica = replica
        self.seen: list[ReplicaEvent] = []
        self._queue: asyncio.Queue[ReplicaEvent] = asyncio.Queue()
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for event in self.replica.events():
            self.seen.append(event)
            self._queue.put_nowait(event)

    async def expect(
        self,
        kind: type,
        where: Callable[[Any], bool] = lambda _: True,
        timeout: float = RECEIVE_TIMEOUT,
    ) -> Any:
        async def next_match() -> Any:
            while True:
                event = await self._queue.get()
                if isinstance(event, kind) and where(event):
                    return event

        return await asyncio.wait_for(next_match(), timeout)

    async def close(self) -> None:
        await self.replica.close()
        await asyncio.wait_for(self.task, RECEIVE_TIMEOUT)


@pytest.fixture
async def make_replica(base_port: int) -> AsyncIterator[Callable[..., Pump]]:
    pumps: list[Pump] = []

    def make(desk_id: str = "desk-a", **kwargs: Any) -> Pump:
        options: dict[str, Any] = {
            "port": base_port,
            "silence_timeout": SILENCE,
            "retry_interval": 0.1,
        }
        options.update(kwargs)
        pump = Pump(Replica(desk_id=desk_id, **options))
        pumps.append(pump)
        return pump

    yield make
    for pump in pumps:
        await pump.close()
