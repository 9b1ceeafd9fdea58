"""The board model: which referrals show, in what order, with what words and counts."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from messaging.replica import ReplicaData
from models.enums import ClockState
from screens.state import BoardModel, BoardRow, count_rows, row_from_body
from tests.screens.desk_helpers import NOW, referral_body


def row(ident: int, **kwargs: object) -> BoardRow:
    result = row_from_body(f"/referral/{ident}", referral_body(ident, **kwargs))  # type: ignore[arg-type]
    assert result is not None
    return result


def model_of(*bodies: dict) -> BoardModel:
    model = BoardModel()
    model.load({f"/referral/{body['id']}": body for body in bodies})
    return model


def test_breached_first_then_least_time_left() -> None:
    model = model_of(
        referral_body(1, received_at=NOW - timedelta(minutes=10)),  # 1h 50m left
        referral_body(2, received_at=NOW - timedelta(minutes=130)),  # breached 10m ago
        referral_body(3, received_at=NOW - timedelta(minutes=100)),  # 20m left
        referral_body(4, received_at=NOW - timedelta(minutes=200)),  # breached 1h 20m ago
    )
    assert [r.key for r in model.ordered(NOW)] == [
        "/referral/4",
        "/referral/2",
        "/referral/3",
        "/referral/1",
    ]


def test_referrals_without_a_running_clock_come_last_oldest_first() -> None:
    model = model_of(
        referral_body(1, priority="routine", received_at=NOW - timedelta(hours=1)),
        referral_body(2, received_at=NOW - timedelta(minutes=5)),
        referral_body(3, priority="urgent", received_at=NOW - timedelta(hours=3)),
        referral_body(
            4,
            status="responded",
            received_at=NOW - timedelta(hours=5),
            responded_at=NOW - timedelta(hours=4),
        ),
    )
    assert [r.key for r in model.ordered(NOW)] == [
        "/referral/2",
        "/referral/4",
        "/referral/3",
        "/referral/1",
    ]


def test_equal_time_left_falls_back_to_received_time_then_key() -> None:
    same = NOW - timedelta(minutes=20)
    model = model_of(referral_body(9, received_at=same), referral_body(5, received_at=same))
    assert [r.key for r in model.ordered(NOW)] == ["/referral/5", "/referral/9"]


def test_counts_open_due_soon_and_breached() -> None:
    model = model_of(
        referral_body(1, received_at=NOW - timedelta(minutes=10)),
        referral_body(2, received_at=NOW - timedelta(minutes=95)),
        referral_body(3, received_at=NOW - timedelta(minutes=100)),
        referral_body(4, received_at=NOW - timedelta(minutes=121)),
        referral_body(5, priority="routine"),
    )
    counts = model.counts(NOW)
    assert (counts.open, counts.due_soon, counts.breached, counts.shown) == (5, 2, 1, None)
    assert model.counts(NOW + timedelta(minutes=30)).breached == 3


@pytest.mark.parametrize(
    ("minutes_ago", "state", "words", "short"),
    [
        (10, ClockState.ON_TRACK, "on track 1h 50m left", "on track 1h 50m"),
        (108, ClockState.DUE_SOON, "due soon 12m left", "due soon 12m"),
        (119.5, ClockState.DUE_SOON, "due soon under 1m left", "due soon <1m"),
        (127, ClockState.BREACHED, "BREACHED 7m ago", "BREACHED 7m"),
        (208, ClockState.BREACHED, "BREACHED 1h 28m ago", "BREACHED 1h 28m"),
        (120, ClockState.BREACHED, "BREACHED just now", "BREACHED now"),
    ],
)
def test_clock_words_always_name_the_state(
    minutes_ago: float, state: ClockState, words: str, short: str
) -> None:
    view = row(1, received_at=NOW - timedelta(minutes=minutes_ago)).clock(NOW)
    assert (view.state, view.words, view.short) == (state, words, short)


def test_clock_words_for_met_and_no_clock() -> None:
    met = row(1, status="responded", responded_at=NOW - timedelta(minutes=5)).clock(NOW)
    assert (met.state, met.words, met.short) == (ClockState.MET, "met", "met")
    none = row(2, priority="urgent").clock(NOW)
    assert (none.state, none.words) == (ClockState.NONE, "urgent (no clock)")
    assert none.short == "urgent no clock"


def test_row_text_is_cleaned_and_nhs_number_shown_3_3_4() -> None:
    r = row(1, name="\x1b[31mEdna\x1b]0;pwned\x07 [b]x[/b]\x07", staff=("Sam\x1b[2J Lee",))
    assert r.name == "Edna [b]x[/b]"
    assert r.nhs_number == "999 000 0018"
    assert r.staff == ("Sam Lee",)
    assert r.needs == ("CRT", "NUR")
    assert r.status_words == "received"


@pytest.mark.parametrize(
    ("postcode", "shown"),
    [("le18 0rr", "LE18 0RR"), ("LE180RR", "LE18 0RR"), ("not one", "not one"), (None, "")],
)
def test_postcode_is_shown_normalised_when_valid(postcode: str | None, shown: str) -> None:
    assert row(1, postcode=postcode).postcode == shown


@pytest.mark.parametrize("nhs", [None, "", "12345", "abcdefghij"])
def test_missing_or_odd_nhs_number_is_unknown(nhs: str | None) -> None:
    assert row(1, nhs_number=nhs).nhs_number == "unknown"


def test_malformed_bodies_are_skipped_not_fatal() -> None:
    model = BoardModel()
    model.load(
        {
            "/referral/1": {"patient": "not a dict"},
            "/referral/2": {"patient": {"name": "Ok"}, "staff": [3]},
            "/referral/3": referral_body(3),
            "/referral/4": {"received_at": "yesterday", "patient": {"name": "Al"}},
        }
    )
    assert sorted(model.rows) == ["/referral/3", "/referral/4"]
    assert model.rows["/referral/4"].received_at is None


def test_apply_adds_updates_and_removes_rows_and_ignores_closed() -> None:
    model = model_of(referral_body(1))
    assert model.apply("/referral/2", referral_body(2)) is True
    assert model.apply("/referral/2", referral_body(2)) is False
    assert model.apply("/referral/2", referral_body(2, status="triaged")) is True
    assert model.rows["/referral/2"].status_words == "triaged"
    assert model.apply("/referral/1", referral_body(1, status="closed")) is True
    assert model.apply("/referral/2", None) is True
    assert model.rows == {}
    assert model.apply("/staff/3", {"name": "Sam"}) is False


def test_desks_online_follow_desk_keys() -> None:
    model = BoardModel()
    desks = {"/desk/b": {"desk": "b"}, "/desk/a": {"desk": "a"}}
    model.load({**desks, "/referral/1": referral_body(1)})
    assert model.desks_online == ["a", "b"]
    assert model.apply("/desk/a", None) is True
    assert model.desks_online == ["b"]


def test_odd_field_types_keep_the_row_with_plain_words() -> None:
    body = referral_body(1) | {"priority": ["crisis"], "status": ["x"], "needs": ["CRT", 7, ""]}
    r = row_from_body("/referral/1", body)
    assert r is not None
    assert (r.priority, r.status, r.status_words, r.needs) == ("", None, "unknown", ("CRT",))
    assert row(2, priority="urgent").priority == "urgent"


def test_counts_use_the_same_clock_states_as_the_rows() -> None:
    rows = [row(i, received_at=NOW - timedelta(minutes=25 * i)) for i in range(1, 8)]
    rows.append(row(8, status="responded", responded_at=NOW - timedelta(minutes=1)))
    states = [r.clock(NOW).state for r in rows]
    assert [r.clock_state(NOW) for r in rows] == states
    counts = count_rows(rows, NOW)
    assert counts.due_soon == states.count(ClockState.DUE_SOON)
    assert counts.breached == states.count(ClockState.BREACHED)


class OnlyKeysWanted(dict):
    """Replica data that fails if a body the board does not need is read."""

    def __getitem__(self, key: str) -> object:
        assert key.startswith(("/referral/", "/desk/")), f"read {key}"
        return super().__getitem__(key)

    def items(self):  # type: ignore[no-untyped-def]
        raise AssertionError("items() would read every body")


def test_load_reads_only_referral_and_desk_bodies() -> None:
    data = OnlyKeysWanted(
        {"/referral/1": referral_body(1), "/desk/a": {"desk": "a"}, "/alert/3": {"id": 3}}
    )
    model = BoardModel()
    model.load(data)
    assert list(model.rows) == ["/referral/1"]
    assert model.desks_online == ["a"]


def test_rows_are_slotted() -> None:
    assert not hasattr(row(1), "__dict__")  # 2,000 of them on a busy desk


def test_load_uses_the_rows_the_replica_made_on_arrival_and_parses_none_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A desk's replica makes each referral's row from the one parse on arrival (its digest);
    loading the board from them parses no referral a second time."""
    bodies = {
        "/referral/1": referral_body(1),
        "/referral/2": referral_body(2, status="closed"),
        "/referral/3": {"patient": "not a dict"},  # its digest is None: not shown
    }
    data = ReplicaData(digest=row_from_body)
    for key, body in bodies.items():
        data.put(key, body, json.dumps(body).encode())
    data.put("/desk/a", {"desk": "a"}, b'{"desk":"a"}')
    parsed: list[object] = []
    real_loads = json.loads
    monkeypatch.setattr(json, "loads", lambda raw: parsed.append(raw) or real_loads(raw))

    model = BoardModel()
    model.load(data, data.digests)
    assert parsed == []
    assert list(model.rows) == ["/referral/1"]
    assert model.rows["/referral/1"] is data.digests["/referral/1"]
    assert model.desks_online == ["a"]

    reference = BoardModel()
    reference.load(data)  # no rows given: each referral is parsed
    assert len(parsed) == 3
    assert reference.rows == model.rows


def test_apply_uses_the_row_the_replica_made_for_an_update() -> None:
    body = referral_body(1)
    data = ReplicaData(digest=row_from_body)
    data.put("/referral/1", body, json.dumps(body).encode())
    model = BoardModel()
    assert model.apply("/referral/1", body, data.digests)
    assert model.rows["/referral/1"] is data.digests["/referral/1"]
    assert not model.apply("/referral/1", body, data.digests)  # the same row: no change
    data.discard("/referral/1")
    assert model.apply("/referral/1", None, data.digests)  # deleted: off the board
    assert not model.rows
