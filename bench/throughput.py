"""Hub throughput: the commands a second the hub sustains from 20 concurrent desks before the
p99 reply time passes 100 ms, on SQLite, with a command that writes (`add_note`).

Twenty CommandClients (one DEALER each, one command in flight each, as a desk has) share this
process. First they send back to back for a few seconds (the ceiling); if the p99 reply time
there is over 100 ms, paced runs at falling shares of the ceiling find the highest rate whose
p99 stays under it. A paced reply time counts from when the command was due to be sent, so a
desk that falls behind is not hidden (no coordinated omission).

Baseline, in the same run and with the same load generator: a bare pyzmq ROUTER committing
one SQLite row per request (bench/bare_server.py). For the record, the hub's own sockets with
no database (bench/echo_hub.py). Budget: >= 1,000 commands/s on SQLite.

    python -m bench.throughput [--quick]
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.common import (
    HOST,
    PYTHON,
    ROOT,
    HubProcess,
    Row,
    child_env,
    finish,
    judge,
    log,
    parse_args,
    percentile,
    probe_commands,
    rerun_command,
    scratch_dir,
    seed_sqlite,
)
from messaging.command_client import CommandClient

NAME = "throughput"
DESKS = 20
P99_LIMIT = 0.100
BUDGET = 1000.0
SHARES = (0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2)


@dataclass
class Run:
    offered: float | None  # commands/s asked for; None: back to back
    achieved: float
    p99: float
    median: float
    errors: int

    @property
    def ok(self) -> bool:
        good_rate = self.offered is None or self.achieved >= 0.9 * self.offered
        return self.p99 <= P99_LIMIT and good_rate and not self.errors

    def text(self) -> str:
        asked = "back to back" if self.offered is None else f"{self.offered:,.0f}/s offered"
        return (
            f"{asked}: {self.achieved:,.0f}/s, median {self.median * 1e3:.1f} ms, "
            f"p99 {self.p99 * 1e3:.1f} ms, errors {self.errors}"
        )


async def drive(port: int, referrals: list[int], seconds: float, rate: float | None) -> Run:
    """20 desks for `seconds`, back to back (rate None) or paced at `rate` in all."""
    clients = [
        CommandClient(host=HOST, port=port, actor=1, desk=f"bench-load-{i}", timeout=5.0, retries=1)
        for i in range(DESKS)
    ]
    latencies: list[float] = []
    errors = 0
    for client in clients:  # connect and warm every desk first
        await client.call("add_note", {"referral_id": referrals[0], "text": "warm up"})
    start = time.perf_counter() + 0.05
    end = start + seconds

    async def desk(i: int, client: CommandClient) -> None:
        nonlocal errors
        interval = DESKS / rate if rate else 0.0
        due = start + (i / DESKS) * interval
        n = 0
        while True:
            now = time.perf_counter()
            if rate:
                if due >= end:
                    return
                if due > now:
                    await asyncio.sleep(due - now)
                sent_for = due
                due += interval
            else:
                if now >= end:
                    return
                sent_for = now
            n += 1
            args = {"referral_id": referrals[(i + n) % len(referrals)], "text": f"load {i}.{n}"}
            try:
                await client.call("add_note", args)
            except Exception:
                errors += 1
                continue
            latencies.append(time.perf_counter() - sent_for)

    await asyncio.sleep(max(0.0, start - time.perf_counter()))
    await asyncio.gather(*(desk(i, c) for i, c in enumerate(clients)))
    elapsed = max(time.perf_counter(), end) - start
    for client in clients:
        await client.close()
    return Run(
        rate, len(latencies) / elapsed, percentile(latencies, 99), percentile(latencies, 50), errors
    )


async def open_referrals(port: int) -> list[int]:
    async with CommandClient(host=HOST, port=port, actor=1, desk="bench-load") as client:
        found = await client.call("list_referrals", {"limit": 50})
    return [int(r["id"]) for r in found["referrals"]]


def sustained(
    port: int, referrals: list[int], seconds: float, label: str, tries: int
) -> tuple[Run, Run]:
    """(the best run that keeps p99 <= 100 ms, the back-to-back ceiling run). The ceiling is
    the best of `tries` runs: on a shared 2-core box, other work only ever lowers it."""
    ceiling = None
    for _ in range(tries):
        run = asyncio.run(drive(port, referrals, seconds, None))
        log(f"{label} {run.text()}")
        if ceiling is None or run.achieved > ceiling.achieved:
            ceiling = run
    assert ceiling is not None
    if ceiling.ok:
        return ceiling, ceiling
    for share in SHARES:
        run = asyncio.run(drive(port, referrals, seconds, ceiling.achieved * share))
        log(f"{label} {run.text()}")
        if run.ok:
            return run, ceiling
    return run, ceiling


def spawn(argv: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(argv, cwd=ROOT, env=child_env(), stdout=subprocess.DEVNULL)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def main() -> None:
    args = parse_args(__doc__ or NAME)
    seconds = 1.5 if args.quick else 4.0
    tries = 1 if args.quick else 2
    rerun = rerun_command(NAME, args.quick)
    from hub.ports import find_free_base_port

    with scratch_dir(NAME) as folder:
        log("seeding SQLite (50 open referrals)")
        seed_sqlite(
            folder / "hub.db",
            now=datetime.now(UTC),
            months=0 if args.quick else 1,
            open_referrals=50,
        )
        with HubProcess(
            db_url=f"sqlite:///{folder / 'hub.db'}", log_file=folder / "hub.log"
        ) as hub:
            hub.start()
            referrals = asyncio.run(open_referrals(hub.port))
            best, ceiling = sustained(hub.port, referrals, seconds, "hub:", tries)

        port = find_free_base_port()
        bare = spawn(
            [
                PYTHON,
                "-m",
                "bench.bare_server",
                "--port",
                str(port),
                "--db",
                str(Path(folder) / "bare.db"),
            ]
        )
        try:
            asyncio.run(probe_commands(port, 30, bare))
            base, base_ceiling = sustained(port, referrals, seconds, "bare server:", tries)
        finally:
            stop(bare)

        port = find_free_base_port()
        echo = spawn([PYTHON, "-m", "bench.echo_hub", "--port", str(port)])
        try:
            asyncio.run(probe_commands(port, 30, echo))
            floor, _ = sustained(port, referrals, seconds, "hub sockets, no database:", tries)
        finally:
            stop(echo)

    rows = [
        Row(
            NAME,
            f"SQLite, {DESKS} desks, add_note, p99 <= 100 ms",
            best.achieved,
            "/s",
            base.achieved,
            ">= 1,000/s",
            judge(best.achieved >= BUDGET and best.ok),
            rerun,
            note=f"hub {best.text()}; bare server {base.text()}",
        ),
        Row(
            NAME,
            "SQLite, back to back (ceiling): p99 reply",
            ceiling.p99,
            "s",
            base_ceiling.p99,
            "",
            "info",
            rerun,
            note=f"hub {ceiling.text()}",
        ),
        Row(
            NAME,
            "hub sockets, no database (messaging floor)",
            floor.achieved,
            "/s",
            base.achieved,
            "",
            "info",
            rerun,
            note=f"echo hub {floor.text()}",
        ),
    ]
    finish("Hub throughput: 20 desks sending add_note", rows, args)


if __name__ == "__main__":
    main()
