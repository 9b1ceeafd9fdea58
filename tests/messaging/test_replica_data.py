"""What a replica keeps (referral bodies as the hub's bytes, parsed when read), and a
snapshot asked for before the event loop runs (as a desk does while its UI loads)."""

from __future__ import annotations

import asyncio
import gc
import json
import warnings

from hub.ports import find_free_base_port
from messaging.hub_sockets import HubSockets
from messaging.kvmsg import KVMsg
from messaging.replica import KeyChanged, Replica, ReplicaData, SnapshotApplied
from tests.messaging.conftest import RECEIVE_TIMEOUT, SEED, SILENCE, Pump, as_dicts, wait_until


def data_of(**bodies: dict) -> ReplicaData:
    data = ReplicaData()
    for key, body in bodies.items():
        data.put(key, body, json.dumps(body).encode())
    return data


def test_referral_bodies_are_kept_as_bytes_and_parsed_into_a_new_dict_each_read() -> None:
    referral, staff = {"patient": {"name": "Ada"}, "needs": ["CRT"]}, {"name": "Sam"}
    data = ReplicaData()
    data.put("/referral/1", referral, json.dumps(referral).encode())
    data.put("/staff/7", staff, json.dumps(staff).encode())

    assert isinstance(data._bodies["/referral/1"], bytes)  # what is kept, not what is read
    first, second = data["/referral/1"], data.get("/referral/1")
    assert first == second == referral
    assert first is not second  # a reader cannot change what is kept
    assert first is not referral
    first["patient"]["name"] = "changed"
    assert data["/referral/1"] == referral
    assert data["/staff/7"] is staff  # small bodies are kept parsed


def test_replica_data_is_a_read_only_mapping_equal_to_its_dicts() -> None:
    data = data_of(**{"/referral/1": {"a": 1}, "/alert/2": {"b": 2}})
    assert data == {"/referral/1": {"a": 1}, "/alert/2": {"b": 2}}
    assert len(data) == 2
    assert "/referral/1" in data
    assert "/referral/9" not in data
    assert sorted(data) == ["/alert/2", "/referral/1"]
    assert data.get("/referral/9") is None
    data.discard("/referral/1")
    data.discard("/referral/1")  # twice is fine
    assert dict(data) == {"/alert/2": {"b": 2}}
    data.replace(ReplicaData())
    assert not data


def test_scanning_the_keys_parses_nothing(monkeypatch) -> None:
    data = data_of(**{f"/referral/{i}": {"i": i} for i in range(50)}, **{"/alert/1": {"x": 1}})
    parsed: list[object] = []
    real_loads = json.loads
    monkeypatch.setattr(json, "loads", lambda raw: parsed.append(raw) or real_loads(raw))
    alerts = {key: data[key] for key in data if key.startswith("/alert/")}
    assert alerts == {"/alert/1": {"x": 1}}
    assert parsed == []


async def test_a_replica_keeps_referrals_as_bytes_through_snapshot_and_updates(
    hub: HubSockets, make_replica
) -> None:
    pump = make_replica("desk-a")
    await pump.expect(SnapshotApplied)
    stored = pump.replica.data._bodies  # what is kept, not what is read
    assert isinstance(stored["/referral/1"], bytes)
    assert isinstance(stored["/staff/7"], dict)
    assert pump.replica.data == as_dicts(hub)
    await asyncio.sleep(0.3)  # the SUB's subscription reaches the hub

    await hub.publish([KVMsg.from_json("/referral/2", 3, {"patient": "Bo"})])
    changed = await pump.expect(KeyChanged)
    assert changed.body == {"patient": "Bo"}  # the event carries the parsed body
    assert isinstance(stored := pump.replica.data._bodies["/referral/2"], bytes)
    assert json.loads(stored) == {"patient": "Bo"}


def test_a_digest_is_made_once_from_each_raw_body_as_it_arrives() -> None:
    made: list[str] = []

    def digest(key: str, body: dict) -> str:
        made.append(key)
        if body.get("bad"):
            raise ValueError("not a referral")
        return body["name"].upper()

    data = ReplicaData(digest=digest)
    data.put("/referral/1", {"name": "ada"}, b'{"name":"ada"}')
    data.put("/referral/2", {"bad": True}, b'{"bad":true}')  # logged, kept as None
    data.put("/staff/7", {"name": "sam"}, b'{"name":"sam"}')  # not a raw subtree: none
    assert dict(data.digests) == {"/referral/1": "ADA", "/referral/2": None}
    assert data["/referral/2"] == {"bad": True}  # the body is kept all the same
    assert made == ["/referral/1", "/referral/2"]
    assert [data[key] for key in data]
    assert made == ["/referral/1", "/referral/2"]  # reading makes none

    snapshot = data.empty()
    snapshot.put("/referral/3", {"name": "cy"}, b'{"name":"cy"}')
    data.replace(snapshot)
    assert dict(data.digests) == {"/referral/3": "CY"}
    assert not snapshot
    assert not snapshot.digests
    data.discard("/referral/3")
    assert not data.digests


