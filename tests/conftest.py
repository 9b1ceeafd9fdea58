"""Shared fixtures: a real hub process on free loopback ports over a seeded SQLite database.

The seeded database is built once per test session (a month of history) and copied for each
test, so every test starts from the same data without paying for the seeding again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hub.ports import find_free_base_port
from messaging.command_client import CommandClient, CommandRefused, HubUnavailable

SEED = 7
FIXED_NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday morning


@dataclass
class RunningHub:
    """A `hubdesk serve` child process. `call` drives it over the command channel."""

    db_path: Path
    log_file: Path
    host: str = "127.0.0.1"
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    fixed_now: datetime | None = None

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.db_path}"

    def start(self, timeout: float = 30.0) -> None:
        self._launch()
        asyncio.run(self._wait_ready(timeout))

    async def astart(self, timeout: float = 30.0) -> None:
        """`start()` for a test already inside an event loop."""
        self._launch()
        await self._wait_ready(timeout)

    def _launch(self) -> None:
        if not self.port:
            self.port = find_free_base_port()
        command = [
            sys.executable, "-m", "hub.cli", "serve",
            "--db", self.db_url, "--port", str(self.port), "--log-file", str(self.log_file),
            "--parent", str(os.getpid()),  # never outlive a killed test run
        ]  # fmt: skip
        if self.fixed_now is not None:
            command += ["--fixed-now", self.fixed_now.isoformat()]
        env = {**os.environ, **self.extra_env}
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
        )

    async def _wait_ready(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"hub exited: {err}\n{self.log_text()}")
            try:
                await self.call("list_referrals", {"limit": 1}, timeout=0.5, retries=1)
                return
            except CommandRefused:  # it answered (a new hub may have no staff yet)
                return
            except HubUnavailable:
                await asyncio.sleep(0.1)
        raise RuntimeError(f"hub did not answer within {timeout} s\n{self.log_text()}")

    async def call(
        self,
        command: str,
        args: dict[str, Any] | None = None,
        *,
        actor: int = 1,
        timeout: float = 5.0,
        retries: int = 2,
    ) -> dict[str, Any]:
        async with CommandClient(
            host=self.host,
            port=self.port,
            actor=actor,
            desk="test-cli",
            timeout=timeout,
            retries=retries,
        ) as client:
            return await client.call(command, args or {})

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def log_text(self) -> str:
        return self.log_file.read_text() if self.log_file.exists() else ""


@pytest.fixture(scope="session")
def seeded_db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from hub.db import make_engine
    from hub.demo_data import seed_demo
    from hub.migrate import upgrade

    path = tmp_path_factory.mktemp("template") / "hub.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    seed_demo(engine, seed=SEED, now=datetime.now(UTC), months=1)
    engine.dispose()
    return path


def _running(tmp_path: Path, template: Path, fixed_now: datetime | None) -> Iterator[RunningHub]:
    db_path = tmp_path / "hub.db"
    shutil.copy(template, db_path)
    running = RunningHub(db_path=db_path, log_file=tmp_path / "hub.log", fixed_now=fixed_now)
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def hub(tmp_path: Path, seeded_db_template: Path) -> Iterator[RunningHub]:
    """A running hub over a fresh copy of the seeded database (real time)."""
    yield from _running(tmp_path, seeded_db_template, None)


@pytest.fixture(scope="session")
def fixed_db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from hub.db import make_engine
    from hub.demo_data import seed_demo
    from hub.migrate import upgrade

    path = tmp_path_factory.mktemp("fixed") / "hub.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    seed_demo(engine, seed=SEED, now=FIXED_NOW, months=1)
    engine.dispose()
    return path


@pytest.fixture
def fixed_hub(tmp_path: Path, fixed_db_template: Path) -> Iterator[RunningHub]:
    """A running hub whose clock is frozen at FIXED_NOW over data seeded at that moment:
    for SVG snapshots and any test that asserts exact times. Give desks FixedClock()."""
    yield from _running(tmp_path, fixed_db_template, FIXED_NOW)


class FixedClock:
    """The desk's clock in tests: FIXED_NOW unless moved on."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or FIXED_NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@contextlib.asynccontextmanager
async def desk_app(
    hub: RunningHub,
    *,
    actor: int = 1,
    desk_id: str = "desk-test",
    clock: Any = None,
) -> AsyncIterator[Any]:
    """A real DeskApp wired to `hub` through a real Replica and CommandClient.
    Use: `async with desk_app(hub) as app, app.run_test(size=(80, 24)) as pilot:`."""
    from messaging.replica import Replica
    from screens.app import DeskApp

    replica = Replica(
        host=hub.host, port=hub.port, desk_id=desk_id, presence={"desk": desk_id},
        silence_timeout=1.5,
    )  # fmt: skip
    commands = CommandClient(host=hub.host, port=hub.port, actor=actor, desk=desk_id)
    app = DeskApp(replica, commands, desk_id=desk_id, clock=clock or FixedClock(), actor=actor)
    try:
        yield app
    finally:
        await replica.close()
        await commands.close()


__all__ = ["RunningHub", "CommandRefused", "HubUnavailable"]
