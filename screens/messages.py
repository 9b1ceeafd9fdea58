"""Facts the hub listener posts to the desk, in the past tense.

`message_for` turns each event the replica yields into one of these; the App applies them
inside `batch_update()`. A burst of changes to one key coalesces: only the last counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message

from messaging.replica_events import HubReached, KeyChanged, Resyncing, SnapshotApplied


@dataclass
class HubSnapshotApplied(Message):
    """The replica now holds a fresh snapshot taken at `sequence`: reread all of it."""

    sequence: int
    count: int


@dataclass
class HubKeyChanged(Message):
    """One key changed; `body` is None when the key was deleted."""

    key: str
    body: dict[str, Any] | None

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, HubKeyChanged) and message.key == self.key


@dataclass
class HubResyncing(Message):
    """The replica stopped trusting its data and is taking a fresh snapshot."""

    reason: str


@dataclass
class HubReachedAgain(Message):
    """The hub answered again after going quiet."""


@dataclass
class HubLost(Message):
    """The listener stopped: the desk no longer hears the hub."""

    reason: str


def message_for(event: object) -> Message | None:
    """The message for one replica event, or None for an event the desk does not show."""
    match event:
        case SnapshotApplied(sequence=sequence, count=count):
            return HubSnapshotApplied(sequence, count)
        case KeyChanged(key=key, body=body):
            return HubKeyChanged(key, body)
        case Resyncing(reason=reason):
            return HubResyncing(reason)
        case HubReached():
            return HubReachedAgain()
    return None
