"""Fixtures for the desk's screen tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from hub.ports import find_free_base_port
from messaging.envelope import CommandEnvelope, Reply
from messaging.hub_sockets import HubSockets
from messaging.kvmsg import KVMsg
from tests.screens.desk_helpers import referral_body


async def _refuse(envelope: CommandEnvelope) -> Reply:
    return Reply.failure(envelope.id, "bad_request", "this hub takes no commands")


@pytest.fixture
async def hub_sockets() -> AsyncIterator[HubSockets]:
    """HubSockets with two referrals loaded at sequence 2, heartbeats every 0.2 s."""
    sockets = HubSockets(port=find_free_base_port(), on_command=_refuse, heartbeat_interval=0.2)
    bodies = [referral_body(1, name="Ann First"), referral_body(2, name="Bea Second")]
    sockets.load([KVMsg.from_json(f"/referral/{b['id']}", b["id"], b) for b in bodies], 2)
    await sockets.start()
    yield sockets
    await sockets.stop()
