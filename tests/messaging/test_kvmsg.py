"""The frame format: round trips and the rejection of every malformed shape."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from messaging.kvmsg import FrameError, KVMsg
from messaging.protocol import HUGZ, KTHXBAI, MAX_BODY_BYTES, SUBTREES

SEQ = struct.pack(">Q", 5)
UUID = bytes(range(16))


def test_frames_layout() -> None:
    msg = KVMsg("/referral/12", 41, UUID, {"ttl": "10", "by": "desk-1"}, b'{"a":1}')
    assert msg.to_frames() == [
        b"/referral/12",
        b"\x00\x00\x00\x00\x00\x00\x00\x29",
        UUID,
        b"ttl=10\nby=desk-1\n",
        b'{"a":1}',
    ]
    assert KVMsg.from_frames(msg.to_frames()) == msg


def test_special_keys_round_trip() -> None:
    for msg in (KVMsg.hugz(7), KVMsg.kthxbai(7, "/visit/"), KVMsg.kthxbai(0, "")):
        assert KVMsg.from_frames(msg.to_frames()) == msg
        assert msg.is_special
    assert KVMsg.kthxbai(3, "/visit/").to_frames() == [
        b"KTHXBAI",
        struct.pack(">Q", 3),
        b"",
        b"",
        b"/visit/",
    ]
    assert KVMsg.hugz(3).to_frames() == [b"HUGZ", struct.pack(">Q", 3), b"", b"", b""]


def test_properties_without_final_newline_are_accepted() -> None:
    msg = KVMsg.from_frames([b"/desk/a", SEQ, b"", b"ttl=10", b"{}"])
    assert msg.properties == {"ttl": "10"}
    assert msg.ttl == 10.0


def test_property_value_may_hold_equals_sign() -> None:
    msg = KVMsg.from_frames([b"/desk/a", SEQ, b"", b"note=a=b\n", b""])
    assert msg.properties == {"note": "a=b"}


def test_json_helpers() -> None:
    msg = KVMsg.from_json("/staff/3", 9, {"name": "Zoë", "shift": [1, 2]})
    assert msg.body == '{"name":"Zoë","shift":[1,2]}'.encode()
    assert msg.json() == {"name": "Zoë", "shift": [1, 2]}
    assert not msg.is_delete
    gone = KVMsg.from_json("/staff/3", 10, None)
    assert gone.body == b""
    assert gone.is_delete
    assert gone.json() is None
    assert KVMsg.from_json("/staff/3", 10, {}).body == b"{}"


def test_from_json_refuses_data_that_is_not_json_ready() -> None:
    with pytest.raises(FrameError, match="JSON-ready"):
        KVMsg.from_json("/staff/3", 1, {"when": object()})
    with pytest.raises(FrameError, match="JSON-ready"):
        KVMsg.from_json("/staff/3", 1, {"x": float("nan")})
    with pytest.raises(FrameError, match="mapping"):
        KVMsg.from_json("/staff/3", 1, [1, 2])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[1]", "not an object"),
        (b"{", "not valid"),
        (b"\xff", "not valid"),
        (b'"x"', "not an object"),
    ],
)
def test_json_rejects_bodies_that_are_not_objects(body: bytes, reason: str) -> None:
    with pytest.raises(FrameError, match=reason):
        KVMsg("/alert/1", 1, body=body).json()


@pytest.mark.parametrize("raw", ["0", "-1", "nan", "inf", "abc", ""])
def test_bad_ttl(raw: str) -> None:
    with pytest.raises(FrameError, match="ttl"):
        _ = KVMsg("/desk/a", 0, properties={"ttl": raw}).ttl


def test_ttl_absent_or_fractional() -> None:
    assert KVMsg("/desk/a", 0).ttl is None
    assert KVMsg("/desk/a", 0, properties={"ttl": "0.25"}).ttl == 0.25


GOOD = [b"/referral/12", SEQ, b"", b"", b"{}"]


def _with(index: int, frame: object) -> list:
    frames = list(GOOD)
    frames[index] = frame
    return frames


@pytest.mark.parametrize(
    ("frames", "reason"),
    [
        (GOOD[:4], "expected 5 frames"),
        ([*GOOD, b""], "expected 5 frames"),
        ([], "expected 5 frames"),
        (b"/referral/12", "list of bytes"),
        (_with(4, "text"), "must be bytes"),
        (_with(0, b""), "1 to 255"),
        (_with(0, b"/referral/" + b"1" * 250), "1 to 255"),
        (_with(0, b"/referral/\xff"), "not UTF-8"),
        (_with(0, b"/nope/1"), "no known subtree"),
        (_with(0, b"referral/1"), "no known subtree"),
        (_with(0, b"/referral/"), "needs an id"),
        (_with(0, b"/referral/1 2"), "needs an id"),
        (_with(0, b"/referral/a/b"), "needs an id"),
        (_with(0, b"ICANHAZ?"), "no known subtree"),
        (_with(1, b"\x00" * 7), "8 bytes"),
        (_with(1, b"\x00" * 9), "8 bytes"),
        (_with(1, b""), "8 bytes"),
        (_with(2, b"\x01" * 5), "uuid"),
        (_with(2, b"\x01" * 17), "uuid"),
        (_with(3, b"\xff=1"), "not UTF-8"),
        (_with(3, b"ttl"), "not name=value"),
        (_with(3, b"=1"), "not name=value"),
        (_with(3, b"t t=1"), "not name=value"),
        (_with(3, b"ttl=1\n\n"), "not name=value"),
        (_with(3, b"ttl=1\nttl=2"), "twice"),
        (_with(3, b"note=a\rb"), "control"),
        (_with(3, b"note=\x1b[31m"), "control"),
        (_with(4, b"x" * (MAX_BODY_BYTES + 1)), "larger than"),
    ],
)
def test_from_frames_rejects(frames: list, reason: str) -> None:
    with pytest.raises(FrameError, match=reason):
        KVMsg.from_frames(frames)


def test_body_of_exactly_the_limit_is_accepted() -> None:
    msg = KVMsg.from_frames(_with(4, b"x" * MAX_BODY_BYTES))
    assert len(msg.body) == MAX_BODY_BYTES


@pytest.mark.parametrize(
    "kwargs",
    [
        {"key": "", "sequence": 1},
        {"key": "/referral/1", "sequence": -1},
        {"key": "/referral/1", "sequence": 2**64},
        {"key": "/referral/1", "sequence": True},
        {"key": "/referral/1", "sequence": 1, "uuid": b"x"},
        {"key": "/referral/1", "sequence": 1, "properties": {"bad name": "x"}},
        {"key": "/referral/1", "sequence": 1, "properties": {"n": "a\nb"}},
        {"key": "/referral/1", "sequence": 1, "properties": {"n": 3}},
        {"key": "/referral/1", "sequence": 1, "body": "text"},
    ],
)
def test_constructor_validates(kwargs: dict) -> None:
    with pytest.raises(FrameError):
        KVMsg(**kwargs)


def test_frame_error_is_a_value_error() -> None:
    assert issubclass(FrameError, ValueError)


keys = st.one_of(
    st.sampled_from([HUGZ, KTHXBAI]),
    st.builds(
        lambda subtree, ident: subtree + ident,
        st.sampled_from(SUBTREES),
        st.from_regex(r"[A-Za-z0-9_.-]{1,60}", fullmatch=True),
    ),
)
properties = st.dictionaries(
    st.from_regex(r"[A-Za-z0-9_-]{1,20}", fullmatch=True),
    st.text(
        alphabet=st.characters(min_codepoint=0x20, blacklist_categories=("Cs",)), max_size=40
    ).filter(lambda value: "\x7f" not in value),
    max_size=5,
)


@given(
    key=keys,
    sequence=st.integers(min_value=0, max_value=2**64 - 1),
    uuid=st.sampled_from([b"", bytes(16)]) | st.binary(min_size=16, max_size=16),
    props=properties,
    body=st.binary(max_size=2048),
)
def test_round_trip(key: str, sequence: int, uuid: bytes, props: dict, body: bytes) -> None:
    msg = KVMsg(key, sequence, uuid, props, body)
    assert KVMsg.from_frames(msg.to_frames()) == msg


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@given(body=st.dictionaries(st.text(max_size=10), json_values, max_size=6))
def test_json_round_trip(body: dict) -> None:
    msg = KVMsg.from_json("/visit/9", 3, body, properties={"ttl": "1"})
    again = KVMsg.from_frames(msg.to_frames())
    assert again.json() == body


@given(frames=st.lists(st.binary(max_size=40), min_size=0, max_size=7))
def test_arbitrary_frames_raise_only_frame_error(frames: list[bytes]) -> None:
    try:
        msg = KVMsg.from_frames(frames)
    except FrameError:
        return
    assert KVMsg.from_frames(msg.to_frames()) == msg
