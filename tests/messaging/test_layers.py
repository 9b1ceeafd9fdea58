"""messaging imports no UI, database or scheduler code (checked in a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = ("textual", "sqlmodel", "sqlalchemy", "apscheduler", "hub", "screens", "rich")


def test_messaging_imports_stay_light() -> None:
    code = (
        "import sys\n"
        "import messaging.protocol, messaging.kvmsg, messaging.envelope, messaging.hub_sockets\n"
        "import messaging.replica, messaging.command_client\n"
        f"print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
