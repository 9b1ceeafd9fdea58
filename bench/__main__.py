"""Run every benchmark and print one table: `python -m bench [--quick] [--only a,b]`.

Each bench runs in its own process (`python -m bench.<name>`), in turn, with a time limit;
their rows are gathered into one table with the command that re-runs each row, and the
machine they ran on. The table is also written to bench/results/latest.txt (not committed).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import PYTHON, ROOT, Row, child_env, machine_text, rerun_command, table

BENCHES = (
    "desk_imports",
    "desk_startup",
    "idle",
    "slow_link",
    "desk_to_desk",
    "throughput",
    "scale",
)
LIMIT = 900  # seconds for any one bench: every loop inside is bounded, this is the backstop


def run_one(name: str, quick: bool) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="hubdesk-bench-") as folder:
        out = Path(folder) / "rows.json"
        command = [PYTHON, "-m", f"bench.{name}", "--json-out", str(out)]
        if quick:
            command.append("--quick")
        print(f"\n### {name} ({rerun_command(name, quick)})", flush=True)
        started = time.perf_counter()
        try:
            result = subprocess.run(command, cwd=ROOT, env=child_env(), timeout=LIMIT)
        except subprocess.TimeoutExpired:
            why = f"did not finish within {LIMIT} s"
        else:
            why = f"exited {result.returncode}" if result.returncode else ""
        print(f"### {name}: {time.perf_counter() - started:.0f} s", flush=True)
        if why or not out.exists():
            return [
                Row(
                    name,
                    "(the bench failed)",
                    None,
                    "",
                    verdict="fail",
                    rerun=rerun_command(name, quick),
                    note=why or "no rows written",
                )
            ]
        return [Row(**row) for row in json.loads(out.read_text())]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a ~1-minute smoke run")
    parser.add_argument("--only", help="comma-separated benches: " + ", ".join(BENCHES))
    args = parser.parse_args()
    names = BENCHES if not args.only else tuple(n.strip() for n in args.only.split(","))
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        parser.error(f"unknown bench {', '.join(unknown)}; choose from {', '.join(BENCHES)}")
    started = time.perf_counter()
    rows: list[Row] = []
    for name in names:
        rows += run_one(name, args.quick)
    minutes = (time.perf_counter() - started) / 60
    verdicts = [r.verdict for r in rows]
    summary = (
        f"{verdicts.count('pass')} budgets passed, {verdicts.count('fail')} failed, "
        f"{verdicts.count('skip')} skipped; {minutes:.1f} min"
        f"{' (--quick)' if args.quick else ''}"
    )
    text = "\n".join([table(rows), "", machine_text(), summary])
    print("\n" + text)
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / ("latest-quick.txt" if args.quick else "latest.txt")).write_text(text + "\n")
    sys.exit(0)


if __name__ == "__main__":
    main()
