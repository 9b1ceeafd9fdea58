"""Over a slow link: the bytes a desk writes to its terminal for one changed referral on a
full 80x24 board (the ward laptop over SSH).

The hub holds 60 open referrals, more than an 80x24 board shows. Once the desk has painted
and gone quiet, another desk triages a referral whose row is on screen (its status changes
from "received" to "triaged"); every byte the desk writes until it is quiet again is counted.
Repeated for several referrals; the median is reported and the largest is noted.

Baseline, in the same run and the same way: a bare Textual app at 80x24 changing one word of
its one static line. Budget: < 2 KB per changed referral.

    python -m bench.slow_link [--quick]
"""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime

from bench.bare_app import READY
from bench.common import (
    HOST,
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
from messaging.command_client import CommandClient

NAME = "slow_link"
OPEN = 60
BUDGET = 2048
QUIET = 0.7


async def open_referrals(port: int) -> list[dict]:
    async with CommandClient(host=HOST, port=port, actor=1, desk="bench-other") as client:
        found = await client.call("list_referrals", {"limit": OPEN + 10})
    return list(found["referrals"])


async def triage(port: int, referral: dict) -> None:
    async with CommandClient(host=HOST, port=port, actor=1, desk="bench-other") as client:
        await client.call(
            "triage_referral", {"referral_id": referral["id"], "version": referral["version"]}
        )


def screen_lines(output: bytes) -> list[bytes]:
    """The painted lines, escape sequences removed (each cursor move starts a line)."""
    text = re.sub(rb"\x1b\[\d+;\d+H", b"\n", output)
    text = re.sub(rb"\x1b\[[0-9;?<>=$]*[A-Za-z]|\x1b\][^\x07]*\x07", b"", text)
    return text.replace(b"\r", b"").split(b"\n")


def on_screen(first_paint: bytes, referrals: list[dict]) -> list[dict]:
    """Received referrals painted as a board row: a line with their name (unique among the
    open referrals, and short enough not to be cut) and "received"."""
    names = [r["patient"]["name"] for r in referrals]
    lines = [line for line in screen_lines(first_paint) if b"received" in line]
    return [
        r
        for r in referrals
        if r["status"] == "received"
        and len(r["patient"]["name"]) <= 18
        and names.count(r["patient"]["name"]) == 1
        and any(r["patient"]["name"].encode() in line for line in lines)
    ]


def desk_changes(port: int, changes: int) -> tuple[list[int], int]:
    """Bytes written for each of `changes` triaged referrals, and the first paint's size."""
    candidates = asyncio.run(open_referrals(port))
    written: list[int] = []
    with PtyProcess(desk_argv(port), cols=80, rows=24) as tty:
        tty.wait_for(b"hub connected", f"{OPEN} open".encode(), timeout=120)
        tty.wait_quiet(1.0, timeout=10)
        first_paint = tty.output()
        visible = on_screen(first_paint, candidates)
        if not visible:
            raise RuntimeError("no received referral found on screen to change")
        for referral in visible[:changes]:
            tty.wait_quiet(QUIET, timeout=10)
            before = tty.total
            asyncio.run(triage(port, referral))
            tty.wait_for(b"triaged", start=before, timeout=10)
            tty.wait_quiet(QUIET, timeout=10)
            written.append(tty.total - before)
    return written, len(first_paint)


def bare_changes(changes: int) -> list[int]:
    written: list[int] = []
    with PtyProcess(bare_argv("change"), cols=80, rows=24) as tty:
        tty.wait_for(READY.encode(), timeout=60)
        time.sleep(1.0)  # keys pressed at once after the first paint may be dropped
        for _ in range(changes):
            tty.wait_quiet(QUIET, timeout=10)
            before = tty.total
            tty.write(b"x")
            tty.wait_quiet(QUIET, timeout=10)
            written.append(tty.total - before)
    return written


def main() -> None:
    args = parse_args(__doc__ or NAME)
    changes = 3 if args.quick else 7
    rerun = rerun_command(NAME, args.quick)
    now = datetime.now(UTC)
    with scratch_dir(NAME) as folder:
        log(f"seeding SQLite ({OPEN} open referrals)")
        seed_sqlite(folder / "hub.db", now=now, months=0 if args.quick else 1, open_referrals=OPEN)
        hub = HubProcess(
            db_url=f"sqlite:///{folder / 'hub.db'}", log_file=folder / "hub.log", fixed_now=now
        )
        with hub:
            hub.start()
            desk, first_paint = desk_changes(hub.port, changes)
    log(f"desk: {desk} bytes per changed referral; first paint {first_paint} bytes")
    bare = bare_changes(changes)
    log(f"bare app: {bare} bytes per changed line")
    value, base = median(desk), median(bare)
    rows = [
        Row(
            NAME,
            "bytes for one changed referral, 80x24 board",
            value,
            "B",
            base,
            "< 2 KB",
            judge(value < BUDGET),
            rerun,
            note=f"median of {len(desk)} changes, largest {max(desk)} B; "
            f"bare app changing one word: {base:.0f} B",
        ),
        Row(
            NAME, "bytes of the first full paint, 80x24", first_paint, "B", None, "", "info", rerun
        ),
    ]
    finish("Over a slow link (80x24 pty)", rows, args)


if __name__ == "__main__":
    main()
