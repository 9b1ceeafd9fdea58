"""Desk presence: announced through the collector, dropped when its ttl lapses."""

from __future__ import annotations

import asyncio

from messaging.hub_sockets import HubSockets
from messaging.replica import KeyChanged, Replica, SnapshotApplied
from tests.messaging.conftest import RECEIVE_TIMEOUT, Pump, Store, wait_until

TTL = 0.6


async def test_presence_appears_changes_and_expires(
    hub: HubSockets, store: Store, make_replica
) -> None:
    pump = make_replica("ward-7", presence={"staff": 3, "seat": "liaison"}, presence_ttl=TTL)
    await pump.expect(SnapshotApplied)
    await wait_until(lambda: store.presence == [("ward-7", {"staff": 3, "seat": "liaison"})])

    await asyncio.sleep(TTL * 2)  # several refreshes with the same body call nothing
    assert store.presence == [("ward-7", {"staff": 3, "seat": "liaison"})]

    await pump.replica.set_presence({"staff": 4, "seat": "liaison"})
    await wait_until(lambda: len(store.presence) == 2)
    assert store.presence[-1] == ("ward-7", {"staff": 4, "seat": "liaison"})

    loop = asyncio.get_running_loop()
    closed_at = loop.time()
    await pump.close()
    await wait_until(lambda: len(store.presence) == 3, timeout=TTL + RECEIVE_TIMEOUT)
    assert store.presence[-1] == ("ward-7", None)
    assert TTL / 3 < loop.time() - closed_at < TTL + 1.0


async def test_goodbye_removes_at_once(hub: HubSockets, store: Store) -> None:
    import zmq
    import zmq.asyncio

    from messaging.kvmsg import KVMsg
    from messaging.sockets import close_socket, new_socket

    pub = new_socket(zmq.asyncio.Context.instance(), zmq.PUB)
    pub.connect(f"tcp://127.0.0.1:{hub.ports.collector}")
    try:
        hello = KVMsg.from_json("/desk/d1", 0, {}, properties={"ttl": "30"}).to_frames()

        async def announced() -> None:
            while not store.presence:
                await pub.send_multipart(hello)
                await asyncio.sleep(0.05)

        await asyncio.wait_for(announced(), RECEIVE_TIMEOUT)
        await pub.send_multipart(KVMsg("/desk/d1", 0).to_frames())
        await wait_until(lambda: store.presence[-1] == ("d1", None))
    finally:
        close_socket(pub)


async def test_hub_without_on_presence_publishes_desks_itself(
    base_port: int, store: Store, make_replica
) -> None:
    hub = HubSockets(port=base_port, on_command=store.on_command, heartbeat_interval=0.1)
    async with hub:
        watcher = make_replica("watcher", subtree="/desk/", presence_ttl=TTL)
        await watcher.expect(SnapshotApplied)
        pump = make_replica("ward-7", presence={"staff": 3}, presence_ttl=TTL)
        await pump.expect(SnapshotApplied)
        await wait_until(lambda: watcher.replica.data.get("/desk/ward-7") == {"staff": 3})
        assert hub.live["/desk/ward-7"].json() == {"staff": 3}
        await pump.close()
        await watcher.expect(KeyChanged, lambda e: e.key == "/desk/ward-7" and e.body is None)
        assert "/desk/ward-7" not in hub.live
        assert "/desk/watcher" in watcher.replica.data


async def test_a_desk_announced_before_the_hub_subscribed_is_announced_again_soon(
    base_port: int, store: Store
) -> None:
    """A desk whose snapshot is waiting when it starts announces itself as its PUB socket
    connects, before the hub's SUB has subscribed, and ZeroMQ drops that announcement. The
    desk announces again until the hub echoes it, not only at the ttl/3 refresh (40 s here)."""
    hub = HubSockets(port=base_port, on_command=store.on_command, heartbeat_interval=0.1)
    async with hub:
        replica = Replica(
            port=base_port, desk_id="ward-7", presence={"staff": 3}, presence_ttl=120.0
        )
        replica.request_snapshot()  # as a desk does, then it builds its screen
        await asyncio.sleep(0.5)  # the whole snapshot is waiting when events() starts
        pump = Pump(replica)
        try:
            await pump.expect(SnapshotApplied)
            await pump.expect(KeyChanged, lambda e: e.key == "/desk/ward-7")
            assert hub.live["/desk/ward-7"].json() == {"staff": 3}
        finally:
            await pump.close()


async def test_a_desk_stays_online_when_the_hub_reloads_its_live_map(
    base_port: int, store: Store, make_replica
) -> None:
    """The hub reloads its live map from the database when the audit log moved on without
    it (a second writer). Desks online are not in the database: a desk still announcing
    itself must stay on the boards, not vanish until it restarts."""
    hub = HubSockets(port=base_port, on_command=store.on_command, heartbeat_interval=0.1)
    async with hub:
        pump = make_replica("ward-7", presence={"staff": 3}, presence_ttl=1.5)
        await pump.expect(KeyChanged, lambda e: e.key == "/desk/ward-7")
        from_database = [msg for key, msg in hub.live.items() if not key.startswith("/desk/")]
        hub.load(from_database, hub.sequence + 5)  # as HubServer._publish does
        assert hub.live["/desk/ward-7"].json() == {"staff": 3}
        await pump.expect(SnapshotApplied)  # the next HUGZ is ahead: the desk resyncs
        assert pump.replica.data["/desk/ward-7"] == {"staff": 3}
        await asyncio.sleep(1.0)  # refreshes (every ttl/3) keep it; nothing expires it
        assert "/desk/ward-7" in hub.live


async def test_a_desk_newer_than_the_reloaded_state_is_announced_again(
    base_port: int, store: Store, make_replica
) -> None:
    """If the database's sequence is behind a desk's entry (the hub's state went back), the
    entry cannot be kept; the desk's next announcement brings it back."""
    hub = HubSockets(port=base_port, on_command=store.on_command, heartbeat_interval=0.1)
    async with hub:
        pump = make_replica("ward-7", presence={"staff": 3}, presence_ttl=1.5)
        await pump.expect(KeyChanged, lambda e: e.key == "/desk/ward-7")
        behind = hub.live["/desk/ward-7"].sequence - 1
        hub.load([], behind)
        assert "/desk/ward-7" not in hub.live
        await wait_until(lambda: "/desk/ward-7" in hub.live, timeout=RECEIVE_TIMEOUT)
        await wait_until(lambda: pump.replica.data.get("/desk/ward-7") == {"staff": 3})
