"""A brand-new hub set up from a shell, as the README describes: init with an administrator,
add staff, put them on shift, log a referral."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import RunningHub


def hubdesk(*args: str, port: int | None = None) -> subprocess.CompletedProcess[str]:
    extra = ["--port", str(port)] if port else []
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", *args, *extra],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )


def test_a_new_hub_from_init_to_first_referral(tmp_path: Path) -> None:
    db = tmp_path / "hub.db"
    first = hubdesk("init", "--db", f"sqlite:///{db}")
    assert first.returncode == 0, first.stderr
    assert "No staff yet" in first.stdout
    admin = hubdesk("init", "--db", f"sqlite:///{db}", "--admin", "Ada Admin")
    assert admin.returncode == 0, admin.stderr
    assert "staff id 1" in admin.stdout
    again = hubdesk("init", "--db", f"sqlite:///{db}", "--admin", "Bob")
    assert again.returncode == 1
    assert "already has staff" in again.stderr

    hub = RunningHub(db_path=db, log_file=tmp_path / "hub.log")
    hub.start()
    try:
        nurse = hubdesk("staff", "add", "--name", "Priya Shah", "--team", "nur", port=hub.port)
        assert nurse.returncode == 0, nurse.stderr
        assert "staff id 2" in nurse.stdout
        shift = hubdesk("shift", "add", "--staff", "2", "--start", "08:00", "--end", "14:30",
                        port=hub.port)  # fmt: skip
        assert shift.returncode == 0, shift.stderr
        bad = hubdesk("shift", "add", "--staff", "2", "--start", "8am", "--end", "14:00",
                      port=hub.port)  # fmt: skip
        assert bad.returncode == 1
        assert "not a time like 08:00" in bad.stderr
        listed = hubdesk("staff", "list", port=hub.port)
        assert "Priya Shah" in listed.stdout
        referral = hubdesk("referral", "add", "--name", "Edna Marsh", "--source", "gp",
                           "--need", "NUR", port=hub.port)  # fmt: skip
        assert referral.returncode == 0, referral.stderr
        assert "Referral 1 logged" in referral.stdout
    finally:
        hub.stop()


def test_an_admin_added_while_the_hub_runs_does_not_jam_it(tmp_path: Path) -> None:
    db = tmp_path / "hub.db"
    assert hubdesk("init", "--db", f"sqlite:///{db}").returncode == 0
    hub = RunningHub(db_path=db, log_file=tmp_path / "hub.log")
    hub.start()
    try:
        # someone else appends to the audit log behind the running hub's back
        admin = hubdesk("init", "--db", f"sqlite:///{db}", "--admin", "Ada Admin")
        assert admin.returncode == 0, admin.stderr
        for name in ("Priya Shah", "Tom Hughes"):
            added = hubdesk("staff", "add", "--name", name, "--team", "NUR", port=hub.port)
            assert added.returncode == 0, added.stderr
        listed = hubdesk("staff", "list", port=hub.port)
        assert "Ada Admin" in listed.stdout
        assert "Tom Hughes" in listed.stdout
        assert "catching up" in hub.log_text()
    finally:
        hub.stop()
