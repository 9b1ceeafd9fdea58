"""The hub's sockets with no database: a floor for the messaging path.

    python -m bench.echo_hub --port P [--body-bytes 800] [--seconds 600]

Runs the real `HubSockets` (snapshot, updates, presence, commands) with a command handler
that does no database work: every command publishes one referral body of the given size
with the next sequence number and replies ok, as the hub does after its commit. Stops after
`--seconds` (a bound) or on SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from messaging.envelope import CommandEnvelope, Reply
from messaging.hub_sockets import HubSockets
from messaging.kvmsg import KVMsg


async def serve(port: int, body_bytes: int, seconds: float) -> None:
    body = {"id": 1, "filler": "x" * max(0, body_bytes - 24)}
    sockets: HubSockets

    async def on_command(env: CommandEnvelope) -> Reply:
        sequence = sockets.sequence + 1
        await sockets.publish([KVMsg.from_json("/referral/1", sequence, body)])
        return Reply.success(env.id, {"note_id": sequence}, sequence)

    sockets = HubSockets(bind="127.0.0.1", port=port, on_command=on_command)
    sockets.load([KVMsg.from_json("/referral/1", 0, body)], 0)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await sockets.start()
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)
    finally:
        await sockets.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--body-bytes", type=int, default=800)
    parser.add_argument("--seconds", type=float, default=600.0)
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.body_bytes, args.seconds))


if __name__ == "__main__":
    main()
