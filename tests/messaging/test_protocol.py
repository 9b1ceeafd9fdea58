"""Ports and keys."""

from __future__ import annotations

import pytest

from messaging.protocol import (
    DEFAULT_PORT,
    SUBTREES,
    FrameError,
    Ports,
    alert_key,
    check_subtree,
    collector_port,
    commands_port,
    desk_key,
    handover_key,
    referral_key,
    snapshot_port,
    split_key,
    staff_key,
    updates_port,
    visit_key,
)


def test_port_layout() -> None:
    ports = Ports.from_base(DEFAULT_PORT)
    assert (ports.snapshot, ports.updates, ports.collector, ports.commands) == (
        5570,
        5571,
        5572,
        5573,
    )
    assert snapshot_port(100) == 100
    assert updates_port(100) == 101
    assert collector_port(100) == 102
    assert commands_port(100) == 103


@pytest.mark.parametrize("port", [0, -1, 65533, True, "5570", 5570.0])
def test_bad_base_port(port: object) -> None:
    with pytest.raises(ValueError, match="base port"):
        Ports.from_base(port)  # type: ignore[arg-type]


def test_key_helpers() -> None:
    assert referral_key(12) == "/referral/12"
    assert visit_key(3) == "/visit/3"
    assert staff_key(7) == "/staff/7"
    assert alert_key(1) == "/alert/1"
    assert handover_key("2024-05-01.am") == "/handover/2024-05-01.am"
    assert desk_key("ward-7_laptop") == "/desk/ward-7_laptop"
    assert SUBTREES == ("/referral/", "/visit/", "/staff/", "/alert/", "/desk/", "/handover/")


@pytest.mark.parametrize("bad", ["", "a b", "a/b", "é", "x\n"])
def test_key_helpers_refuse_bad_ids(bad: str) -> None:
    with pytest.raises(FrameError):
        desk_key(bad)


def test_key_helpers_refuse_bools() -> None:
    with pytest.raises(FrameError):
        referral_key(True)


def test_split_key() -> None:
    assert split_key("/referral/12") == ("/referral/", "12")
    assert split_key("/desk/ward-7") == ("/desk/", "ward-7")


@pytest.mark.parametrize(
    "bad", ["/nope/1", "/referral/", "referral/1", "HUGZ", "/referral/1/2", "/desk/" + "x" * 300]
)
def test_split_key_rejects(bad: str) -> None:
    with pytest.raises(FrameError):
        split_key(bad)


def test_check_subtree() -> None:
    assert check_subtree("") == ""
    assert check_subtree("/referral/") == "/referral/"
    assert check_subtree("/referral/1") == "/referral/1"
    for bad in ("/nope/", "referral", "HUGZ"):
        with pytest.raises(FrameError):
            check_subtree(bad)
