"""A crowd of desk replicas in one process, to load the hub's fan-out during a bench.

    python -m bench.crowd --port P --count N [--seconds 600]

Prints "ready N" once every replica holds a snapshot, then keeps them all applying updates
until its standard input closes or `--seconds` pass (a bound, so it always stops).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from messaging.replica import Replica
from messaging.replica_events import SnapshotApplied


async def crowd(port: int, count: int, seconds: float) -> None:
    replicas = [
        Replica(
            host="127.0.0.1",
            port=port,
            desk_id=f"bench-crowd-{i}",
            presence={"desk": f"bench-crowd-{i}"},
        )
        for i in range(count)
    ]
    synced = 0
    all_synced = asyncio.Event()

    async def run(replica: Replica) -> None:
        nonlocal synced
        first = True
        async for event in replica.events():
            if first and isinstance(event, SnapshotApplied):
                first = False
                synced += 1
                if synced == count:
                    all_synced.set()

    tasks = [asyncio.create_task(run(r)) for r in replicas]
    loop = asyncio.get_running_loop()
    stdin_closed = loop.create_future()

    def on_stdin() -> None:
        if not sys.stdin.buffer.read1(1024) and not stdin_closed.done():
            stdin_closed.set_result(None)

    loop.add_reader(sys.stdin.fileno(), on_stdin)
    try:
        async with asyncio.timeout(seconds):
            await all_synced.wait()
            print(f"ready {count}", flush=True)
            await stdin_closed
    except TimeoutError:
        pass
    finally:
        loop.remove_reader(sys.stdin.fileno())
        for replica in replicas:
            await replica.close()
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=600.0)
    args = parser.parse_args()
    asyncio.run(crowd(args.port, args.count, args.seconds))


if __name__ == "__main__":
    main()
