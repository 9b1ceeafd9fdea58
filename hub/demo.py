"""`hubdesk demo`: a hub with synthetic data in a temporary SQLite database, plus a desk.

The hub runs as a child process (never forked after a context or a database connection
exists); leaving the desk stops the hub it started and removes the temporary database.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import typer

from hub.ports import find_free_base_port, ports_free
from messaging.protocol import DEFAULT_PORT

DEMO_ACTOR = 1  # Alex Morgan, coordinator


def run_demo(*, seed: int, port: int | None, every: float) -> None:
    if port is None:
        port = DEFAULT_PORT if ports_free("127.0.0.1", DEFAULT_PORT) else find_free_base_port()
    elif not ports_free("127.0.0.1", port):
        typer.secho(f"Ports {port}..{port + 3} are in use: try another --port", err=True, fg="red")
        raise typer.Exit(1)
    with tempfile.TemporaryDirectory(prefix="hubdesk-demo-") as folder:
        db = Path(folder) / "demo.db"
        log_file = Path(folder) / "hub.log"
        command = [
            sys.executable,
            "-m",
            "hub.cli",
            "serve",
            "--db",
            f"sqlite:///{db}",
            "--port",
            str(port),
            "--log-file",
            str(log_file),
            "--demo-seed",
            str(seed),
            "--demo-feed",
            str(every),
            "--parent",
            str(os.getpid()),
        ]
        typer.echo(f"Starting a demo hub on 127.0.0.1:{port} (seed {seed})...")
        hub = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            _wait_until_listening(hub, port)
            from hub.logs import configure_logging
            from screens.main import run_desk

            configure_logging(Path(folder) / "desk.log")

            run_desk(host="127.0.0.1", port=port, desk_id="demo-desk-1", actor=DEMO_ACTOR)
        finally:
            hub.terminate()
            try:
                hub.wait(timeout=10)
            except subprocess.TimeoutExpired:
                hub.kill()


def _wait_until_listening(hub: subprocess.Popen[bytes], port: int, timeout: float = 60.0) -> None:
    """Seeding a year of history takes a few seconds; the desk waits for the ports."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if hub.poll() is not None:
            err = hub.stderr.read().decode(errors="replace") if hub.stderr else ""
            typer.secho(f"The demo hub stopped: {err.strip()}", err=True, fg="red")
            raise typer.Exit(1)
        if not ports_free("127.0.0.1", port + 3, count=1):
            return
        time.sleep(0.2)
    typer.secho("The demo hub did not start in time", err=True, fg="red")
    raise typer.Exit(1)
