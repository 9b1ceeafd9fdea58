"""Desk imports: the import time and peak RSS of what a desk process loads (`hub.cli`, the
entry point, `screens.main` and `screens.app`), against a bare Textual app's imports in the
same run; and a check that a real desk process, from launch to quitting with "q" on a
painted board, never imports sqlalchemy, sqlmodel or apscheduler.

Each import run is a fresh interpreter (`python -c "import ..."`), timed from launch to
exit, with its peak RSS from wait4(); the median of several runs alternated with the
baseline's is reported. Budget: within 1.5x of the bare app; the forbidden list empty.

    python -m bench.desk_imports [--quick]
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import (
    PYTHON,
    ROOT,
    HubProcess,
    PtyProcess,
    Row,
    child_env,
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

NAME = "desk_imports"
FACTOR = 1.5
FORBIDDEN = ("sqlalchemy", "sqlmodel", "apscheduler")
DESK_IMPORTS = "import hub.cli, screens.main, screens.app"
BARE_IMPORTS = "from textual.app import App; from textual.widgets import Static"
DUMP = (
    "import atexit, os, sys\n"
    "def _dump():\n"
    "    with open(os.environ['BENCH_MODULES_OUT'], 'w') as f:\n"
    "        f.write('\\n'.join(sorted(sys.modules)))\n"
    "atexit.register(_dump)\n"
    "from hub.cli import main\n"
    "sys.argv = ['hubdesk', *sys.argv[1:]]\n"
    "main()\n"
)


def timed_import(code: str) -> tuple[float, float]:
    """(seconds from launch to exit, peak RSS in MB) of `python -c code`."""
    started = time.perf_counter()
    child = subprocess.Popen([PYTHON, "-c", code], cwd=ROOT, env=child_env())
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise RuntimeError(f"{code!r} exited {child.returncode}")
    return elapsed, usage.ru_maxrss / 1024


def modules_of_a_real_desk(port: int, out: Path) -> list[str]:
    """Every module a desk process had loaded when it quit from a painted board."""
    argv = [PYTHON, "-c", DUMP, *desk_argv(port)[3:]]
    os.environ["BENCH_MODULES_OUT"] = str(out)  # inherited through terminal_env()
    try:
        with PtyProcess(argv, cols=80, rows=24) as tty:
            tty.wait_for(b"hub connected", b" open", timeout=120)
            time.sleep(1.0)  # keys pressed at once after the first paint may be dropped
            for _ in range(20):  # bounded: "q" until the desk has gone
                tty.write(b"q")
                try:
                    tty.proc.wait(timeout=1.0)
                    break
                except subprocess.TimeoutExpired:
                    continue
    finally:
        os.environ.pop("BENCH_MODULES_OUT", None)
    if not out.exists():
        raise RuntimeError("the desk did not quit cleanly on 'q'; no module list")
    return out.read_text().split()


def main() -> None:
    args = parse_args(__doc__ or NAME)
    runs = 3 if args.quick else 9
    rerun = rerun_command(NAME, args.quick)
    timed_import(DESK_IMPORTS)  # warm-up: bytecode and file caches
    timed_import(BARE_IMPORTS)
    desk_t, desk_m, bare_t, bare_m = [], [], [], []
    for _ in range(runs):
        t, m = timed_import(BARE_IMPORTS)
        bare_t.append(t)
        bare_m.append(m)
        t, m = timed_import(DESK_IMPORTS)
        desk_t.append(t)
        desk_m.append(m)
    log(
        f"imports: desk {median(desk_t):.3f} s {median(desk_m):.1f} MB; "
        f"bare {median(bare_t):.3f} s {median(bare_m):.1f} MB"
    )

    now = datetime.now(UTC)
    with scratch_dir(NAME) as folder:
        seed_sqlite(folder / "hub.db", now=now, months=0, open_referrals=14)
        with HubProcess(
            db_url=f"sqlite:///{folder / 'hub.db'}", log_file=folder / "hub.log", fixed_now=now
        ) as hub:
            hub.start()
            modules = modules_of_a_real_desk(hub.port, folder / "modules.txt")
    tops = sorted({m.split(".")[0] for m in modules})
    bad = [t for t in tops if t in FORBIDDEN]
    packages = [t for t in tops if t not in sys.stdlib_module_names and not t.startswith("_")]
    log(f"a real desk loaded {len(modules)} modules; forbidden: {bad or 'none'}")
    rows = [
        Row(
            NAME,
            f"import time ({DESK_IMPORTS})",
            median(desk_t),
            "s",
            median(bare_t),
            f"<= {FACTOR:g}x bare app",
            judge(median(desk_t) <= FACTOR * median(bare_t)),
            rerun,
            note=f"fresh interpreter, launch to exit, median of {runs}; bare: {BARE_IMPORTS}",
        ),
        Row(
            NAME,
            "peak RSS after those imports",
            median(desk_m),
            "MB",
            median(bare_m),
            f"<= {FACTOR:g}x bare app",
            judge(median(desk_m) <= FACTOR * median(bare_m)),
            rerun,
        ),
        Row(
            NAME,
            "sqlalchemy/sqlmodel/apscheduler in a real desk",
            float(len(bad)),
            "count",
            None,
            "none",
            judge(not bad),
            rerun,
            note=f"{len(modules)} modules loaded from launch to 'q'; packages beyond the "
            f"standard library: {', '.join(packages)}",
        ),
    ]
    finish("Desk imports", rows, args)


if __name__ == "__main__":
    main()
