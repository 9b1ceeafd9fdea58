"""What every benchmark shares: result rows and their table, the machine, statistics, a hub
process on loopback, seeded databases, a scratch PostgreSQL database, and a pseudo-terminal
that counts the bytes a desk writes.

Every wait here has a deadline and every loop a bound; all sockets are on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import json
import math
import os
import platform
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HOST = "127.0.0.1"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


# -- rows and the table ------------------------------------------------------------------


@dataclass
class Row:
    """One measured figure, its same-run baseline, and the budget it is held to."""

    bench: str
    measure: str
    value: float | None
    unit: str
    baseline: float | None = None
    budget: str = ""
    verdict: str = "info"  # pass, fail, info or skip
    rerun: str = ""
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "count":
        return f"{value:,.0f}"
    if unit == "s" and value < 1:
        return f"{value * 1000:.1f} ms"
    if unit == "ms" and value < 1:
        return f"{value * 1000:.0f} µs"
    if unit == "MB" or unit == "%":
        return f"{value:.1f} {unit}"
    if unit in ("B", "/s", "KB"):
        return f"{value:,.0f} {unit}" if unit != "/s" else f"{value:,.0f}/s"
    if abs(value) >= 100:
        return f"{value:,.0f} {unit}"
    return f"{value:.2f} {unit}"


def table(rows: Sequence[Row], *, rerun: bool = True) -> str:
    heads = ["bench", "measure", "value", "baseline", "ratio", "budget", "verdict"]
    if rerun:
        heads.append("re-run")
    lines = []
    for row in rows:
        ratio = row.ratio
        cells = [
            row.bench,
            row.measure,
            fmt(row.value, row.unit),
            fmt(row.baseline, row.unit),
            f"{ratio:.2f}x" if ratio is not None else "-",
            row.budget or "-",
            row.verdict.upper() if row.verdict in ("pass", "fail") else row.verdict,
        ]
        if rerun:
            cells.append(row.rerun)
        lines.append(cells)
    widths = [
        max(len(h), *(len(c[i]) for c in lines)) if lines else len(h) for i, h in enumerate(heads)
    ]
    out = [" | ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True))]
    out.append("-+-".join("-" * w for w in widths))
    out += [" | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) for cells in lines]
    notes = [f"  [{r.bench} / {r.measure}] {r.note}" for r in rows if r.note]
    return "\n".join(out + (["", "notes:", *notes] if notes else []))


def judge(ok: bool | None) -> str:
    return "info" if ok is None else ("pass" if ok else "fail")


# -- the machine --------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = platform.processor() or "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "?"
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    osname = platform.platform()
    with contextlib.suppress(OSError):
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                osname = f"{line.split('=', 1)[1].strip(chr(34))} ({platform.release()})"
    versions = []
    for dist in ("textual", "pyzmq", "sqlalchemy", "psycopg"):
        with contextlib.suppress(Exception):
            from importlib.metadata import version

            versions.append(f"{dist} {version(dist)}")
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "ram": ram,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": osname,
        "packages": ", ".join(versions),
    }


def machine_text(info: dict[str, str] | None = None) -> str:
    info = info or machine()
    return (
        f"machine: {info['cpu']}, {info['cores']} cores, {info['ram']} RAM; "
        f"{info['python']}; {info['os']}\npackages: {info['packages']}"
    )


# -- statistics ---------------------------------------------------------------------------


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (p99 of 300 samples is the 297th smallest)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def median(values: Sequence[float]) -> float:
    return percentile(values, 50) if len(values) % 2 else _mid(values)


def _mid(values: Sequence[float]) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    n = len(ordered)
    return (ordered[n // 2 - 1] + ordered[n // 2]) / 2


# -- command line shared by every bench ---------------------------------------------------


def parse_args(description: str, argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--json-out", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def rerun_command(module: str, quick: bool) -> str:
    return f"python -m bench.{module}" + (" --quick" if quick else "")


def finish(title: str, rows: list[Row], args: argparse.Namespace) -> None:
    """Print the bench's own table (and hand its rows to `python -m bench`)."""
    print(f"\n== {title} ==")
    print(table(rows, rerun=False))
    if args.json_out is not None:
        args.json_out.write_text(json.dumps([asdict(r) for r in rows]))


