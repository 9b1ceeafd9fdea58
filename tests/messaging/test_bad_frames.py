"""Malformed frames sent raw to each socket are logged and dropped; both sides keep going."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
import zmq
import zmq.asyncio

from messaging.command_client import CommandClient
from messaging.envelope import CommandEnvelope, Reply
from messaging.hub_sockets import HubSockets
from messaging.kvmsg import KVMsg
from messaging.protocol import ICANHAZ, Ports
from messaging.replica import KeyChanged, SnapshotApplied
from messaging.sockets import close_socket, new_socket, wait_readable
from tests.messaging.conftest import RECEIVE_TIMEOUT, Store, as_dicts, wait_until

ID = "0123456789abcdef0123456789abcdef"


@pytest.fixture
async def raw():
    """Make raw sockets on the shared context; all closed at the end."""
    context = zmq.asyncio.Context.instance()
    made: list[zmq.asyncio.Socket] = []

    def make(kind: int, endpoint: str) -> zmq.asyncio.Socket:
        sock = new_socket(context, kind)
        sock.connect(endpoint)
        made.append(sock)
        return sock

    yield make
    for sock in made:
        close_socket(sock)


async def recv(sock: zmq.asyncio.Socket, timeout: float = RECEIVE_TIMEOUT) -> list[bytes]:
    return await asyncio.wait_for(sock.recv_multipart(), timeout)


async def hub_still_serves(hub: HubSockets, make_replica, store: Store) -> None:
    pump = make_replica("desk-check")
    await pump.expect(SnapshotApplied)
    assert pump.replica.data == as_dicts(hub)
    async with CommandClient(
        port=hub.ports.snapshot, actor=1, desk="desk-check", timeout=2
    ) as client:
        await client.call("put", {"key": "/referral/77", "body": {"ok": True}})
    await pump.expect(KeyChanged, lambda e: e.key == "/referral/77")


async def test_snapshot_socket_drops_bad_requests(
    hub: HubSockets, raw, make_replica, store, caplog
) -> None:
    caplog.set_level(logging.WARNING, "messaging.hub_sockets")
    dealer = raw(zmq.DEALER, f"tcp://127.0.0.1:{hub.ports.snapshot}")
    for frames in (
        [b"junk"],
        [ICANHAZ],
        [ICANHAZ, b"/nope/"],
        [ICANHAZ, b"\xff\xfe"],
        [ICANHAZ, b"", b"extra"],
        [b"ICANHAZ", b""],
        [b"x" * 2_000_000],  # over the inbound size limit: the connection is dropped
    ):
        await dealer.send_multipart(frames)
    assert not await wait_readable(dealer, 0.3)
    await wait_until(lambda: caplog.text.count("bad snapshot request") >= 6)
    await hub_still_serves(hub, make_replica, store)


async def test_snapshot_for_a_subtree(hub: HubSockets, raw) -> None:
    dealer = raw(zmq.DEALER, f"tcp://127.0.0.1:{hub.ports.snapshot}")
    await dealer.send_multipart([ICANHAZ, b"/staff/"])
    first = await recv(dealer)
    assert KVMsg.from_frames(first).key == "/staff/7"
    last = await recv(dealer)
    assert last == [b"KTHXBAI", (2).to_bytes(8, "big"), b"", b"", b"/staff/"]


async def test_command_socket_answers_bad_requests(
    hub: HubSockets, raw, make_replica, store
) -> None:
    dealer = raw(zmq.DEALER, f"tcp://127.0.0.1:{hub.ports.commands}")
    bad_id = json.dumps({"id": ID, "command": "BAD", "actor": 1, "desk": "d", "args": {}})
    cases = [
        ([b"not json"], None, "not valid"),
        ([b"{}"], None, "lacks"),
        ([b"a", b"b"], None, "1 frame"),
        ([b""], None, "not valid"),
        ([bad_id.encode()], ID, "command"),
        ([b"[" * 100_000], None, "nested too deep"),  # under the size limit, past recursion
    ]
    for frames, reply_id, reason in cases:
        await dealer.send_multipart(frames)
        (payload,) = await recv(dealer)
        reply = Reply.from_bytes(payload)
        assert not reply.ok
        assert reply.id == reply_id
        assert reply.error_code == "bad_request"
        assert reason in (reply.message or "")
    assert store.calls == []
    await hub_still_serves(hub, make_replica, store)


async def test_a_bad_command_in_a_burst_costs_only_itself(hub: HubSockets, raw, store) -> None:
    """Commands that arrive together are taken together: one unreadable among them is
    answered on its own, and the others still run."""
    dealer = raw(zmq.DEALER, f"tcp://127.0.0.1:{hub.ports.commands}")
    good = [
        CommandEnvelope.new("put", {"key": f"/referral/{i}", "body": {"n": i}}, actor=1, desk="d")
        for i in range(3)
    ]
    burst = [good[0].to_bytes(), b"[" * 100_000, good[1].to_bytes(), good[2].to_bytes()]
    for payload in burst:
        await dealer.send_multipart([payload])
    replies = [Reply.from_bytes((await recv(dealer))[0]) for _ in burst]
    assert sorted((r.id or "", r.ok) for r in replies) == sorted(
        [(env.id, True) for env in good] + [("", False)]
    )
    assert [env.id for env in store.calls] == [env.id for env in good]


async def test_collector_drops_bad_presence(hub: HubSockets, raw, make_replica, store) -> None:
    pub = raw(zmq.PUB, f"tcp://127.0.0.1:{hub.ports.collector}")
    good = KVMsg.from_json("/desk/raw", 0, {"v": 1}, properties={"ttl": "5"}).to_frames()

    async def announced() -> None:  # PUB drops until the hub's subscription arrives
        while ("raw", {"v": 1}) not in store.presence:
            await pub.send_multipart(good)
            await asyncio.sleep(0.05)

    await asyncio.wait_for(announced(), RECEIVE_TIMEOUT)
    seq = (0).to_bytes(8, "big")
    for frames in (
        [b"junk"],
        [b"/desk/evil", seq, b"", b"", b'{"no":"ttl"}'],
        [b"/desk/evil", seq, b"", b"ttl=0", b"{}"],
        [b"/desk/evil", seq, b"", b"ttl=abc", b"{}"],
        [b"/desk/evil", seq, b"", b"ttl=5", b"[1]"],
        [b"/desk/evil", seq, b"", b"ttl=5", b"{"],
        [b"/desk/evil", b"\x00", b"", b"ttl=5", b"{}"],
        [b"/referral/1", seq, b"", b"ttl=5", b"{}"],
        [b"HUGZ", seq, b"", b"ttl=5", b"{}"],
        [b"/desk/", seq, b"", b"ttl=5", b"{}"],
    ):
        await pub.send_multipart(frames)
    changed = KVMsg.from_json("/desk/raw", 0, {"v": 2}, properties={"ttl": "5"})
    await pub.send_multipart(changed.to_frames())
    await wait_until(lambda: ("raw", {"v": 2}) in store.presence)
    assert [desk for desk, _ in store.presence] == ["raw", "raw"]
    await hub_still_serves(hub, make_replica, store)


async def test_garbage_on_every_port(hub: HubSockets, raw, make_replica, store) -> None:
    ports = Ports.from_base(hub.ports.snapshot)
    for port in (ports.snapshot, ports.updates, ports.collector, ports.commands):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"\xff\x00\x00\x00\x00\x00\x00\x00\x01\x7fGARBAGE" * 50)
        await writer.drain()
        writer.close()
    xsub = raw(zmq.XSUB, f"tcp://127.0.0.1:{ports.updates}")  # odd "subscriptions" to the PUB
    for frames in ([b"\x05junk"], [b""], [b"\x01", b"two"]):
        await xsub.send_multipart(frames)
    await hub_still_serves(hub, make_replica, store)


# -- the replica's side: a fake hub sends it bad frames --------------------------------


async def test_replica_drops_bad_frames_from_a_fake_hub(base_port: int, raw, make_replica) -> None:
    context = zmq.asyncio.Context.instance()
    ports = Ports.from_base(base_port)
    router = new_socket(context, zmq.ROUTER)
    xpub = new_socket(context, zmq.XPUB)
    try:
        router.bind(f"tcp://127.0.0.1:{ports.snapshot}")
        xpub.bind(f"tcp://127.0.0.1:{ports.updates}")
        pump = make_replica("desk-a", subtree="/referral/")
        subscription = await recv(xpub)
        assert subscription[0][:1] == b"\x01"

        identity, request, subtree = await recv(router)
        assert (request, subtree) == (ICANHAZ, b"/referral/")
        seq = (5).to_bytes(8, "big")
        for frames in (
            [b"junk"],
            [b"/referral/2", b"\x00" * 7, b"", b"", b"{}"],
            [b"/staff/1", seq, b"", b"", b"{}"],  # outside the asked subtree
            [b"/referral/3", seq, b"", b"", b"not json"],
            [b"/referral/4", seq, b"", b"", b""],
            [b"/referral/5", seq, b"", b"", b'{"a":' * 50_000],  # past the recursion limit
            [b"KTHXBAI", seq, b"", b"", b"/visit/"],  # for another subtree
            [b"/referral/1", seq, b"", b"", b'{"patient":"Ada"}'],
            [b"KTHXBAI", seq, b"", b"", b"/referral/"],
        ):
            await router.send_multipart([identity, *frames])
        assert await pump.expect(SnapshotApplied) == SnapshotApplied(5, 1)
        assert pump.replica.data == {"/referral/1": {"patient": "Ada"}}

        for frames in (
            [b"junk"],
            [b"/referral/2", b"\x00", b"", b"", b"{}"],
            [b"/referral/2", (6).to_bytes(8, "big"), b"", b"", b"[]"],  # not applied
            [b"/referral/2", (6).to_bytes(8, "big"), b"", b"", b"[" * 50_000],
            [b"KTHXBAI", (6).to_bytes(8, "big"), b"", b"", b""],
            [b"/referral/2", (6).to_bytes(8, "big"), b"", b"", b'{"patient":"Bo"}'],
        ):
            await xpub.send_multipart(frames)
        changed = await pump.expect(KeyChanged)
        assert changed == KeyChanged("/referral/2", 6, {"patient": "Bo"})
        assert pump.replica.data["/referral/2"] == {"patient": "Bo"}
    finally:
        close_socket(router)
        close_socket(xpub)


async def test_client_drops_bad_replies_from_a_fake_hub(base_port: int) -> None:
    context = zmq.asyncio.Context.instance()
    router = new_socket(context, zmq.ROUTER)
    router.bind(f"tcp://127.0.0.1:{Ports.from_base(base_port).commands}")
    try:
        async with CommandClient(port=base_port, actor=1, desk="d", timeout=2, retries=1) as client:
            call = asyncio.create_task(client.call("ping"))
            identity, payload = await recv(router)
            command_id = json.loads(payload)["id"]
            for frames in (
                [b"junk"],
                [b"a", b"b"],
                [Reply.success("f" * 32, {"stale": True}, 1).to_bytes()],
                [Reply.success(command_id, {"pong": True}, 9).to_bytes()],
            ):
                await router.send_multipart([identity, *frames])
            assert await asyncio.wait_for(call, RECEIVE_TIMEOUT) == {"pong": True}
            assert client.last_sequence == 9
    finally:
        close_socket(router)