async def test_a_replica_with_a_digest_makes_each_once_through_snapshot_and_updates(
    hub: HubSockets, make_replica
) -> None:
    made: list[str] = []
    pump = make_replica("desk-d", digest=lambda key, body: made.append(key) or len(body))
    await pump.expect(SnapshotApplied)
    assert made == ["/referral/1"]
    assert dict(pump.replica.data.digests) == {"/referral/1": len(as_dicts(hub)["/referral/1"])}
    await asyncio.sleep(0.3)  # the SUB's subscription reaches the hub
    await hub.publish([KVMsg.from_json("/referral/2", 3, {"patient": "Bo"})])
    await pump.expect(KeyChanged)
    assert made == ["/referral/1", "/referral/2"]
    assert pump.replica.data.digests["/referral/2"] == 1


async def test_a_snapshot_asked_for_early_is_waiting_when_events_start(
    hub: HubSockets, base_port: int
) -> None:
    replica = Replica(port=base_port, desk_id="desk-early", silence_timeout=SILENCE)
    replica.request_snapshot()
    replica.request_snapshot()  # once is enough; a second call changes nothing
    await asyncio.sleep(0.2)  # the hub answers before anyone reads
    pump = Pump(replica)
    try:
        assert await pump.expect(SnapshotApplied) == SnapshotApplied(sequence=2, count=2)
        assert replica.data == as_dicts(hub)
        await asyncio.sleep(0.3)
        await hub.publish([KVMsg.from_json("/staff/7", 3, {"name": "Sam", "team": "mh"})])
        assert (await pump.expect(KeyChanged)).key == "/staff/7"  # the early SUB is in use
    finally:
        await pump.close()


def test_a_snapshot_asked_for_before_the_loop_and_the_hub_exist(base_port: int) -> None:
    """As a desk starts: the request is made before any event loop runs (and here before
    the hub listens); the replica's loop adopts the two sockets and applies the answer."""
    replica = Replica(port=base_port, desk_id="desk-first", silence_timeout=SILENCE)
    replica.request_snapshot()

    async def main() -> None:
        hub = HubSockets(port=base_port, on_command=_no_commands, heartbeat_interval=0.1)
        hub.load(SEED, 2)
        await hub.start()
        pump = Pump(replica)
        try:
            assert await pump.expect(SnapshotApplied) == SnapshotApplied(sequence=2, count=2)
            assert replica.data == as_dicts(hub)
        finally:
            await pump.close()
            await hub.stop()

    asyncio.run(asyncio.wait_for(main(), RECEIVE_TIMEOUT * 2))


async def test_closing_a_replica_that_asked_early_but_never_ran_closes_its_sockets(
    base_port: int,
) -> None:
    replica = Replica(port=base_port, desk_id="desk-gone")
    replica.request_snapshot()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await replica.close()
        del replica
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


async def test_a_replica_that_asked_early_resyncs_as_usual_when_no_hub_answers(
    base_port: int,
) -> None:
    replica = Replica(
        port=base_port, desk_id="desk-alone", silence_timeout=0.2, retry_interval=0.05
    )
    replica.request_snapshot()
    pump = Pump(replica)
    try:
        await wait_until(lambda: bool(pump.seen))
        assert "unreachable" in pump.seen[0].reason  # type: ignore[union-attr]
    finally:
        await pump.close()


async def _no_commands(envelope):  # type: ignore[no-untyped-def]
    raise AssertionError("no command expected")


async def test_a_replica_that_asked_early_closes_its_sockets_once() -> None:
    """The sockets a replica makes before its loop runs are closed once, by the replica.
    (They were plain sockets adopted with `from_socket`: the plain owner, collected later,
    closed its handle again, and by then libzmq had given that memory to a new socket: the
    next hub's collector went deaf, and desks never showed online.)"""
    left: list[object] = []  # what closed replicas leave for the garbage collector
    for attempt in range(5):
        port = find_free_base_port()
        async with HubSockets(port=port, on_command=_no_commands, heartbeat_interval=0.1) as hub:
            left.clear()  # the last round's leftovers go now, after this hub's sockets came
            gc.collect()
            for name, sock in hub._sockets.items():
                assert not sock.closed, f"the hub's {name} socket was closed under it"
            replica = Replica(port=port, desk_id=f"desk-{attempt}", silence_timeout=SILENCE)
            replica.request_snapshot()
            left.extend([replica._early_sub, replica._early_dealer])  # collected late, as in a desk
            pump = Pump(replica)
            await pump.expect(SnapshotApplied)
            await pump.close()