def log(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


# -- seeded databases ---------------------------------------------------------------------


def seed_sqlite(path: Path, *, now: datetime, months: int, open_referrals: int) -> dict[str, Any]:
    """A migrated SQLite database at `path` with the demo's synthetic hub."""
    return seed_url(f"sqlite:///{path}", now=now, months=months, open_referrals=open_referrals)


def seed_url(url: str, *, now: datetime, months: int, open_referrals: int) -> dict[str, Any]:
    from hub.db import make_engine
    from hub.demo_data import seed_demo
    from hub.migrate import upgrade

    engine = make_engine(url)
    try:
        upgrade(engine)
        summary = seed_demo(engine, seed=7, now=now, months=months, open_referrals=open_referrals)
    finally:
        engine.dispose()
    return asdict(summary)


def pg_url() -> str:
    return os.environ.get("HUBDESK_BENCH_PG_URL") or os.environ.get(
        "HUBDESK_TEST_PG_URL", DEFAULT_PG_URL
    )


@contextlib.contextmanager
def pg_scratch_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for one bench, dropped afterwards. Raises
    `Unavailable` with the reason when no server answers."""
    import uuid

    try:
        import psycopg
    except ImportError as exc:
        raise Unavailable(f"psycopg is not installed: {exc}") from None
    base = pg_url()
    plain = base.replace("postgresql+psycopg://", "postgresql://", 1)
    name = f"hubdesk_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        admin = psycopg.connect(plain, autocommit=True, connect_timeout=3)
    except Exception as exc:
        raise Unavailable(f"PostgreSQL unreachable at {base}: {exc}".splitlines()[0]) from None
    try:
        admin.execute(f'CREATE DATABASE "{name}"')
        head, _, _ = base.rpartition("/")
        yield f"{head}/{name}"
    finally:
        with contextlib.suppress(Exception):
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


class Unavailable(RuntimeError):
    """Something a bench needs is not here; the bench prints the reason and skips."""


@contextlib.contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix=f"hubdesk-bench-{prefix}-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- a hub process ------------------------------------------------------------------------


@dataclass
class HubProcess:
    """`python -m hub.cli serve` as a child process on free loopback ports."""

    db_url: str
    log_file: Path
    port: int = 0
    fixed_now: datetime | None = None
    process: subprocess.Popen[bytes] | None = None
    launched_at: float = 0.0
    ready_after: float = math.nan
    extra_env: dict[str, str] = field(default_factory=dict)

    def launch(self) -> None:
        from hub.ports import find_free_base_port

        if not self.port:
            self.port = find_free_base_port()
        command = [
            PYTHON,
            "-m",
            "hub.cli",
            "serve",
            "--db",
            self.db_url,
            "--port",
            str(self.port),
            "--log-file",
            str(self.log_file),
        ]
        if self.fixed_now is not None:
            command += ["--fixed-now", self.fixed_now.isoformat()]
        env = child_env(**self.extra_env)
        self.launched_at = time.perf_counter()
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=ROOT
        )

    async def wait_ready(self, within: float = 120.0) -> float:
        """Seconds from launch to the first answer on the command channel."""
        answered = await probe_commands(self.port, within, self.process)
        self.ready_after = answered - self.launched_at
        return self.ready_after

    def start(self, timeout: float = 120.0) -> float:
        self.launch()
        return asyncio.run(self.wait_ready(within=timeout))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> HubProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def probe_commands(
    port: int, within: float, process: subprocess.Popen[bytes] | None = None
) -> float:
    """Wait until the hub answers a command (an unknown one: refused before any database
    work); returns `time.perf_counter()` at the answer. One DEALER that reconnects every
    10 ms, so the answer comes within about 10 ms of the hub binding."""
    import zmq
    import zmq.asyncio

    from messaging.envelope import CommandEnvelope
    from messaging.protocol import Ports

    context = zmq.asyncio.Context.instance()
    dealer = context.socket(zmq.DEALER)
    dealer.setsockopt(zmq.LINGER, 0)
    dealer.setsockopt(zmq.RECONNECT_IVL, 10)
    dealer.connect(f"tcp://{HOST}:{Ports.from_base(port).commands}")
    envelope = CommandEnvelope.new("bench_ready_probe", {}, actor=1, desk="bench-probe")
    deadline = time.perf_counter() + within
    try:
        await dealer.send(envelope.to_bytes())
        while time.perf_counter() < deadline:
            if await dealer.poll(50, zmq.POLLIN):
                await dealer.recv_multipart()
                return time.perf_counter()
            if process is not None and process.poll() is not None:
                err = process.stderr.read().decode(errors="replace") if process.stderr else ""
                raise RuntimeError(f"the hub exited: {err.strip()[-2000:]}")
        raise RuntimeError(f"the hub did not answer within {within:g} s")
    finally:
        dealer.close(linger=0)


# -- a pseudo-terminal --------------------------------------------------------------------


def desk_argv(port: int, *, actor: int = 1, desk_id: str = "bench-desk") -> list[str]:
    return [
        PYTHON,
        "-m",
        "hub.cli",
        "desk",
        "--host",
        HOST,
        "--port",
        str(port),
        "--as",
        str(actor),
        "--desk-id",
        desk_id,
    ]


def bare_argv(mode: str = "static") -> list[str]:
    return [PYTHON, "-m", "bench.bare_app", mode]


def child_env(**extra: str) -> dict[str, str]:
    """The environment of every process a bench starts. Bytecode caching stays on, as in an
    installed desk (a shell with PYTHONDONTWRITEBYTECODE=1 would make every start compile the
    project's modules again); the caches land in the ignored __pycache__ folders."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(extra)
    return env


def terminal_env() -> dict[str, str]:
    """A plain xterm over SSH: 256 colours (ssh does not pass COLORTERM on)."""
    env = {k: v for k, v in child_env().items() if not k.startswith(("TEXTUAL", "COLORTERM"))}
    env.update(TERM="xterm-256color", LANG="C.UTF-8", LC_ALL="C.UTF-8")
    env.pop("NO_COLOR", None)
    return env


class PtyProcess:
    """A child on its own pseudo-terminal of a fixed size; every byte it writes is kept
    with the time it arrived."""

    def __init__(self, argv: list[str], *, cols: int = 80, rows: int = 24) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.master = master
        self.launched_at = time.perf_counter()
        self.proc = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=terminal_env(),
            cwd=ROOT,
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        self._chunks: list[tuple[float, int]] = []
        self._buffer = bytearray()
        self._cond = threading.Condition()
        self._closed = False
        self._reader = threading.Thread(target=self._read, name="pty-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                data = b""
            with self._cond:
                if not data:
                    self._closed = True
                    self._cond.notify_all()
                    return
                self._chunks.append((time.perf_counter(), len(data)))
                self._buffer += data
                self._cond.notify_all()

    @property
    def total(self) -> int:
        with self._cond:
            return len(self._buffer)

    def output(self) -> bytes:
        with self._cond:
            return bytes(self._buffer)

    def wait_for(self, *needles: bytes, timeout: float = 60.0, start: int = 0) -> float:
        """Wait until every needle has appeared (after byte `start`); returns the time the
        last of them arrived. RuntimeError on timeout or if the child exits first."""
        deadline = time.perf_counter() + timeout
        with self._cond:
            while True:
                if all(self._buffer.find(n, start) >= 0 for n in needles):
                    return self._chunks[-1][0]
                left = deadline - time.perf_counter()
                if left <= 0 or self._closed:
                    tail = bytes(self._buffer[-600:]).decode(errors="replace")
                    why = "exited" if self._closed else f"timed out after {timeout:g} s"
                    raise RuntimeError(f"waiting for {needles!r}: the child {why}; tail {tail!r}")
                self._cond.wait(min(left, 0.2))

    def wait_quiet(self, quiet: float = 0.5, timeout: float = 10.0) -> bool:
        """Wait until nothing has been written for `quiet` seconds from now; False on timeout."""
        began = time.perf_counter()
        deadline = began + timeout
        while time.perf_counter() < deadline:
            with self._cond:
                last = max(self._chunks[-1][0] if self._chunks else 0.0, began)
            idle = time.perf_counter() - last
            if idle >= quiet:
                return True
            time.sleep(min(quiet - idle, 0.05) + 0.001)
        return False

    def bytes_between(self, t0: float, t1: float) -> int:
        with self._cond:
            return sum(n for t, n in self._chunks if t0 <= t < t1)

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def peak_rss_mb(self) -> float:
        return proc_status_kb(self.proc.pid, "VmHWM") / 1024

    def cpu_seconds(self) -> float:
        return proc_cpu_seconds(self.proc.pid)

    def close(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        with contextlib.suppress(OSError):
            os.close(self.master)
        self._reader.join(timeout=2)

    def __enter__(self) -> PtyProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def proc_status_kb(pid: int, field_name: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return float(line.split()[1])
    raise RuntimeError(f"no {field_name} for process {pid}")


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process, from /proc (10 ms resolution)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")
