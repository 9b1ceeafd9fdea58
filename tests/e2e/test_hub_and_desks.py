"""A real hub process and desk replicas talking over real sockets on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import zmq
import zmq.asyncio

from messaging.command_client import CommandRefused
from messaging.protocol import ICANHAZ, Ports
from messaging.replica import Replica
from messaging.replica_events import KeyChanged, Resyncing, SnapshotApplied
from tests.conftest import RunningHub

VALID_NHS = "9991111115"


def referral(name: str = "Edna Marsh", nhs: str | None = VALID_NHS) -> dict[str, Any]:
    return {
        "patient": {"name": name, "nhs_number": nhs, "postcode": "LE2 7AB"},
        "source": "ambulance",
        "reason": "Fall at home, no injury",
        "needs": ["CRT", "NUR"],
        "priority": "crisis",
    }


class Watched:
    """A replica whose events are collected in the background, with a wait helper."""

    def __init__(self, replica: Replica) -> None:
        self.replica = replica
        self.events: list[Any] = []
        self._changed = asyncio.Event()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for event in self.replica.events():
            self.events.append(event)
            self._changed.set()

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 15.0) -> Any:
        async with asyncio.timeout(timeout):
            while not (result := predicate()):
                self._changed.clear()
                await self._changed.wait()
            return result

    async def close(self) -> None:
        await self.replica.close()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


@contextlib.asynccontextmanager
async def desks(hub: RunningHub, *names: str, **kwargs: Any) -> AsyncIterator[list[Watched]]:
    watched = [
        Watched(Replica(host=hub.host, port=hub.port, desk_id=n, presence={"desk": n}, **kwargs))
        for n in names
    ]
    try:
        for w in watched:
            await w.wait_for(lambda w=w: any(isinstance(e, SnapshotApplied) for e in w.events))
        yield watched
    finally:
        for w in watched:
            await w.close()


async def test_a_referral_reaches_both_desks_with_the_same_sequence(hub: RunningHub) -> None:
    async with desks(hub, "desk-a", "desk-b") as (a, b):
        snapshot_keys = set(a.replica.data)
        assert any(k.startswith("/referral/") for k in snapshot_keys)  # the seeded shift
        assert any(k.startswith("/staff/") for k in snapshot_keys)
        result = await hub.call("create_referral", referral())
        key = f"/referral/{result['referral_id']}"

        def seen(w: Watched) -> Callable[[], Any]:
            return lambda: [e for e in w.events if isinstance(e, KeyChanged) and e.key == key]

        [at_a] = await a.wait_for(seen(a))
        [at_b] = await b.wait_for(seen(b))
        assert at_a.sequence == at_b.sequence
        assert at_a.body == at_b.body
        assert at_a.body["patient"]["name"] == "Edna Marsh"
        assert a.replica.data[key] == b.replica.data[key]


async def test_desks_see_each_other_and_a_closed_desk_drops_off(hub: RunningHub) -> None:
    async with desks(hub, "desk-a") as (a,):
        b = Watched(
            Replica(
                host=hub.host,
                port=hub.port,
                desk_id="ward-laptop",
                presence={"desk": "ward"},
                presence_ttl=1.0,
            )  # fmt: skip
        )
        await a.wait_for(lambda: "/desk/ward-laptop" in a.replica.data)
        await b.close()
        await a.wait_for(lambda: "/desk/ward-laptop" not in a.replica.data)


async def test_bad_commands_get_a_clear_refusal_and_change_nothing(hub: RunningHub) -> None:
    before = await hub.call("list_referrals", {})
    with pytest.raises(CommandRefused) as bad_nhs:
        await hub.call("create_referral", referral(nhs="999 111 1116"))
    assert bad_nhs.value.field == "nhs_number"
    with pytest.raises(CommandRefused) as unknown:
        await hub.call("create_referral", referral(), actor=4242)
    assert "4242" in unknown.value.message
    with pytest.raises(CommandRefused) as no_such:
        await hub.call("close_referral", {"referral_id": 999999, "version": 1, "outcome": "other"})
    assert no_such.value.code == "not_found"
    assert await hub.call("list_referrals", {}) == before


async def test_malformed_frames_on_every_socket_are_dropped_and_the_hub_carries_on(
    hub: RunningHub,
) -> None:
    ports = Ports.from_base(hub.port)
    ctx = zmq.asyncio.Context.instance()
    junk = [[b"\xff\xfe"], [ICANHAZ], [ICANHAZ, b"/nonsense/"], [b"x"] * 9, [b""]]
    dealer = ctx.socket(zmq.DEALER)
    dealer.linger = 0
    dealer.connect(f"tcp://127.0.0.1:{ports.snapshot}")
    commands = ctx.socket(zmq.DEALER)
    commands.linger = 0
    commands.connect(f"tcp://127.0.0.1:{ports.commands}")
    collector = ctx.socket(zmq.PUB)
    collector.linger = 0
    collector.connect(f"tcp://127.0.0.1:{ports.collector}")
    updates = ctx.socket(zmq.SUB)  # the PUB socket ignores anything a SUB sends but subscriptions
    updates.linger = 0
    updates.connect(f"tcp://127.0.0.1:{ports.updates}")
    try:
        await asyncio.sleep(0.2)
        for frames in junk:
            await dealer.send_multipart(frames)
            await collector.send_multipart(frames)
            await commands.send_multipart(frames)
        await collector.send_multipart([b"/referral/1", b"\0" * 8, b"", b"ttl=5", b"{}"])
        await commands.send(b'{"id": "nope"}')
        replies = []
        async with asyncio.timeout(5):
            while len(replies) < len(junk) + 1:
                replies.append(await commands.recv())
        assert all(b'"ok":false' in r for r in replies)
        assert all(b"bad_request" in r for r in replies)
        # still serving
        assert hub.process is not None
        assert hub.process.poll() is None
        result = await hub.call("create_referral", referral(name="After The Junk"))
        assert result["referral_id"]
    finally:
        for s in (dealer, commands, collector, updates):
            s.close()
    assert "Traceback" not in hub.log_text()


async def test_desks_resync_across_a_hub_restart(hub: RunningHub) -> None:
    async with desks(hub, "desk-a", silence_timeout=1.0, retry_interval=0.2) as (a,):
        first = await hub.call("create_referral", referral(name="Before Restart"))
        hub.stop()
        await a.wait_for(lambda: any(isinstance(e, Resyncing) for e in a.events))
        await hub.astart()
        second = await hub.call("create_referral", referral(name="After Restart", nhs=None))
        for result in (first, second):
            key = f"/referral/{result['referral_id']}"
            await a.wait_for(lambda key=key: key in a.replica.data)
        snapshots = [e for e in a.events if isinstance(e, SnapshotApplied)]
        assert len(snapshots) >= 2
        assert a.replica.sequence >= snapshots[-1].sequence


def _cli(
    hub: RunningHub | None, *args: str, port: int | None = None
) -> subprocess.CompletedProcess[str]:
    base = ["--port", str(port if port is not None else hub.port)] if (hub or port) else []  # type: ignore[union-attr]
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", *args, *base],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )


def test_cli_adds_and_lists_referrals(hub: RunningHub) -> None:
    added = _cli(
        hub, "referral", "add", "--name", "Cli Person", "--source", "gp", "--need", "CRT",
        "--need", "MH", "--postcode", "le3 9qp", "--reason", "Carer breakdown", "--json",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    listed = _cli(hub, "referral", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert "Cli Person" in listed.stdout
    assert '"postcode": "LE3 9QP"' in listed.stdout
    table = _cli(hub, "referral", "list")
    assert "Cli Person" in table.stdout


def test_cli_bad_input_and_no_hub_give_clear_messages(hub: RunningHub) -> None:
    bad = _cli(
        hub, "referral", "add", "--name", "X", "--source", "gp", "--need", "CRT", "--nhs", "12345"
    )
    assert bad.returncode == 1
    assert "nhs_number" in bad.stderr
    assert "Traceback" not in bad.stderr
    bad_date = _cli(hub, "referral", "add", "--name", "X", "--source", "gp", "--need", "CRT",
                    "--dob", "31/02/1940")  # fmt: skip
    assert bad_date.returncode == 1
    assert "not a date" in bad_date.stderr
    from hub.ports import find_free_base_port

    nobody = _cli(None, "referral", "list", port=find_free_base_port())
    assert nobody.returncode == 2
    assert "No hub answered" in nobody.stderr


def test_cli_prints_the_handover(fixed_hub: RunningHub) -> None:
    printed = _cli(fixed_hub, "handover", "--now")
    assert printed.returncode == 0, printed.stderr
    assert "open referral" in printed.stdout
    assert "Clocks at risk" in printed.stdout  # the seeded shift has breached clocks
    assert "BREACHED" in printed.stdout
    as_json = _cli(fixed_hub, "handover", "--json")
    assert as_json.returncode == 0, as_json.stderr
    assert '"at_risk"' in as_json.stdout


async def test_the_same_command_id_twice_logs_one_referral(hub: RunningHub) -> None:
    from messaging.command_client import CommandClient

    command_id = "cd" * 16
    args = referral(name="Olive Twice", nhs=None)
    async with CommandClient(host=hub.host, port=hub.port, actor=1, desk="desk-a") as client:
        first = await client.call("create_referral", args, command_id=command_id)
        again = await client.call("create_referral", args, command_id=command_id)
    assert again == first
    listed = (await hub.call("list_referrals", {"limit": 1000}))["referrals"]
    assert len([r for r in listed if r["patient"]["name"] == "Olive Twice"]) == 1


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--port", "99999"], "65531"),
        (["--port", "80"], "1024"),
        (["--host", "no such host!"], "Cannot reach hub at no such host!:"),
        (["--as", "-1"], "Cannot reach hub at 127.0.0.1:"),
    ],
)
def test_bad_cli_arguments_give_a_clear_message_not_a_traceback(
    args: list[str], expected: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hub.cli", "referral", "list", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
    )
    assert done.returncode in (1, 2)
    assert "Traceback" not in done.stderr
    assert expected in done.stderr
    if "--as" in args:
        assert "staff id" in done.stderr


def test_a_desk_with_a_bad_host_fails_with_a_clear_message() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hub.cli", "desk", "--host", "no such host!"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "Cannot reach hub at no such host!:" in done.stderr
