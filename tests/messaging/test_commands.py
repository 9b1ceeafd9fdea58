"""The command channel: replies, refusals, handler bugs and lazy-pirate retries."""

from __future__ import annotations

import asyncio

import pytest

from messaging.command_client import CommandClient, CommandRefused, HubUnavailable
from messaging.hub_sockets import HubSockets
from messaging.replica import KeyChanged, SnapshotApplied
from tests.messaging.conftest import Store, free_base_port


async def test_call_returns_the_result_and_the_sequence(
    hub: HubSockets, store: Store, make_replica
) -> None:
    pump = make_replica()
    await pump.expect(SnapshotApplied)
    await asyncio.sleep(0.3)  # let the replica's subscription reach the hub
    async with CommandClient(port=hub.ports.snapshot, actor=7, desk="desk-a", timeout=2) as client:
        result = await client.call("put", {"key": "/referral/3", "body": {"patient": "Cy"}})
        assert result == {"key": "/referral/3"}
        assert client.last_sequence == 3
    assert await pump.expect(KeyChanged) == KeyChanged("/referral/3", 3, {"patient": "Cy"})
    (env,) = store.calls
    assert (env.command, env.actor, env.desk) == ("put", 7, "desk-a")


async def test_refused_command(hub: HubSockets) -> None:
    async with CommandClient(port=hub.ports.snapshot, actor=7, desk="desk-a", timeout=2) as client:
        with pytest.raises(CommandRefused) as refused:
            await client.call("refuse")
        assert refused.value.code == "validation"
        assert refused.value.message == "Postcode is not valid."
        assert refused.value.field == "postcode"
        assert client.last_sequence is None


async def test_handler_bug_is_an_internal_error_and_the_hub_keeps_going(hub: HubSockets) -> None:
    async with CommandClient(port=hub.ports.snapshot, actor=7, desk="desk-a", timeout=2) as client:
        with pytest.raises(CommandRefused) as refused:
            await client.call("boom")
        assert refused.value.code == "internal"
        assert "handler bug" not in refused.value.message
        assert await client.call("put", {"key": "/staff/2", "body": {}}) == {"key": "/staff/2"}


async def test_actor_can_change(hub: HubSockets, store: Store) -> None:
    async with CommandClient(port=hub.ports.snapshot, actor=7, desk="desk-a", timeout=2) as client:
        await client.call("put", {"key": "/staff/2", "body": {}})
        client.actor = 8
        await client.call("put", {"key": "/staff/2", "body": {"x": 1}})
    assert [env.actor for env in store.calls] == [7, 8]


async def test_retry_after_a_lost_reply_resends_the_same_id(hub: HubSockets, store: Store) -> None:
    store.delay_first = 0.8  # the first reply comes after the client gave up on it
    async with CommandClient(
        port=hub.ports.snapshot, actor=7, desk="desk-a", timeout=0.6, retries=3
    ) as client:
        result = await client.call("put", {"key": "/referral/4", "body": {"patient": "Di"}})
    assert len(store.calls) == 2
    assert store.calls[0].id == store.calls[1].id
    assert store.calls[0] == store.calls[1]
    # This scaffolding does not de-duplicate (the real hub does): the retry ran again.
    assert result == {"key": "/referral/4"}


async def test_concurrent_calls_each_get_their_own_reply(hub: HubSockets) -> None:
    async with CommandClient(port=hub.ports.snapshot, actor=7, desk="desk-a", timeout=2) as client:
        results = await asyncio.gather(
            *(client.call("put", {"key": f"/staff/{n}", "body": {"n": n}}) for n in range(10))
        )
    assert results == [{"key": f"/staff/{n}"} for n in range(10)]


async def test_hub_unavailable_after_all_retries() -> None:
    port = free_base_port()
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with CommandClient(port=port, actor=7, desk="desk-a", timeout=0.2, retries=3) as client:
        with pytest.raises(HubUnavailable, match="after 3 tries"):
            await client.call("put", {"key": "/staff/1", "body": {}})
    assert 0.55 < loop.time() - started < 3


async def test_a_late_hub_gets_the_retry(base_port: int, store: Store) -> None:
    hub = HubSockets(port=base_port, on_command=store.on_command, on_presence=store.on_presence)
    store.hub = hub
    async with CommandClient(
        port=base_port, actor=7, desk="desk-a", timeout=0.4, retries=5
    ) as client:
        call = asyncio.create_task(client.call("put", {"key": "/staff/1", "body": {}}))
        await asyncio.sleep(0.5)
        async with hub:
            assert await asyncio.wait_for(call, 5) == {"key": "/staff/1"}
    assert {env.id for env in store.calls} == {store.calls[0].id}


async def test_closed_client_refuses_calls() -> None:
    client = CommandClient(port=free_base_port(), actor=1, desk="d")
    await client.close()
    with pytest.raises(HubUnavailable):
        await client.call("ping")


async def test_a_given_command_id_is_sent_as_is(hub: HubSockets, store: Store) -> None:
    command_id = "ab" * 16
    async with CommandClient(port=hub.ports.snapshot, actor=7, desk="desk-a", timeout=2) as client:
        await client.call("put", {"key": "/staff/1", "body": {}}, command_id=command_id)
        await client.call("put", {"key": "/staff/1", "body": {}}, command_id=command_id)
        await client.call("put", {"key": "/staff/1", "body": {}})
    assert [env.id for env in store.calls[:2]] == [command_id, command_id]
    assert store.calls[2].id != command_id


async def test_a_reply_too_large_to_send_is_refused_as_too_large(
    base_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    from messaging.envelope import CommandEnvelope, Reply
    from messaging.protocol import MAX_BODY_BYTES

    async def huge(env: CommandEnvelope) -> Reply:
        if env.command == "huge":
            return Reply.success(env.id, {"rows": "x" * (MAX_BODY_BYTES + 10)}, None)
        return Reply.success(env.id, {"small": True}, None)

    async with (
        HubSockets(port=base_port, on_command=huge),
        CommandClient(port=base_port, actor=7, desk="desk-a", timeout=2, retries=1) as client,
    ):
        with (
            caplog.at_level("WARNING", logger="messaging.hub_sockets"),
            pytest.raises(CommandRefused) as refused,
        ):
            await client.call("huge")
        assert refused.value.code == "too_large"
        assert "too large" in refused.value.message
        assert "--limit" in refused.value.message
        assert "too_large" in caplog.text
        assert await client.call("small") == {"small": True}  # the hub carries on
