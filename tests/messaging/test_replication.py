"""Hub sockets and replicas over real sockets: snapshot, updates, gaps, silence, restart."""

from __future__ import annotations

import asyncio

from messaging.hub_sockets import HubSockets
from messaging.kvmsg import KVMsg
from messaging.replica import (
    HubReached,
    KeyChanged,
    ReplicaState,
    Resyncing,
    SnapshotApplied,
)
from tests.messaging.conftest import SEED, SILENCE, as_dicts, wait_until

SUBSCRIPTION_SETTLE = 0.3  # lets a new SUB's subscription reach the hub before a publish


async def test_two_replicas_get_the_snapshot_and_the_same_update(
    hub: HubSockets, make_replica
) -> None:
    a = make_replica("desk-a")
    b = make_replica("desk-b")
    for pump in (a, b):
        applied = await pump.expect(SnapshotApplied)
        assert applied == SnapshotApplied(sequence=2, count=2)
        assert pump.replica.state is ReplicaState.ACTIVE
        assert pump.replica.data == as_dicts(hub)
    await asyncio.sleep(SUBSCRIPTION_SETTLE)

    await hub.publish([KVMsg.from_json("/referral/2", 3, {"patient": "Bo"})])
    for pump in (a, b):
        changed = await pump.expect(KeyChanged)
        assert changed == KeyChanged("/referral/2", 3, {"patient": "Bo"})
        assert pump.replica.sequence == 3

    await hub.publish([KVMsg.from_json("/referral/1", 4, None)])
    for pump in (a, b):
        assert await pump.expect(KeyChanged) == KeyChanged("/referral/1", 4, None)
        assert pump.replica.data == as_dicts(hub)
        assert not any(isinstance(event, Resyncing) for event in pump.seen)


async def test_subtree_replica_sees_only_its_subtree(hub: HubSockets, make_replica) -> None:
    staff = make_replica("desk-s", subtree="/staff/")
    assert await staff.expect(SnapshotApplied) == SnapshotApplied(2, 1)
    assert staff.replica.data == {"/staff/7": SEED[1].json()}
    await asyncio.sleep(SUBSCRIPTION_SETTLE)
    await hub.publish(
        [
            KVMsg.from_json("/referral/5", 3, {"patient": "Cy"}),
            KVMsg.from_json("/staff/8", 4, {"name": "Di"}),
        ]
    )
    # The subtree replica cannot see sequence 3, so its next update looks like a gap:
    # a subtree replica resyncs instead (CHP subtrees share one sequence).
    await staff.expect(SnapshotApplied, lambda e: e.sequence == 4)
    assert staff.replica.data == {
        key: body for key, body in as_dicts(hub).items() if key.startswith("/staff/")
    }


async def test_gap_in_sequence_resyncs_to_the_hub_map(hub: HubSockets, make_replica) -> None:
    pump = make_replica()
    await pump.expect(SnapshotApplied)
    await asyncio.sleep(SUBSCRIPTION_SETTLE)
    # Sequence 3 is committed but its update is lost on the way (PUB drops silently).
    hub.load([*hub.live.values(), KVMsg.from_json("/alert/1", 3, {"text": "breach"})], 3)
    await hub.publish([KVMsg.from_json("/referral/1", 4, {"patient": "Ada", "state": "triaged"})])

    resync = await pump.expect(Resyncing)
    assert resync.reason == "missed update 3"
    await pump.expect(SnapshotApplied, lambda e: e.sequence == 4)
    assert pump.replica.data == as_dicts(hub)
    assert pump.replica.data["/alert/1"] == {"text": "breach"}


async def test_heartbeat_ahead_of_replica_resyncs(hub: HubSockets, make_replica) -> None:
    pump = make_replica()
    await pump.expect(SnapshotApplied)
    hub.load([*hub.live.values(), KVMsg.from_json("/visit/3", 3, {"team": "therapy"})], 3)
    assert (await pump.expect(Resyncing)).reason == "missed update 3"
    await pump.expect(SnapshotApplied, lambda e: e.sequence == 3)
    assert pump.replica.data == as_dicts(hub)


