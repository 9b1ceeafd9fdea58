"""Constants of the wire protocol and the helpers that build and split keys.

The state stream follows ZeroMQ RFC 12/CHP (the Clustered Hashmap Protocol). From a base
port P: P is the snapshot ROUTER, P+1 the updates PUB, P+2 the presence collector SUB, and
P+3 the command ROUTER (a request/reply channel of our own, outside CHP).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_PORT = 5570

ICANHAZ = b"ICANHAZ?"
KTHXBAI = "KTHXBAI"
HUGZ = "HUGZ"
SPECIAL_KEYS = frozenset({KTHXBAI, HUGZ})

REFERRAL = "/referral/"
VISIT = "/visit/"
STAFF = "/staff/"
ALERT = "/alert/"
DESK = "/desk/"
HANDOVER = "/handover/"
SUBTREES = (REFERRAL, VISIT, STAFF, ALERT, DESK, HANDOVER)
CURRENT_HANDOVER = f"{HANDOVER}current"
"""The key of the latest shift handover the hub built."""

HEARTBEAT_INTERVAL = 1.0
"""Seconds without a publication after which the hub sends HUGZ."""
SILENCE_TIMEOUT = 3.0
"""Seconds without any update or HUGZ after which a desk resyncs."""
PRESENCE_TTL = 10.0
"""Lifetime of a desk's presence key; the desk refreshes it every third of that."""
RETRY_INTERVAL = 1.0
"""Pause between two snapshot attempts while the hub does not answer."""

MAX_KEY_BYTES = 255
MAX_BODY_BYTES = 1024 * 1024
MAX_FRAME_BYTES = MAX_BODY_BYTES + 4096
"""Inbound size limit set on every receiving socket (ZMQ_MAXMSGSIZE): a larger frame drops
the connection instead of filling memory."""

ID_PATTERN = re.compile(r"[A-Za-z0-9_.-]+")


class FrameError(ValueError):
    """A frame, key or payload that breaks the wire protocol. The message says why."""


@dataclass(frozen=True)
class Ports:
    """The four ports derived from a base port."""

    snapshot: int
    updates: int
    collector: int
    commands: int

    @classmethod
    def from_base(cls, port: int) -> Ports:
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65532:
            raise ValueError(f"base port must be an integer from 1 to 65532, not {port!r}")
        return cls(port, port + 1, port + 2, port + 3)


def snapshot_port(port: int) -> int:
    return Ports.from_base(port).snapshot


def updates_port(port: int) -> int:
    return Ports.from_base(port).updates


def collector_port(port: int) -> int:
    return Ports.from_base(port).collector


def commands_port(port: int) -> int:
    return Ports.from_base(port).commands


def _make_key(subtree: str, ident: int | str) -> str:
    if isinstance(ident, bool) or not isinstance(ident, int | str):
        raise FrameError(f"a key id must be an int or a str, not {type(ident).__name__}")
    key = f"{subtree}{ident}"
    split_key(key)
    return key


def referral_key(referral_id: int) -> str:
    return _make_key(REFERRAL, referral_id)


def visit_key(visit_id: int) -> str:
    return _make_key(VISIT, visit_id)


def staff_key(staff_id: int) -> str:
    return _make_key(STAFF, staff_id)


def alert_key(alert_id: int) -> str:
    return _make_key(ALERT, alert_id)


def handover_key(handover_id: int | str) -> str:
    return _make_key(HANDOVER, handover_id)


def desk_key(desk_id: str) -> str:
    return _make_key(DESK, desk_id)


def split_key(key: str) -> tuple[str, str]:
    """Split "/referral/12" into ("/referral/", "12"); FrameError for anything else."""
    if not isinstance(key, str):
        raise FrameError(f"a key must be a str, not {type(key).__name__}")
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise FrameError(f"key is longer than {MAX_KEY_BYTES} bytes")
    for subtree in SUBTREES:
        if key.startswith(subtree):
            ident = key[len(subtree) :]
            if not ID_PATTERN.fullmatch(ident):
                raise FrameError(f"key {key[:60]!r} needs an id of letters, digits, _ . or -")
            return subtree, ident
    raise FrameError(f"key {key[:60]!r} is in no known subtree")


def check_subtree(subtree: str) -> str:
    """Return a valid subscription prefix: "" (everything) or one starting with a subtree."""
    if not isinstance(subtree, str):
        raise FrameError(f"a subtree must be a str, not {type(subtree).__name__}")
    if len(subtree.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise FrameError(f"subtree is longer than {MAX_KEY_BYTES} bytes")
    if subtree and not subtree.startswith(SUBTREES):
        raise FrameError(f"subtree {subtree[:60]!r} is not one of {', '.join(SUBTREES)}")
    return subtree


def parse_icanhaz(frames: list[bytes]) -> tuple[bytes, str]:
    """Read a snapshot request as the ROUTER sees it: [identity, ICANHAZ?, subtree]."""
    if len(frames) != 3:
        raise FrameError(f"expected [identity, ICANHAZ?, subtree], got {len(frames)} frames")
    identity, request, subtree = frames
    if request != ICANHAZ:
        raise FrameError(f"unknown request {bytes(request[:20])!r}")
    try:
        text = bytes(subtree).decode("utf-8")
    except UnicodeDecodeError:
        raise FrameError("subtree is not UTF-8") from None
    return identity, check_subtree(text)
