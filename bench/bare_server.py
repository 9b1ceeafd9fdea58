"""The baseline command server: a bare pyzmq ROUTER that commits one SQLite row per request
(WAL, full sync, BEGIN IMMEDIATE, as the hub commits) and replies. No validation, no ORM.

    python -m bench.bare_server --port P --db PATH [--seconds 600]

Listens on 127.0.0.1:P+3 (the hub's command port) so the same load generator drives it.
Stops after `--seconds` (a bound) or on SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sqlite3

import zmq
import zmq.asyncio


async def serve(port: int, db_path: str, seconds: float) -> None:
    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("CREATE TABLE IF NOT EXISTS note (id INTEGER PRIMARY KEY, body TEXT)")
    context = zmq.asyncio.Context.instance()
    router = context.socket(zmq.ROUTER)
    router.setsockopt(zmq.LINGER, 0)
    router.bind(f"tcp://127.0.0.1:{port + 3}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    async def answer() -> None:
        while True:
            identity, payload = await router.recv_multipart()
            request = json.loads(payload)
            db.execute("BEGIN IMMEDIATE")
            cursor = db.execute("INSERT INTO note (body) VALUES (?)", (payload.decode(),))
            db.execute("COMMIT")
            reply = {
                "id": request.get("id"),
                "ok": True,
                "result": {"note_id": cursor.lastrowid},
                "sequence": cursor.lastrowid,
            }
            await router.send_multipart([identity, json.dumps(reply).encode()])

    task = asyncio.create_task(answer())
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        router.close(linger=0)
        db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--seconds", type=float, default=600.0)
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.db, args.seconds))


if __name__ == "__main__":
    main()
