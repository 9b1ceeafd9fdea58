"""The hub's table of desks online: each entry lives for its ttl unless refreshed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from messaging.kvmsg import KVMsg
from messaging.protocol import DESK, FrameError, split_key


def parse_presence(frames: list[bytes]) -> tuple[str, dict[str, Any] | None, float]:
    """Read a desk's KVSET on the collector: (desk id, body or None for goodbye, ttl).

    Only a /desk/<id> key is accepted, with a JSON object body and a positive ttl, or an
    empty body (goodbye) for which the ttl is optional; anything else raises FrameError.
    """
    msg = KVMsg.from_frames(frames)
    subtree, desk_id = ("", "") if msg.is_special else split_key(msg.key)
    if subtree != DESK:
        raise FrameError(f"desks may only set their /desk/ key, not {msg.key[:60]!r}")
    ttl = msg.ttl
    body = msg.json()
    if ttl is None:
        if body is not None:
            raise FrameError(f"presence of desk {desk_id} has no ttl")
        ttl = 0.0  # a goodbye needs none
    return desk_id, body, ttl


@dataclass
class _Entry:
    body: dict[str, Any]
    expires: float


class PresenceTable:
    """Pure bookkeeping (no I/O): the caller passes the clock."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    def __contains__(self, desk_id: object) -> bool:
        return desk_id in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def body(self, desk_id: str) -> dict[str, Any] | None:
        entry = self._entries.get(desk_id)
        return entry.body if entry else None

    def refresh(self, desk_id: str, body: dict[str, Any], ttl: float, now: float) -> bool:
        """Record a desk's presence; True when it is new or its body changed."""
        entry = self._entries.get(desk_id)
        if entry is None or entry.body != body:
            self._entries[desk_id] = _Entry(body, now + ttl)
            return True
        entry.expires = now + ttl
        return False

    def remove(self, desk_id: str) -> bool:
        """Forget a desk; True when it was online."""
        return self._entries.pop(desk_id, None) is not None

    def expire(self, now: float) -> list[str]:
        """Forget and return the desks whose ttl has lapsed."""
        gone = [desk_id for desk_id, entry in self._entries.items() if entry.expires <= now]
        for desk_id in gone:
            del self._entries[desk_id]
        return gone

    def next_expiry(self) -> float | None:
        return min((entry.expires for entry in self._entries.values()), default=None)

    def clear(self) -> None:
        self._entries.clear()
