"""Stand-ins for the replica and the command client, driven by the test, for desk tests."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Console

from messaging.replica_events import KeyChanged, ReplicaEvent, Resyncing, SnapshotApplied

NOW = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)


class FixedClock:
    """A desk clock the test moves by hand."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def referral_body(
    ident: int,
    *,
    name: str = "Edna Example",
    received_at: datetime = NOW - timedelta(minutes=30),
    priority: str = "crisis",
    status: str = "received",
    nhs_number: str | None = "9990000018",
    needs: tuple[str, ...] = ("CRT", "NUR"),
    staff: tuple[str, ...] = (),
    responded_at: datetime | None = None,
) -> dict[str, Any]:
    due_at = received_at + timedelta(hours=2) if priority == "crisis" else None
    return {
        "id": ident,
        "version": 1,
        "status": status,
        "priority": priority,
        "source": "gp",
        "patient": {"id": ident, "name": name, "nhs_number": nhs_number, "version": 1},
        "reason": "fall at home",
        "needs": list(needs),
        "received_at": received_at.isoformat(),
        "due_at": due_at.isoformat() if due_at else None,
        "responded_at": responded_at.isoformat() if responded_at else None,
        "staff": [{"id": n, "name": s, "team": "CRT"} for n, s in enumerate(staff)],
        "visits": [],
    }


class FakeReplica:
    """Yields whatever the test pushes; `data` follows the pushed events like a replica."""

    def __init__(self) -> None:
        self.data: dict[str, dict[str, Any]] = {}
        self.sequence = 0
        self.closed = False
        self._queue: asyncio.Queue[ReplicaEvent | Exception | None] = asyncio.Queue()

    async def events(self) -> AsyncIterator[ReplicaEvent]:
        while (event := await self._queue.get()) is not None:
            if isinstance(event, Exception):
                raise event
            yield event

    def snapshot(self, data: dict[str, dict[str, Any]]) -> None:
        self.data = dict(data)
        self.sequence += 1
        self._queue.put_nowait(SnapshotApplied(self.sequence, len(data)))

    def change(self, key: str, body: dict[str, Any] | None) -> None:
        self.sequence += 1
        if body is None:
            self.data.pop(key, None)
        else:
            self.data[key] = body
        self._queue.put_nowait(KeyChanged(key, self.sequence, body))

    def resync(self, reason: str) -> None:
        self._queue.put_nowait(Resyncing(reason))

    def fail(self, error: Exception) -> None:
        self._queue.put_nowait(error)

    def end(self) -> None:
        self._queue.put_nowait(None)

    async def close(self) -> None:
        self.closed = True
        self._queue.put_nowait(None)


class FakeCommands:
    def __init__(self) -> None:
        self.closed = False
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def call(self, command: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        self.calls.append((command, args or {}))
        return {}

    async def close(self) -> None:
        self.closed = True


def screen_text(app: Any) -> str:
    """The current screen as plain text, line by line: what the user reads."""
    console = Console(
        width=app.size.width,
        height=app.size.height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text(styles=False)
