"""Desk to desk: from a command sent on desk A (`CommandClient.call`) to the change applied
in the replica of desk B (a `KeyChanged` event), with 1, 10 and 50 desks connected, on
SQLite and on PostgreSQL.

The hub is a real `hubdesk serve` process. Desk A (a CommandClient) and desk B (a Replica)
share this process and its clock; the other desks are a crowd of replicas in one more
process, applying every update as real desks do. Commands are `add_note` (one commit, one
published referral body), sent one at a time with a short pause between them.

Baseline, in the same run and process: one bare SQLite commit of the same size (WAL, full
sync, BEGIN IMMEDIATE, as the hub commits) followed by one bare pyzmq PUB->SUB hop of the same
five frames. Budgets: p99 < 50 ms with 50 desks; median within 5x the baseline's median.

    python -m bench.desk_to_desk [--quick]
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import zmq
import zmq.asyncio

from bench.common import (
    HOST,
    PYTHON,
    ROOT,
    HubProcess,
    Row,
    Unavailable,
    child_env,
    finish,
    judge,
    log,
    median,
    parse_args,
    percentile,
    pg_scratch_database,
    probe_commands,
    rerun_command,
    scratch_dir,
    seed_sqlite,
    seed_url,
)
from messaging.command_client import CommandClient
from messaging.kvmsg import KVMsg
from messaging.replica import Replica
from messaging.replica_events import KeyChanged, Resyncing, SnapshotApplied

NAME = "desk_to_desk"
DESKS = (1, 10, 50)
P99_BUDGET = 0.050
MEDIAN_FACTOR = 5.0
PAUSE = 0.015  # between two commands: lets every desk apply the last update first


class Arrivals:
    """Desk B: when each sequence number was applied in its replica."""

    def __init__(self, replica: Replica) -> None:
        self.replica = replica
        self.synced = asyncio.Event()
        self.resyncs = 0
        self._at: dict[int, float] = {}
        self._waiters: dict[int, asyncio.Future[float]] = {}
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for event in self.replica.events():
            now = time.perf_counter()
            if isinstance(event, KeyChanged):
                self._at[event.sequence] = now
                waiter = self._waiters.pop(event.sequence, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(now)
            elif isinstance(event, SnapshotApplied):
                self.synced.set()
            elif isinstance(event, Resyncing):
                self.resyncs += 1

    async def applied_at(self, sequence: int, within: float = 5.0) -> float:
        if sequence in self._at:
            return self._at.pop(sequence)
        waiter = asyncio.get_running_loop().create_future()
        self._waiters[sequence] = waiter
        try:
            return await asyncio.wait_for(waiter, within)
        finally:
            self._waiters.pop(sequence, None)
            self._at.pop(sequence, None)

    async def close(self) -> None:
        await self.replica.close()
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


def start_crowd(port: int, count: int) -> subprocess.Popen[str] | None:
    if count <= 0:
        return None
    crowd = subprocess.Popen(
        [PYTHON, "-m", "bench.crowd", "--port", str(port), "--count", str(count)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=child_env(),
    )
    assert crowd.stdout is not None
    line = crowd.stdout.readline()  # bounded by the crowd's own --seconds
    if not line.startswith("ready"):
        crowd.kill()
        raise RuntimeError(f"the crowd of {count} desks did not sync: {line!r}")
    return crowd


def stop_crowd(crowd: subprocess.Popen[str] | None) -> None:
    if crowd is None:
        return
    with contextlib.suppress(BrokenPipeError, OSError):
        assert crowd.stdin is not None
        crowd.stdin.close()
    try:
        crowd.wait(timeout=15)
    except subprocess.TimeoutExpired:
        crowd.kill()
        crowd.wait()


async def desk_to_desk(port: int, samples: int, referral: int) -> tuple[list[float], int, int]:
    """Latencies (s) of `samples` add_note commands from desk A to desk B; also the body
    size and the number of samples lost to a resync."""
    b = Arrivals(Replica(host=HOST, port=port, desk_id="bench-b", presence={"desk": "bench-b"}))
    lost = 0
    latencies: list[float] = []
    try:
        await asyncio.wait_for(b.synced.wait(), 30)
        async with CommandClient(host=HOST, port=port, actor=1, desk="bench-a") as a:
            for i in range(samples + 5):  # the first five warm up
                t0 = time.perf_counter()
                await a.call("add_note", {"referral_id": referral, "text": f"bench note {i}"})
                assert a.last_sequence is not None
                try:
                    t1 = await b.applied_at(a.last_sequence)
                except TimeoutError:
                    lost += 1
                    continue
                if i >= 5:
                    latencies.append(t1 - t0)
                await asyncio.sleep(PAUSE)
        size = len(json.dumps(b.replica.data.get(f"/referral/{referral}", {})))
    finally:
        await b.close()
    return latencies, size, lost + b.resyncs


async def open_referral(port: int) -> int:
    async with CommandClient(host=HOST, port=port, actor=1, desk="bench-a") as client:
        found = await client.call("list_referrals", {"limit": 1})
    return int(found["referrals"][0]["id"])


def measure_backend(label: str, db_url: str, folder: Path, samples: int) -> dict[int, list[float]]:
    results: dict[int, list[float]] = {}
    hub = HubProcess(db_url=db_url, log_file=folder / f"hub-{label}.log")
    hub.start()
    try:
        referral = asyncio.run(open_referral(hub.port))
        for desks in DESKS:
            crowd = start_crowd(hub.port, desks - 1)
            try:
                latencies, size, lost = asyncio.run(desk_to_desk(hub.port, samples, referral))
            finally:
                stop_crowd(crowd)
            log(
                f"{label}, {desks} desks: median {median(latencies) * 1e3:.2f} ms, "
                f"p99 {percentile(latencies, 99) * 1e3:.2f} ms, body {size} B, lost {lost}"
            )
            results[desks] = latencies
            results.setdefault(-1, [size])
    finally:
        hub.stop()
    return results


def measure_echo(folder: Path, samples: int, body_size: int) -> list[float]:
    """The same path through the real hub sockets with no database behind them."""
    from hub.ports import find_free_base_port

    port = find_free_base_port()
    echo = subprocess.Popen(
        [PYTHON, "-m", "bench.echo_hub", "--port", str(port), "--body-bytes", str(body_size)],
        cwd=ROOT,
        env=child_env(),
    )
    try:
        asyncio.run(probe_commands(port, 30, None))
        latencies, _, lost = asyncio.run(desk_to_desk(port, samples, 1))
    finally:
        echo.terminate()
        echo.wait(timeout=15)
    log(f"messaging floor: median {median(latencies) * 1e3:.2f} ms, lost {lost}")
    return latencies


async def baseline(folder: Path, samples: int, body_size: int) -> list[float]:
    """One bare SQLite commit (WAL, FULL, BEGIN IMMEDIATE; an audit row and a note row of the
    same size) then one bare PUB->SUB hop of the same five frames, per sample."""
    db = sqlite3.connect(folder / "baseline.db", isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("CREATE TABLE audit (seq INTEGER PRIMARY KEY, key TEXT, at TEXT, body TEXT)")
    db.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, referral INTEGER, text TEXT)")
    context = zmq.asyncio.Context.instance()
    pub = context.socket(zmq.PUB)
    pub.setsockopt(zmq.LINGER, 0)
    port = pub.bind_to_random_port(f"tcp://{HOST}")
    sub = context.socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect(f"tcp://{HOST}:{port}")
    body = {"filler": "x" * max(0, body_size - 14)}
    timings: list[float] = []
    try:
        while not await sub.poll(10):  # the slow-joiner: wait until the SUB hears the PUB
            await pub.send_multipart(KVMsg.hugz(0).to_frames())
        while await sub.poll(50):
            await sub.recv_multipart()
        for seq in range(1, samples + 6):
            t0 = time.perf_counter()
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO note (referral, text) VALUES (?, ?)", (1, f"note {seq}"))
            db.execute(
                "INSERT INTO audit (seq, key, at, body) VALUES (?, ?, ?, ?)",
                (seq, "/referral/1", datetime.now(UTC).isoformat(), json.dumps(body)),
            )
            db.execute("COMMIT")
            await pub.send_multipart(KVMsg.from_json("/referral/1", seq, body).to_frames())
            frames = await sub.recv_multipart()
            KVMsg.from_frames(frames).json()
            if seq > 5:
                timings.append(time.perf_counter() - t0)
            await asyncio.sleep(PAUSE)
    finally:
        pub.close(linger=0)
        sub.close(linger=0)
        db.close()
    return timings


def rows_for(
    label: str, results: dict[int, list[float]], base: list[float], rerun: str
) -> list[Row]:
    rows = []
    base_median, base_p99 = median(base), percentile(base, 99)
    for desks in DESKS:
        lat = results[desks]
        mid, p99 = median(lat), percentile(lat, 99)
        rows.append(
            Row(
                NAME,
                f"{label}, {desks} desk(s): median",
                mid,
                "s",
                base_median,
                f"<= {MEDIAN_FACTOR:g}x baseline",
                judge(mid <= MEDIAN_FACTOR * base_median),
                rerun,
            )
        )
        at_50 = desks == 50
        rows.append(
            Row(
                NAME,
                f"{label}, {desks} desk(s): p99",
                p99,
                "s",
                base_p99,
                "< 50 ms" if at_50 else "",
                judge(p99 < P99_BUDGET if at_50 else None),
                rerun,
                note=f"{len(lat)} samples" if at_50 else "",
            )
        )
    return rows


def main() -> None:
    args = parse_args(__doc__ or NAME)
    samples = 60 if args.quick else 300
    months = 0 if args.quick else 1
    rerun = rerun_command(NAME, args.quick)
    rows: list[Row] = []
    now = datetime.now(UTC)
    with scratch_dir(NAME) as folder:
        log(f"seeding SQLite (50 open referrals); {samples} samples a row")
        seed_sqlite(folder / "hub.db", now=now, months=months, open_referrals=50)
        sqlite = measure_backend("SQLite", f"sqlite:///{folder / 'hub.db'}", folder, samples)
        size = int(sqlite.pop(-1)[0])
        base = asyncio.run(baseline(folder, samples, size))
        log(
            f"baseline: median {median(base) * 1e3:.3f} ms, p99 {percentile(base, 99) * 1e3:.3f} ms"
        )
        rows.append(
            Row(
                NAME,
                f"baseline: SQLite commit + PUB->SUB hop, {size} B body",
                median(base),
                "s",
                note="median; p99 in the baseline column of p99 rows",
                rerun=rerun,
            )
        )
        floor = measure_echo(folder, samples, size)
        rows.append(
            Row(
                NAME,
                "hub sockets, no database (messaging floor): median",
                median(floor),
                "s",
                median(base),
                rerun=rerun,
                note="the real HubSockets, Replica and CommandClient; a handler that "
                "publishes and replies without touching a database",
            )
        )
        rows += rows_for("SQLite", sqlite, base, rerun)
        try:
            with pg_scratch_database() as url:
                log("seeding a scratch PostgreSQL database (50 open referrals)")
                seed_url(url, now=now, months=months, open_referrals=50)
                pg = measure_backend("PostgreSQL", url, folder, samples)
                pg.pop(-1)
                rows += rows_for("PostgreSQL", pg, base, rerun)
        except Unavailable as exc:
            print(f"PostgreSQL skipped: {exc}")
            rows.append(
                Row(
                    NAME,
                    "PostgreSQL",
                    None,
                    "s",
                    verdict="skip",
                    rerun=rerun,
                    note=f"skipped: {exc}",
                )
            )
    finish("Desk to desk: command on desk A -> applied in desk B's replica", rows, args)


if __name__ == "__main__":
    main()
