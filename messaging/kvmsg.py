"""One class owns the frame format of the state stream (the ZeroMQ guide's kvmsg).

A message is five frames: [key, sequence, uuid, properties, body]. The key is UTF-8; the
sequence is 8 bytes, big-endian, unsigned; the uuid is empty or 16 bytes; properties are
"name=value" lines in UTF-8; the body is JSON (an object) or empty, which deletes the key.
"""

from __future__ import annotations

import json
import math
import re
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from messaging.protocol import (
    HUGZ,
    ID_PATTERN,
    KTHXBAI,
    MAX_BODY_BYTES,
    MAX_KEY_BYTES,
    SPECIAL_KEYS,
    SUBTREES,
    FrameError,
    split_key,
)

__all__ = ["FrameError", "KVMsg"]

_SEQUENCE = struct.Struct(">Q")
_MAX_SEQUENCE = 2**64 - 1
_PROPERTY_NAME = re.compile(r"[A-Za-z0-9_-]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_FRAME_TYPES = (bytes, bytearray, memoryview)
_PLAIN_KEY = re.compile(f"(?:{'|'.join(map(re.escape, SUBTREES))}){ID_PATTERN.pattern}")
"""A key `split_key` accepts (subtree, then an id), once its length is known to be fine."""


def _check_key(key: object) -> None:
    if not isinstance(key, str):
        raise FrameError(f"key must be a str, not {type(key).__name__}")
    if not key:
        raise FrameError("key is empty")
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise FrameError(f"key is longer than {MAX_KEY_BYTES} bytes")
    if key not in SPECIAL_KEYS:
        split_key(key)


def _check_properties(properties: object) -> dict[str, str]:
    if not isinstance(properties, Mapping):
        raise FrameError(f"properties must be a mapping, not {type(properties).__name__}")
    checked: dict[str, str] = {}
    for name, value in properties.items():
        if not isinstance(name, str) or not _PROPERTY_NAME.fullmatch(name):
            raise FrameError(f"property name {name!r} is not letters, digits, _ or -")
        if not isinstance(value, str) or _CONTROL.search(value):
            raise FrameError(f"property {name} must be a str without control characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise FrameError(f"property {name} is not encodable as UTF-8") from None
        checked[name] = value
    return checked


def _parse_properties(frame: bytes) -> dict[str, str]:
    try:
        text = frame.decode("utf-8")
    except UnicodeDecodeError:
        raise FrameError("properties frame is not UTF-8") from None
    if not text:
        return {}
    lines = text.removesuffix("\n").split("\n")
    properties: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        name, sep, value = line.partition("=")
        if not sep or not _PROPERTY_NAME.fullmatch(name):
            raise FrameError(f"property line {number} is not name=value")
        if name in properties:
            raise FrameError(f"property {name} appears twice")
        properties[name] = value
    return properties


@dataclass(frozen=True)
class KVMsg:
    """One key/value message. Construction validates every field (FrameError)."""

    key: str
    sequence: int
    uuid: bytes = b""
    properties: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def __post_init__(self) -> None:
        _check_key(self.key)
        seq = self.sequence
        if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq <= _MAX_SEQUENCE:
            raise FrameError(f"sequence must be an integer from 0 to 2**64-1, not {seq!r}")
        if not isinstance(self.uuid, bytes) or len(self.uuid) not in (0, 16):
            raise FrameError("uuid must be empty or 16 bytes")
        object.__setattr__(self, "properties", _check_properties(self.properties))
        if not isinstance(self.body, bytes):
            raise FrameError(f"body must be bytes, not {type(self.body).__name__}")
        if len(self.body) > MAX_BODY_BYTES:
            raise FrameError(f"body is larger than {MAX_BODY_BYTES} bytes")

    # -- wire ---------------------------------------------------------------------------

    def to_frames(self) -> list[bytes]:
        props = "".join(f"{name}={value}\n" for name, value in self.properties.items())
        return [
            self.key.encode("utf-8"),
            _SEQUENCE.pack(self.sequence),
            self.uuid,
            props.encode("utf-8"),
            self.body,
        ]

    @classmethod
    def from_frames(cls, frames: Sequence[bytes]) -> KVMsg:
        """Parse and strictly validate five frames; FrameError says what is wrong."""
        if type(frames) is list and len(frames) == 5 and all(type(f) is bytes for f in frames):
            key_frame, seq_frame, uuid, props, body = frames  # as recv_multipart gives them
        else:
            if not isinstance(frames, Sequence) or isinstance(frames, _FRAME_TYPES + (str,)):
                raise FrameError("frames must be a list of bytes")
            if len(frames) != 5:
                raise FrameError(f"expected 5 frames, got {len(frames)}")
            if not all(isinstance(frame, _FRAME_TYPES) for frame in frames):
                raise FrameError("every frame must be bytes")
            key_frame, seq_frame, uuid, props, body = (bytes(frame) for frame in frames)
        if not 1 <= len(key_frame) <= MAX_KEY_BYTES:
            raise FrameError(f"key frame must be 1 to {MAX_KEY_BYTES} bytes")
        try:
            key = key_frame.decode("utf-8")
        except UnicodeDecodeError:
            raise FrameError("key is not UTF-8") from None
        if len(seq_frame) != _SEQUENCE.size:
            raise FrameError(f"sequence frame must be 8 bytes, got {len(seq_frame)}")
        if len(body) > MAX_BODY_BYTES:
            raise FrameError(f"body is larger than {MAX_BODY_BYTES} bytes")
        (sequence,) = _SEQUENCE.unpack(seq_frame)
        if (
            not props
            and len(uuid) in (0, 16)
            and (key in SPECIAL_KEYS or _PLAIN_KEY.fullmatch(key))
        ):
            return cls._checked(key, sequence, uuid, body)
        return cls(key, sequence, uuid, _parse_properties(props), body)

    @classmethod
    def _checked(cls, key: str, sequence: int, uuid: bytes, body: bytes) -> KVMsg:
        """The usual message (a known subtree's key, no properties), its fields already
        checked by `from_frames`: __post_init__ would check them all again, and a snapshot
        is 2,000+ messages."""
        msg = object.__new__(cls)
        fields = {"key": key, "sequence": sequence, "uuid": uuid, "properties": {}, "body": body}
        msg.__dict__.update(fields)  # frozen: no __setattr__, but the fields are its __dict__
        return msg

    # -- JSON bodies --------------------------------------------------------------------

    @classmethod
    def from_json(
        cls,
        key: str,
        sequence: int,
        body: Mapping[str, Any] | None,
        *,
        properties: Mapping[str, str] | None = None,
        uuid: bytes = b"",
    ) -> KVMsg:
        """Build a message from JSON-ready data; a body of None deletes the key."""
        if body is None:
            raw = b""
        elif not isinstance(body, Mapping):
            raise FrameError(f"body must be a mapping or None, not {type(body).__name__}")
        else:
            try:
                text = json.dumps(
                    dict(body), separators=(",", ":"), ensure_ascii=False, allow_nan=False
                )
            except (TypeError, ValueError) as exc:
                raise FrameError(f"body is not JSON-ready: {exc}") from None
            raw = text.encode("utf-8")
        return cls(key, sequence, uuid, dict(properties or {}), raw)

    def json(self) -> dict[str, Any] | None:
        """The body as a JSON object; None when the body is empty (a delete)."""
        if not self.body:
            return None
        try:
            value = json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise FrameError("body is not valid UTF-8 JSON") from None
        except RecursionError:
            raise FrameError("body is JSON nested too deep") from None
        if not isinstance(value, dict):
            raise FrameError(f"body is JSON {type(value).__name__}, not an object")
        return value

    # -- properties ---------------------------------------------------------------------

    @property
    def is_delete(self) -> bool:
        return not self.body

    @property
    def is_special(self) -> bool:
        return self.key in SPECIAL_KEYS

    @property
    def ttl(self) -> float | None:
        """The "ttl" property in seconds, None when absent; FrameError unless positive."""
        raw = self.properties.get("ttl")
        if raw is None:
            return None
        try:
            value = float(raw)
        except ValueError:
            raise FrameError(f"ttl {raw[:20]!r} is not a number") from None
        if not math.isfinite(value) or value <= 0:
            raise FrameError(f"ttl {raw[:20]!r} is not a positive number")
        return value

    @classmethod
    def hugz(cls, sequence: int) -> KVMsg:
        return cls(HUGZ, sequence)

    @classmethod
    def kthxbai(cls, sequence: int, subtree: str) -> KVMsg:
        return cls(KTHXBAI, sequence, body=subtree.encode("utf-8"))
