"""Idle cost: a desk showing 200 live clocks for 60 s (15 s with --quick) while nothing
changes in the hub: the CPU time the desk process uses and the bytes it writes to its
terminal.

The hub's clock is frozen at the moment its data was seeded, so the hub raises no alert and
publishes nothing but its heartbeats (HUGZ, once a second) for the whole window; the desk
keeps its own clock, so its countdowns tick as they would on a shift. The desk runs on a
120x40 pseudo-terminal (a wall board; every byte it writes is counted), and the window opens
once its board has been painted and it has been quiet for a moment.

Baseline, in the same run and the same way: a bare Textual app with one static widget,
idling side by side with the desk over the same window. Budget: < 2% of one core.

    python -m bench.idle [--quick]
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from bench.bare_app import READY
from bench.common import (
    HubProcess,
    PtyProcess,
    Row,
    bare_argv,
    desk_argv,
    finish,
    judge,
    log,
    parse_args,
    rerun_command,
    scratch_dir,
    seed_sqlite,
)

NAME = "idle"
CLOCKS = 200
BUDGET = 2.0  # % of one core
COLS, ROWS = 120, 40


def idle_together(
    runs: list[tuple[list[str], tuple[bytes, ...]]], seconds: float
) -> list[tuple[float, int]]:
    """(CPU % of one core, bytes written) for each program, over the same `seconds` once
    all are painted and settled. They idle side by side: both near 0% on a 2-core box."""
    ttys = [PtyProcess(argv, cols=COLS, rows=ROWS) for argv, _ in runs]
    try:
        for tty, (_, needles) in zip(ttys, runs, strict=True):
            tty.wait_for(*needles, timeout=120)
        for tty in ttys:
            tty.wait_quiet(1.0, timeout=10)
        cpu0, t0 = [tty.cpu_seconds() for tty in ttys], time.perf_counter()
        time.sleep(seconds)
        cpu1, t1 = [tty.cpu_seconds() for tty in ttys], time.perf_counter()
        return [
            (100 * (c1 - c0) / (t1 - t0), tty.bytes_between(t0, t1))
            for tty, c0, c1 in zip(ttys, cpu0, cpu1, strict=True)
        ]
    finally:
        for tty in ttys:
            tty.close()


def main() -> None:
    args = parse_args(__doc__ or NAME)
    seconds = 15.0 if args.quick else 60.0
    rerun = rerun_command(NAME, args.quick)
    now = datetime.now(UTC)
    with scratch_dir(NAME) as folder:
        log(f"seeding SQLite ({CLOCKS} open referrals)")
        seed_sqlite(
            folder / "hub.db", now=now, months=0 if args.quick else 1, open_referrals=CLOCKS
        )
        hub = HubProcess(
            db_url=f"sqlite:///{folder / 'hub.db'}", log_file=folder / "hub.log", fixed_now=now
        )
        with hub:
            hub.start()
            log(f"desk and bare app idling side by side for {seconds:g} s")
            (desk_cpu, desk_bytes), (bare_cpu, bare_bytes) = idle_together(
                [
                    (desk_argv(hub.port), (b"hub connected", f"{CLOCKS} open".encode())),
                    (bare_argv(), (READY.encode(),)),
                ],
                seconds,
            )
            log(f"desk: {desk_cpu:.2f}% of a core, {desk_bytes} bytes")
            log(f"bare app: {bare_cpu:.2f}% of a core, {bare_bytes} bytes")
    window = f"{seconds:g} s window, {COLS}x{ROWS}"
    rows = [
        Row(
            NAME,
            f"CPU, {CLOCKS} live clocks, no changes",
            desk_cpu,
            "%",
            bare_cpu,
            "< 2% of one core",
            judge(desk_cpu < BUDGET),
            rerun,
            note=window,
        ),
        Row(
            NAME,
            f"bytes to the terminal in {seconds:g} s",
            desk_bytes,
            "B",
            bare_bytes or None,
            "",
            "info",
            rerun,
            note=f"{desk_bytes / seconds:,.0f} B/s; bare app {bare_bytes} B",
        ),
    ]
    finish("Idle cost of a desk", rows, args)


if __name__ == "__main__":
    main()
