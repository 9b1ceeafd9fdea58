"""What a desk's replica reports: its state and the facts it yields (past tense)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ReplicaState(StrEnum):
    INITIAL = "initial"
    SYNCING = "syncing"
    ACTIVE = "active"
    RESYNCING = "resyncing"
    STOPPED = "stopped"


@dataclass(frozen=True)
class SnapshotApplied:
    """The replica's data was replaced by a snapshot taken at `sequence`; reread it all."""

    sequence: int
    count: int


@dataclass(frozen=True)
class KeyChanged:
    """One key changed at `sequence`; `body` is None when the key was deleted."""

    key: str
    sequence: int
    body: dict[str, Any] | None


@dataclass(frozen=True)
class Resyncing:
    """The replica stopped trusting its data and is taking a fresh snapshot."""

    reason: str


@dataclass(frozen=True)
class HubReached:
    """The hub answered again after it went silent or could not be reached."""


ReplicaEvent = SnapshotApplied | KeyChanged | Resyncing | HubReached
