"""A desk process never loads the database layer, the scheduler or the hub."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = ("sqlmodel", "sqlalchemy", "apscheduler", "hub", "models.tables", "models.sqltypes")


def test_the_desk_imports_no_database_scheduler_or_hub_code() -> None:
    code = (
        "import sys, screens.main, screens.app\n"
        f"bad = sorted(m for m in sys.modules if m in {FORBIDDEN!r} "
        f"or m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""
