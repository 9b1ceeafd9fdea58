"""Desk start-up and memory: from launch to a painted board with 2,000 open referrals and a
year of history in the hub, the time and peak RSS of the desk process.

The desk runs as a user runs it (`python -m hub.cli desk`) on its own 80x24 pseudo-terminal.
"Painted" is the moment the terminal has been sent both "hub connected" and "2000 open" (the
status bar, counted from the board's rows after they were shown): no hook in the desk.
Peak RSS is the process's VmHWM at that moment.

Baseline, in the same run, launched the same way and alternated with the desk: a bare
Textual app with one static widget (bench/bare_app.py), painted when its text arrives.
One launch of each is discarded first (bytecode and file caches). Budget: within 1.5x of
the bare app, in time and in memory.

For information, a third program is alternated with them: the floor (bench/floor_app.py),
the bare app plus what no desk can skip (pyzmq, asking for the snapshot before Textual
loads, receiving its 2,000+ messages and parsing each body once). The desk's figure over the
floor's is what the desk itself adds: its rows, board, bars and the rest of its code.

    python -m bench.desk_startup [--quick]
"""

from __future__ import annotations

from datetime import UTC, datetime

from bench.bare_app import READY
from bench.common import (
    PYTHON,
    HubProcess,
    PtyProcess,
    Row,
    bare_argv,
    desk_argv,
    finish,
    judge,
    log,
    median,
    parse_args,
    rerun_command,
    scratch_dir,
    seed_sqlite,
)
from bench.floor_app import READY as FLOOR_READY

NAME = "desk_startup"
OPEN = 2000
FACTOR = 1.5


def launch(argv: list[str], needles: tuple[bytes, ...]) -> tuple[float, float]:
    """(seconds from launch to painted, peak RSS in MB at that moment)."""
    with PtyProcess(argv, cols=80, rows=24) as tty:
        painted = tty.wait_for(*needles, timeout=120)
        return painted - tty.launched_at, tty.peak_rss_mb()


def main() -> None:
    args = parse_args(__doc__ or NAME)
    runs = 2 if args.quick else 5
    months = 1 if args.quick else 12
    rerun = rerun_command(NAME, args.quick)
    now = datetime.now(UTC)
    with scratch_dir(NAME) as folder:
        log(f"seeding SQLite ({months} months of history, {OPEN} open referrals)")
        summary = seed_sqlite(folder / "hub.db", now=now, months=months, open_referrals=OPEN)
        hub = HubProcess(
            db_url=f"sqlite:///{folder / 'hub.db'}", log_file=folder / "hub.log", fixed_now=now
        )
        with hub:
            hub.start()
            desk = desk_argv(hub.port)
            desk_needles = (b"hub connected", f"{OPEN} open".encode())
            bare = bare_argv()
            bare_needles = (READY.encode(),)
            floor = [PYTHON, "-m", "bench.floor_app", str(hub.port)]
            floor_needles = (FLOOR_READY.encode(),)
            launch(bare, bare_needles)  # warm-up, discarded
            launch(floor, floor_needles)
            launch(desk, desk_needles)
            desk_times, desk_rss, bare_times, bare_rss, floor_times = [], [], [], [], []
            for i in range(runs):
                t, rss = launch(bare, bare_needles)
                bare_times.append(t)
                bare_rss.append(rss)
                floor_times.append(launch(floor, floor_needles)[0])
                t, rss = launch(desk, desk_needles)
                desk_times.append(t)
                desk_rss.append(rss)
                log(
                    f"run {i + 1}: desk {desk_times[-1]:.3f} s {desk_rss[-1]:.1f} MB; "
                    f"bare {bare_times[-1]:.3f} s {bare_rss[-1]:.1f} MB; "
                    f"floor {floor_times[-1]:.3f} s"
                )
    history = f"{summary['referrals_closed']:,} closed referrals, {runs} runs, median"
    t, bt = median(desk_times), median(bare_times)
    m, bm = median(desk_rss), median(bare_rss)
    ft = median(floor_times)
    rows = [
        Row(
            NAME,
            f"launch -> painted board, {OPEN} open",
            t,
            "s",
            bt,
            f"<= {FACTOR:g}x bare app",
            judge(t <= FACTOR * bt),
            rerun,
            note=history,
        ),
        Row(
            NAME,
            f"floor: snapshot only, {OPEN} open",
            ft,
            "s",
            bt,
            "-",
            "info",
            rerun,
            note=f"bare app + pyzmq + the snapshot parsed once; the desk is {t / ft:.2f}x this",
        ),
        Row(
            NAME,
            f"peak RSS at painted board, {OPEN} open",
            m,
            "MB",
            bm,
            f"<= {FACTOR:g}x bare app",
            judge(m <= FACTOR * bm),
            rerun,
        ),
    ]
    finish("Desk start-up and memory (80x24 pty)", rows, args)


if __name__ == "__main__":
    main()
