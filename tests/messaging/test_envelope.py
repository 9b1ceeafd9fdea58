"""The command channel's envelope and reply."""

from __future__ import annotations

import json
import re

import pytest

from messaging.envelope import CommandEnvelope, Reply, readable_id
from messaging.protocol import FrameError

ID = "0123456789abcdef0123456789abcdef"


def test_new_envelope_round_trip() -> None:
    env = CommandEnvelope.new("create_referral", {"name": "Zoë"}, actor=7, desk="desk-1")
    assert re.fullmatch(r"[0-9a-f]{32}", env.id)
    data = env.to_bytes()
    assert json.loads(data) == {
        "id": env.id,
        "command": "create_referral",
        "actor": 7,
        "desk": "desk-1",
        "args": {"name": "Zoë"},
    }
    assert "Zoë".encode() in data
    assert CommandEnvelope.from_bytes(data) == env
    assert CommandEnvelope.new("x", None, actor=1, desk="d").args == {}
    assert (
        CommandEnvelope.new("x", actor=1, desk="d").id
        != CommandEnvelope.new("x", actor=1, desk="d").id
    )


def _payload(**changes: object) -> bytes:
    obj: dict = {"id": ID, "command": "assign_visit", "actor": 3, "desk": "desk-1", "args": {}}
    for name, value in changes.items():
        if value is ...:
            del obj[name]
        else:
            obj[name] = value
    return json.dumps(obj).encode()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not json", "not valid"),
        (b"\xff\xfe", "not valid"),
        (b"[1, 2]", "not an object"),
        (b"", "not valid"),
        (_payload(id=...), "lacks id"),
        (_payload(args=...), "lacks args"),
        (_payload(extra=1), "unknown field extra"),
        (_payload(id="abc"), "32 lowercase hex"),
        (_payload(id=ID.upper()), "32 lowercase hex"),
        (_payload(id=7), "32 lowercase hex"),
        (_payload(command="Assign"), "command"),
        (_payload(command=""), "command"),
        (_payload(command="a" * 65), "command"),
        (_payload(command=5), "command"),
        (_payload(actor="3"), "actor"),
        (_payload(actor=True), "actor"),
        (_payload(actor=-1), "actor"),
        (_payload(actor=3.0), "actor"),
        (_payload(desk=""), "desk"),
        (_payload(desk="a b"), "desk"),
        (_payload(desk=None), "desk"),
        (_payload(args=[]), "args"),
        (b"{" + b" " * (1024 * 1024) + b"}", "larger than"),
    ],
)
def test_envelope_rejects(data: bytes, reason: str) -> None:
    with pytest.raises(FrameError, match=reason):
        CommandEnvelope.from_bytes(data)


def test_envelope_args_must_be_json_ready() -> None:
    env = CommandEnvelope.new("x", {"when": object()}, actor=1, desk="d")
    with pytest.raises(FrameError, match="JSON-ready"):
        env.to_bytes()


def test_reply_round_trips() -> None:
    ok = Reply.success(ID, {"referral": 4}, 41)
    assert json.loads(ok.to_bytes()) == {
        "id": ID,
        "ok": True,
        "result": {"referral": 4},
        "sequence": 41,
    }
    assert Reply.from_bytes(ok.to_bytes()) == ok
    bare = Reply.success(ID)
    assert Reply.from_bytes(bare.to_bytes()) == Reply(ID, True, {}, None)
    refused = Reply.failure(ID, "validation", "Postcode is not valid.", "postcode")
    assert json.loads(refused.to_bytes()) == {
        "id": ID,
        "ok": False,
        "error": {"code": "validation", "message": "Postcode is not valid.", "field": "postcode"},
    }
    assert Reply.from_bytes(refused.to_bytes()) == refused
    anonymous = Reply.failure(None, "bad_request", "expected 1 frame")
    assert Reply.from_bytes(anonymous.to_bytes()) == anonymous


@pytest.mark.parametrize(
    "obj",
    [
        {"id": ID, "ok": True, "result": {}},
        {"id": ID, "ok": True, "result": [], "sequence": None},
        {"id": ID, "ok": True, "result": {}, "sequence": "4"},
        {"id": ID, "ok": True, "result": {}, "sequence": -1},
        {"id": ID, "ok": "yes", "result": {}, "sequence": 1},
        {"id": "x", "ok": True, "result": {}, "sequence": 1},
        {"id": ID, "ok": False},
        {"id": ID, "ok": False, "error": "bad"},
        {"id": ID, "ok": False, "error": {"code": "", "message": "m", "field": None}},
        {"id": ID, "ok": False, "error": {"code": "c", "message": 1, "field": None}},
        {"id": ID, "ok": False, "error": {"code": "c", "message": "m"}},
        {"id": ID, "ok": False, "error": {"code": "c", "message": "m", "field": 3}},
        {
            "id": ID,
            "ok": False,
            "error": {"code": "c", "message": "m", "field": None},
            "result": {},
        },
    ],
)
def test_reply_rejects(obj: dict) -> None:
    with pytest.raises(FrameError):
        Reply.from_bytes(json.dumps(obj).encode())


def test_readable_id() -> None:
    assert readable_id(_payload(command="BAD")) == ID
    assert readable_id(_payload(id="short")) is None
    assert readable_id(b"junk") is None
    assert readable_id(b"[]") is None
