"""A busy hub: many desks sending at once get every command through, in one sequence that
every desk replays without a gap (the hub commits what arrives together as one group)."""

from __future__ import annotations

import asyncio

from messaging.command_client import CommandClient
from messaging.envelope import CommandEnvelope
from messaging.replica_events import KeyChanged, Resyncing
from tests.conftest import RunningHub
from tests.e2e.test_hub_and_desks import desks

DESKS = 20
NOTES_EACH = 10


async def test_twenty_desks_at_once_all_land_in_one_gapless_sequence(hub: RunningHub) -> None:
    listed = (await hub.call("list_referrals", {"limit": 5}))["referrals"]
    referral_ids = [int(r["id"]) for r in listed]
    async with desks(hub, "watching") as (watcher,):
        clients = [
            CommandClient(host=hub.host, port=hub.port, actor=1, desk=f"busy-{i}")
            for i in range(DESKS)
        ]

        async def send(i: int, client: CommandClient) -> list[int]:
            sequences = []
            for n in range(NOTES_EACH):
                args = {
                    "referral_id": referral_ids[(i + n) % len(referral_ids)],
                    "text": f"{i}.{n}",
                }
                reply = await client.request(
                    CommandEnvelope.new("add_note", args, actor=1, desk=f"busy-{i}")
                )
                assert reply.ok, reply.message
                assert reply.sequence is not None
                sequences.append(reply.sequence)
            return sequences

        try:
            sent = await asyncio.gather(*(send(i, c) for i, c in enumerate(clients)))
        finally:
            for client in clients:
                await client.close()

        sequences = sorted(s for per_desk in sent for s in per_desk)
        assert len(set(sequences)) == DESKS * NOTES_EACH  # each command its own update
        # The hub's own changes (a desk coming online, a clock sweep) may take sequences
        # among them; together they are one stream without a gap, which the watching desk
        # replays in full without a resync.
        stream = set(range(sequences[0], sequences[-1] + 1))

        def replayed() -> set[int]:
            return {e.sequence for e in watcher.events if isinstance(e, KeyChanged)}

        await watcher.wait_for(lambda: stream <= replayed())
        assert not [e for e in watcher.events if isinstance(e, Resyncing)]

    for referral_id in referral_ids:
        history = await hub.call("get_referral", {"referral_id": referral_id})
        written = {e["summary"] for e in history["timeline"]}
        expected = {
            f"{i}.{n}"
            for i in range(DESKS)
            for n in range(NOTES_EACH)
            if referral_ids[(i + n) % len(referral_ids)] == referral_id
        }
        assert expected <= written
