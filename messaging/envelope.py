"""The command channel's two payloads: a command envelope and its reply (one frame each).

A desk's DEALER sends one JSON object
    {"id": "<uuid4 hex>", "command": "<name>", "actor": <staff id>, "desk": "<desk id>",
     "args": {...}}
and the hub's ROUTER answers with one JSON object, either
    {"id": ..., "ok": true, "result": {...}, "sequence": <int or null>}
or  {"id": ..., "ok": false, "error": {"code": "...", "message": "...", "field": null}}.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from messaging.protocol import ID_PATTERN, MAX_BODY_BYTES, FrameError

__all__ = ["CommandEnvelope", "Reply"]

_ID = re.compile(r"[0-9a-f]{32}")
_COMMAND = re.compile(r"[a-z_]{1,64}")
_MAX_DESK_CHARS = 64
_ENVELOPE_FIELDS = frozenset({"id", "command", "actor", "desk", "args"})
_SUCCESS_FIELDS = frozenset({"id", "ok", "result", "sequence"})
INTERNAL_MESSAGE = "The hub could not process this command; the hub log has the details."
_FAILURE_FIELDS = frozenset({"id", "ok", "error"})
_ERROR_FIELDS = frozenset({"code", "message", "field"})


def _dumps(value: Mapping[str, Any]) -> bytes:
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise FrameError(f"payload is not JSON-ready: {exc}") from None
    return text.encode("utf-8")


def _loads_object(data: bytes, what: str) -> dict[str, Any]:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise FrameError(f"{what} must be bytes")
    if len(data) > MAX_BODY_BYTES:
        raise FrameError(f"{what} is larger than {MAX_BODY_BYTES} bytes")
    try:
        value = json.loads(bytes(data).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise FrameError(f"{what} is not valid UTF-8 JSON") from None
    except RecursionError:
        raise FrameError(f"{what} is JSON nested too deep") from None
    if not isinstance(value, dict):
        raise FrameError(f"{what} is JSON {type(value).__name__}, not an object")
    return value


def _check_fields(obj: Mapping[str, Any], expected: frozenset[str], what: str) -> None:
    missing = sorted(expected - obj.keys())
    if missing:
        raise FrameError(f"{what} lacks {', '.join(missing)}")
    unknown = sorted(obj.keys() - expected)
    if unknown:
        raise FrameError(f"{what} has unknown field {', '.join(unknown)[:80]}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_id(value: object) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise FrameError("id must be 32 lowercase hex characters (a uuid4 hex)")
    return value


def check_desk(value: object) -> str:
    if (
        not isinstance(value, str)
        or len(value) > _MAX_DESK_CHARS
        or not ID_PATTERN.fullmatch(value)
    ):
        raise FrameError(f"desk must be 1 to {_MAX_DESK_CHARS} letters, digits, _ . or -")
    return value


def readable_id(data: bytes) -> str | None:
    """The id of a payload that failed validation, if it can be read at all."""
    try:
        value = json.loads(bytes(data).decode("utf-8"))
        return check_id(value.get("id")) if isinstance(value, dict) else None
    except (UnicodeDecodeError, ValueError, TypeError, RecursionError):
        return None


@dataclass(frozen=True)
class CommandEnvelope:
    """A command as sent by a desk. Construction validates every field (FrameError)."""

    id: str
    command: str
    actor: int
    desk: str
    args: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_id(self.id)
        if not isinstance(self.command, str) or not _COMMAND.fullmatch(self.command):
            raise FrameError("command must be 1 to 64 characters of a-z and _")
        if not _is_int(self.actor) or self.actor < 0:
            raise FrameError("actor must be a staff id (a non-negative integer)")
        check_desk(self.desk)
        if not isinstance(self.args, dict):
            raise FrameError("args must be a JSON object")

    @classmethod
    def new(
        cls, command: str, args: Mapping[str, Any] | None = None, *, actor: int, desk: str
    ) -> CommandEnvelope:
        return cls(uuid.uuid4().hex, command, actor, desk, dict(args or {}))

    def to_bytes(self) -> bytes:
        return _dumps(
            {
                "id": self.id,
                "command": self.command,
                "actor": self.actor,
                "desk": self.desk,
                "args": self.args,
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> CommandEnvelope:
        obj = _loads_object(data, "command")
        _check_fields(obj, _ENVELOPE_FIELDS, "command")
        return cls(obj["id"], obj["command"], obj["actor"], obj["desk"], obj["args"])


@dataclass(frozen=True)
class Reply:
    """The hub's answer to one command."""

    id: str | None
    ok: bool
    result: dict[str, Any] | None = None
    sequence: int | None = None
    error_code: str | None = None
    message: str | None = None
    field: str | None = None

    def __post_init__(self) -> None:
        if self.id is not None:
            check_id(self.id)
        if not isinstance(self.ok, bool):
            raise FrameError("ok must be true or false")
        if self.ok:
            if not isinstance(self.result, dict):
                raise FrameError("a successful reply needs a result object")
            if self.sequence is not None and (not _is_int(self.sequence) or self.sequence < 0):
                raise FrameError("sequence must be a non-negative integer or null")
            if self.error_code is not None or self.message is not None or self.field is not None:
                raise FrameError("a successful reply carries no error")
        else:
            if not isinstance(self.error_code, str) or not self.error_code:
                raise FrameError("a failed reply needs an error code")
            if not isinstance(self.message, str):
                raise FrameError("a failed reply needs a message")
            if self.field is not None and not isinstance(self.field, str):
                raise FrameError("error field must be a string or null")
            if self.result is not None or self.sequence is not None:
                raise FrameError("a failed reply carries no result or sequence")

    @classmethod
    def success(
        cls, id: str | None, result: Mapping[str, Any] | None = None, sequence: int | None = None
    ) -> Reply:
        return cls(id, True, dict(result or {}), sequence)

    @classmethod
    def failure(cls, id: str | None, code: str, message: str, field: str | None = None) -> Reply:
        return cls(id, False, error_code=code, message=message, field=field)

    @classmethod
    def internal(cls, id: str | None) -> Reply:
        """The hub failed (a bug, a lost database): the details are in the hub's log."""
        return cls.failure(id, "internal", INTERNAL_MESSAGE)

    def to_bytes(self) -> bytes:
        if self.ok:
            return _dumps(
                {"id": self.id, "ok": True, "result": self.result, "sequence": self.sequence}
            )
        error = {"code": self.error_code, "message": self.message, "field": self.field}
        return _dumps({"id": self.id, "ok": False, "error": error})

    @classmethod
    def from_bytes(cls, data: bytes) -> Reply:
        obj = _loads_object(data, "reply")
        ok = obj.get("ok")
        if not isinstance(ok, bool):
            raise FrameError("reply needs ok: true or false")
        if ok:
            _check_fields(obj, _SUCCESS_FIELDS, "reply")
            return cls(obj["id"], True, obj["result"], obj["sequence"])
        _check_fields(obj, _FAILURE_FIELDS, "reply")
        error = obj["error"]
        if not isinstance(error, dict):
            raise FrameError("reply error must be an object")
        _check_fields(error, _ERROR_FIELDS, "reply error")
        return cls(obj["id"], False, None, None, error["code"], error["message"], error["field"])
