"""Scale: a hub with 5,000 open referrals over 1,000,000 closed ones (100,000 with --quick) in
its SQLite database: hub start-up, the snapshot a desk takes, one person's history
(`get_referral`) and the live path (an `add_note` reply), each against a database with the
same 5,000 open referrals and no history at all, built the same way in the same run.

The databases are migrated, given the demo's staff and rota, then filled with plain sqlite3
`executemany` in one transaction: for each closed referral a patient (shared now and then),
the referral, one completed visit with its staff, and three audit events. Start-up runs from
launching `hubdesk serve` to its first answer on the command channel. Budget (history must
not slow the live path): start-up, snapshot and the add_note reply within 1.5x of the
empty-history database.

    python -m bench.scale [--quick]
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from bench.common import (
    HOST,
    HubProcess,
    Row,
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
from messaging.replica import Replica
from messaging.replica_events import SnapshotApplied

NAME = "scale"
OPEN = 5000
FACTOR = 1.5
CHUNK = 50_000
_TIME = "%Y-%m-%d %H:%M:%S"
_NAMES = (
    "Margaret Smith",
    "Harold Jones",
    "Pushpa Patel",
    "Gurdev Singh",
    "Gloria Reid",
    "Bridget Murphy",
    "Amina Hussain",
    "Zofia Nowak",
    "Kenneth Wilson",
    "Joan Taylor",
)


def stamp(t: float) -> str:
    return time.strftime(_TIME, time.gmtime(t)) + f".{int(t % 1 * 1e6):06d}"


def chunks(rows: Iterator[tuple], size: int = CHUNK) -> Iterator[list[tuple]]:
    batch: list[tuple] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def build(path: Path, *, closed: int, now: datetime) -> dict[str, float]:
    """A migrated database with the demo's staff, `closed` closed referrals and OPEN open."""
    started = time.perf_counter()
    seed_sqlite(path, now=now, months=0, open_referrals=0)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = OFF")  # building only; the hub sets its own pragmas
    rng = random.Random(7)
    seq = db.execute("SELECT COALESCE(MAX(seq), 0) FROM audit_event").fetchone()[0]
    clinicians = [r[0] for r in db.execute("SELECT id FROM staff WHERE role = 'clinician'")]
    t_now = now.timestamp()
    history_start = t_now - 86400 * 2 - closed * 300  # one every 5 minutes, ending 2 days ago
    patients_closed = max(1, closed * 4 // 5)
    db.execute("BEGIN")

    def patients(first: int, count: int, at: float) -> Iterator[tuple]:
        for pid in range(first, first + count):
            yield (
                pid,
                None,
                f"{_NAMES[pid % len(_NAMES)]} {pid}",
                "1940-01-01",
                f"{pid % 300} Station Road",
                "LE2 7AB",
                "",
                "",
                1,
                stamp(at),
                1,
            )

    patient_sql = (
        "INSERT INTO patient (id, nhs_number, name, date_of_birth, address, postcode, phone,"
        " access_notes, version, updated_at, updated_by) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
    )
    referral_sql = (
        "INSERT INTO referral (id, patient_id, source, referrer_name, referrer_contact, reason,"
        " needs, priority, status, received_at, due_at, triaged_at, responded_at, closed_at,"
        " outcome, decline_reason, care_continues_reason, created_by, version, updated_at,"
        " updated_by) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
    )
    audit_sql = (
        "INSERT INTO audit_event (seq, command_id, action, key, referral_id, actor_id, desk, at,"
        " summary, body) VALUES (?,?,?,?,?,?,?,?,?,?)"
    )
    for batch in chunks(patients(1, patients_closed, history_start)):
        db.executemany(patient_sql, batch)

    def closed_referrals() -> Iterator[tuple]:
        for rid in range(1, closed + 1):
            t = history_start + rid * 300
            pid = rng.randrange(1, patients_closed + 1)
            yield (
                rid,
                pid,
                "gp",
                "Dr Bench (GP)",
                "0116 496 0000",
                "Fall at home, no injury",
                '["CRT"]',
                "crisis",
                "closed",
                stamp(t),
                stamp(t + 7200),
                stamp(t + 600),
                stamp(t + 4800),
                stamp(t + 90000),
                "stayed_at_home",
                "",
                "",
                1,
                5,
                stamp(t + 90000),
                1,
            )

    def visits() -> Iterator[tuple]:
        for rid in range(1, closed + 1):
            t = history_start + rid * 300
            yield (
                rid,
                rid,
                stamp(t + 4500),
                60,
                "completed",
                stamp(t + 3600),
                stamp(t + 4800),
                stamp(t + 8400),
                4,
                stamp(t + 8400),
                1,
            )

    def audit_closed(first_seq: int) -> Iterator[tuple]:
        s = first_seq
        for rid in range(1, closed + 1):
            t = history_start + rid * 300
            body = json.dumps({"id": rid, "status": "received", "priority": "crisis"})
            for action, key, at, summary, b in (
                ("referral_created", f"/referral/{rid}", t, "Referral received from GP", body),
                ("visit_completed", f"/visit/{rid}", t + 8400, "Visit completed", None),
                ("referral_closed", f"/referral/{rid}", t + 90000, "Closed: Stayed at home", None),
            ):
                s += 1
                yield (s, f"{s:032x}", action, key, rid, 1, "bench", stamp(at), summary, b)

    for batch in chunks(closed_referrals()):
        db.executemany(referral_sql, batch)
    for batch in chunks(visits()):
        db.executemany(
            "INSERT INTO visit (id, referral_id, planned_at, duration_minutes, status,"
            " set_off_at, arrived_at, completed_at, version, updated_at, updated_by)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            batch,
        )
    for batch in chunks((v, rng.choice(clinicians)) for v in range(1, closed + 1)):
        db.executemany("INSERT INTO visit_staff (visit_id, staff_id) VALUES (?, ?)", batch)
    for batch in chunks(audit_closed(seq)):
        db.executemany(audit_sql, batch)
    seq += 3 * closed

    # the live board: received in the last hour, due in one to two hours (no alert due yet)
    first_pid = patients_closed + 1
    db.executemany(patient_sql, list(patients(first_pid, OPEN, t_now - 3600)))
    live, events = [], []
    for i in range(OPEN):
        rid, pid = closed + 1 + i, first_pid + i
        t = t_now - 60 - (i * 3541 % 3500)
        status = "received" if i % 2 else "triaged"
        live.append(
            (
                rid,
                pid,
                "ambulance",
                "EMAS",
                "",
                "Carer breakdown",
                '["CRT", "NUR"]',
                "crisis",
                status,
                stamp(t),
                stamp(t + 7200),
                None if status == "received" else stamp(t + 300),
                None,
                None,
                None,
                "",
                "",
                1,
                1 if status == "received" else 2,
                stamp(t),
                1,
            )
        )
        seq += 1
        events.append(
            (
                seq,
                f"{seq:032x}",
                "referral_created",
                f"/referral/{rid}",
                rid,
                1,
                "bench",
                stamp(t),
                "Referral received from ambulance",
                None,
            )
        )
    db.executemany(referral_sql, live)
    db.executemany(audit_sql, events)
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("ANALYZE")
    db.close()
    return {"seconds": time.perf_counter() - started, "mb": path.stat().st_size / 1e6}


async def snapshot_seconds(port: int) -> float:
    replica = Replica(host=HOST, port=port, desk_id="bench-scale", presence={"desk": "bench"})
    started = time.perf_counter()
    try:
        async with asyncio.timeout(120):
            async for event in replica.events():
                if isinstance(event, SnapshotApplied):
                    return time.perf_counter() - started
    finally:
        await replica.close()
    raise RuntimeError("no snapshot")


async def timed_calls(port: int, command: str, args_list: list[dict]) -> list[float]:
    times = []
    async with CommandClient(host=HOST, port=port, actor=1, desk="bench-scale") as client:
        await client.call(command, args_list[0])  # warm
        for args in args_list:
            t0 = time.perf_counter()
            await client.call(command, args)
            times.append(time.perf_counter() - t0)
            await asyncio.sleep(0.01)
    return times


def measure(path: Path, closed: int, now: datetime, starts: int, calls: int) -> dict[str, float]:
    rng = random.Random(11)
    open_ids = [closed + 1 + rng.randrange(OPEN) for _ in range(calls)]
    closed_ids = [1 + rng.randrange(closed) for _ in range(calls)] if closed else []
    startup: list[float] = []
    out: dict[str, float] = {}
    for i in range(starts):
        hub = HubProcess(
            db_url=f"sqlite:///{path}", log_file=path.with_suffix(".log"), fixed_now=now
        )
        with hub:
            startup.append(hub.start(timeout=600))
            if i:
                continue
            out["snapshot"] = median([asyncio.run(snapshot_seconds(hub.port)) for _ in range(3)])
            out["get_open"] = median(
                asyncio.run(
                    timed_calls(hub.port, "get_referral", [{"referral_id": r} for r in open_ids])
                )
            )
            if closed_ids:
                out["get_closed"] = median(
                    asyncio.run(
                        timed_calls(
                            hub.port, "get_referral", [{"referral_id": r} for r in closed_ids]
                        )
                    )
                )
            out["add_note"] = median(
                asyncio.run(
                    timed_calls(
                        hub.port,
                        "add_note",
                        [{"referral_id": r, "text": f"scale {n}"} for n, r in enumerate(open_ids)],
                    )
                )
            )
    out["startup"] = median(startup)
    return out


def main() -> None:
    args = parse_args(__doc__ or NAME)
    closed = 100_000 if args.quick else 1_000_000
    starts = 1 if args.quick else 3
    calls = 30 if args.quick else 100
    rerun = rerun_command(NAME, args.quick)
    now = datetime.now(UTC)
    with scratch_dir(NAME) as folder:
        log(f"building SQLite with {closed:,} closed + {OPEN:,} open referrals")
        big = build(folder / "history.db", closed=closed, now=now)
        log(f"built in {big['seconds']:.1f} s, {big['mb']:.0f} MB")
        empty = build(folder / "empty.db", closed=0, now=now)
        log(f"empty-history database built in {empty['seconds']:.1f} s, {empty['mb']:.1f} MB")
        log("measuring over the history database")
        h = measure(folder / "history.db", closed, now, starts, calls)
        log(f"history: {h}")
        log("measuring over the empty-history database")
        e = measure(folder / "empty.db", 0, now, starts, calls)
        log(f"empty history: {e}")
    label = f"{closed:,} closed + {OPEN:,} open"
    budget = f"<= {FACTOR:g}x empty history"
    rows = [
        Row(
            NAME,
            f"hub start-up, {label}",
            h["startup"],
            "s",
            e["startup"],
            budget,
            judge(h["startup"] <= FACTOR * e["startup"]),
            rerun,
            note=f"launch to first answer, median of {starts}; database {big['mb']:,.0f} MB, "
            f"built in {big['seconds']:.0f} s",
        ),
        Row(
            NAME,
            f"snapshot to a desk, {label}",
            h["snapshot"],
            "s",
            e["snapshot"],
            budget,
            judge(h["snapshot"] <= FACTOR * e["snapshot"]),
            rerun,
            note="median of 3",
        ),
        Row(
            NAME,
            "add_note reply (live path), median",
            h["add_note"],
            "s",
            e["add_note"],
            budget,
            judge(h["add_note"] <= FACTOR * e["add_note"]),
            rerun,
        ),
        Row(
            NAME,
            "get_referral, an open referral, median",
            h["get_open"],
            "s",
            e["get_open"],
            budget,
            judge(h["get_open"] <= FACTOR * e["get_open"]),
            rerun,
        ),
        Row(
            NAME,
            "get_referral, a closed one from history, median",
            h["get_closed"],
            "s",
            e["get_open"],
            "",
            "info",
            rerun,
            note="baseline: an open referral's get_referral over the empty-history database",
        ),
    ]
    finish("Scale: 5,000 open referrals over a long history (SQLite)", rows, args)


if __name__ == "__main__":
    main()