async def test_hub_going_back_in_sequence_resyncs(hub: HubSockets, make_replica) -> None:
    pump = make_replica()
    await pump.expect(SnapshotApplied)
    await wait_until(lambda: pump.replica._caught_up)  # heard a HUGZ sent after the snapshot
    hub.load([KVMsg.from_json("/staff/1", 1, {"name": "Ed"})], 1)  # a fresh hub database
    assert (await pump.expect(Resyncing)).reason == "hub sequence went back to 1"
    await pump.expect(SnapshotApplied, lambda e: e.sequence == 1)
    assert pump.replica.data == {"/staff/1": {"name": "Ed"}}


async def test_hub_stopped_then_restarted(hub: HubSockets, make_replica) -> None:
    pump = make_replica()
    await pump.expect(SnapshotApplied)
    loop = asyncio.get_running_loop()

    stopped_at = loop.time()
    await hub.stop()
    resync = await pump.expect(Resyncing)
    assert resync.reason == f"hub silent for {SILENCE:g} s"
    assert loop.time() - stopped_at < SILENCE + 1.0
    assert pump.replica.state is ReplicaState.RESYNCING

    await asyncio.sleep(SILENCE * 2)  # a few failed snapshot tries
    await hub.publish([KVMsg.from_json("/referral/9", 3, {"patient": "Flo"})])
    await hub.start()
    await pump.expect(HubReached)
    await pump.expect(SnapshotApplied, lambda e: e.sequence == 3)
    assert pump.replica.data == as_dicts(hub)
    assert pump.replica.state is ReplicaState.ACTIVE
    reasons = [event.reason for event in pump.seen if isinstance(event, Resyncing)]
    assert reasons == [f"hub silent for {SILENCE:g} s"]  # reported once, not at every try


async def test_replica_started_before_the_hub(base_port: int, store, make_replica) -> None:
    pump = make_replica()
    assert (await pump.expect(Resyncing)).reason == "hub unreachable"
    hub = HubSockets(
        port=base_port,
        on_command=store.on_command,
        on_presence=store.on_presence,
        heartbeat_interval=0.1,
    )
    hub.load(SEED, 2)
    async with hub:
        await pump.expect(HubReached)
        assert await pump.expect(SnapshotApplied) == SnapshotApplied(2, 2)


async def test_close_ends_events_while_waiting(hub: HubSockets, make_replica) -> None:
    pump = make_replica()
    await pump.expect(SnapshotApplied)
    await pump.replica.close()
    await asyncio.wait_for(pump.task, 2)
    assert pump.replica.state is ReplicaState.STOPPED
    events = [event async for event in pump.replica.events()]
    assert events == []


async def test_breaking_out_of_events_closes_the_replica(hub: HubSockets, make_replica) -> None:
    from messaging.replica import Replica

    replica = Replica(port=hub.ports.snapshot, desk_id="desk-z")
    async with replica:
        async for event in replica.events():
            assert isinstance(event, SnapshotApplied)
            break
    assert replica.state is ReplicaState.STOPPED


async def test_publish_refuses_out_of_order_sequences(hub: HubSockets) -> None:
    import pytest

    with pytest.raises(ValueError, match="not after"):
        await hub.publish([KVMsg.from_json("/staff/9", 2, {"name": "x"})])
    with pytest.raises(ValueError, match="not after"):
        await hub.publish([KVMsg.from_json("/staff/9", 4, {}), KVMsg.from_json("/staff/9", 4, {})])
    with pytest.raises(ValueError, match="special"):
        await hub.publish([KVMsg.hugz(9)])
    assert hub.sequence == 2
    assert "/staff/9" not in hub.live
