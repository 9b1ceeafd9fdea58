"""The 2-hour response clock and the 72-hour crisis window."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.clock import (
    CRISIS_REVIEW_LEAD,
    CRISIS_WINDOW,
    DUE_SOON_WINDOW,
    RESPONSE_WINDOW,
    clock_state,
    crisis_review_due_at,
    crisis_window_ends_at,
    describe_time_left,
    response_due_at,
    sort_key_time_left,
    time_left,
)
from models.enums import ClockState, Priority, ReferralStatus

BST = timezone(timedelta(hours=1), "BST")
RECEIVED = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
DUE = RECEIVED + RESPONSE_WINDOW
NAIVE = datetime(2025, 3, 14, 9, 0)


def test_constants():
    windows = (RESPONSE_WINDOW, DUE_SOON_WINDOW, CRISIS_WINDOW, CRISIS_REVIEW_LEAD)
    assert windows == (
        timedelta(hours=2),
        timedelta(minutes=30),
        timedelta(hours=72),
        timedelta(hours=2),
    )


def test_response_due_only_for_crisis():
    assert response_due_at(RECEIVED, Priority.CRISIS) == datetime(2025, 3, 14, 11, 0, tzinfo=UTC)
    assert response_due_at(RECEIVED, Priority.URGENT) is None
    assert response_due_at(RECEIVED, Priority.ROUTINE) is None


def test_response_due_keeps_the_zone():
    received = datetime(2025, 6, 1, 10, 0, tzinfo=BST)
    assert response_due_at(received, Priority.CRISIS) == datetime(2025, 6, 1, 11, 0, tzinfo=UTC)


def _state(now, *, responded_at=None, status=None, due_at=DUE):
    return clock_state(due_at=due_at, responded_at=responded_at, now=now, status=status)


@pytest.mark.parametrize(
    ("minutes_after_received", "expected"),
    [
        (0, ClockState.ON_TRACK),
        (89, ClockState.ON_TRACK),
        (90, ClockState.DUE_SOON),  # exactly 30 minutes left
        (119, ClockState.DUE_SOON),
        (120, ClockState.BREACHED),  # due now
        (500, ClockState.BREACHED),
    ],
)
def test_open_clock(minutes_after_received, expected):
    now = RECEIVED + timedelta(minutes=minutes_after_received)
    assert _state(now) == expected
    assert _state(now, status=ReferralStatus.ASSIGNED) == expected


def test_no_clock():
    assert _state(RECEIVED, due_at=None) == ClockState.NONE
    assert _state(DUE + timedelta(hours=1), due_at=None) == ClockState.NONE


def test_declined_has_no_clock_even_after_due():
    assert _state(DUE + timedelta(hours=1), status=ReferralStatus.DECLINED) == ClockState.NONE


def test_responded_in_time_is_met_forever():
    assert _state(DUE + timedelta(days=3), responded_at=DUE) == ClockState.MET
    assert _state(RECEIVED, responded_at=RECEIVED + timedelta(minutes=5)) == ClockState.MET


def test_responded_late_is_missed():
    late = DUE + timedelta(seconds=1)
    assert _state(late, responded_at=late) == ClockState.MISSED
    assert _state(late, responded_at=late, status=ReferralStatus.CLOSED) == ClockState.MISSED


def test_closed_without_response():
    closed = ReferralStatus.CLOSED
    assert _state(DUE - timedelta(minutes=1), status=closed) == ClockState.NONE
    assert _state(DUE, status=closed) == ClockState.MISSED


@pytest.mark.parametrize("field", ["due_at", "responded_at", "now"])
def test_naive_datetimes_refused(field):
    kwargs = {"due_at": DUE, "responded_at": None, "now": RECEIVED, field: NAIVE}
    with pytest.raises(ValueError, match=f"{field} must be a timezone-aware"):
        clock_state(**kwargs)


@pytest.mark.parametrize(
    "call",
    [
        lambda: response_due_at(NAIVE, Priority.CRISIS),
        lambda: time_left(DUE, NAIVE),
        lambda: time_left(NAIVE, RECEIVED),
        lambda: crisis_window_ends_at(NAIVE),
        lambda: crisis_review_due_at(NAIVE),
        lambda: sort_key_time_left(None, NAIVE),
        lambda: sort_key_time_left(NAIVE, RECEIVED),
        lambda: sort_key_time_left(None, RECEIVED, NAIVE),
    ],
)
def test_naive_refused_everywhere(call):
    with pytest.raises(ValueError, match="must be a timezone-aware datetime"):
        call()


def test_time_left():
    assert time_left(DUE, RECEIVED) == timedelta(hours=2)
    assert time_left(DUE, DUE + timedelta(minutes=7)) == timedelta(minutes=-7)


@pytest.mark.parametrize(
    ("left", "words"),
    [
        (timedelta(hours=1, minutes=5), "1h 05m left"),
        (timedelta(hours=1, minutes=5, seconds=59), "1h 05m left"),
        (timedelta(hours=2), "2h 00m left"),
        (timedelta(minutes=12), "12m left"),
        (timedelta(minutes=12, seconds=59), "12m left"),
        (timedelta(minutes=1), "1m left"),
        (timedelta(seconds=59), "under 1m left"),
        (timedelta(microseconds=1), "under 1m left"),
        (timedelta(0), "breached just now"),
        (timedelta(seconds=-59), "breached just now"),
        (timedelta(minutes=-1), "breached 1m ago"),
        (timedelta(minutes=-7), "breached 7m ago"),
        (timedelta(minutes=-7, seconds=-59), "breached 7m ago"),
        (timedelta(hours=-2, minutes=-10), "breached 2h 10m ago"),
        (timedelta(hours=-2, minutes=-10, seconds=-30), "breached 2h 10m ago"),
        (timedelta(hours=-75, minutes=-3), "breached 75h 03m ago"),
    ],
)
def test_describe_time_left(left, words):
    assert describe_time_left(left) == words


@given(st.integers(min_value=-(10**7), max_value=10**7))
def test_description_agrees_with_clock_state(seconds):
    now = DUE - timedelta(seconds=seconds)
    words = describe_time_left(time_left(DUE, now))
    breached = _state(now) == ClockState.BREACHED
    assert words.startswith("breached") == breached
    assert words.endswith("left") != breached


def test_crisis_window():
    responded = datetime(2025, 3, 14, 10, 30, tzinfo=UTC)
    assert crisis_window_ends_at(responded) == datetime(2025, 3, 17, 10, 30, tzinfo=UTC)
    assert crisis_review_due_at(responded) == datetime(2025, 3, 17, 8, 30, tzinfo=UTC)


def test_sort_most_urgent_first():
    now = RECEIVED + timedelta(hours=3)
    rows = {
        "no clock, received late": (None, RECEIVED + timedelta(hours=1)),
        "no clock, no time": (None, None),
        "no clock, received early": (None, RECEIVED),
        "90m left": (now + timedelta(minutes=90), None),
        "breached 60m": (now - timedelta(minutes=60), None),
        "10m left": (now + timedelta(minutes=10), None),
        "breached 5m": (now - timedelta(minutes=5), None),
    }
    order = sorted(rows, key=lambda name: sort_key_time_left(rows[name][0], now, rows[name][1]))
    assert order == [
        "breached 60m",
        "breached 5m",
        "10m left",
        "90m left",
        "no clock, received early",
        "no clock, received late",
        "no clock, no time",
    ]


def test_sort_key_mixes_zones():
    now = RECEIVED
    in_utc = sort_key_time_left(RECEIVED + timedelta(minutes=30), now)
    in_bst = sort_key_time_left(datetime(2025, 3, 14, 10, 20, tzinfo=BST), now)  # 09:20 UTC
    assert in_bst < in_utc


minutes = st.integers(min_value=-600, max_value=600)
RANK = {ClockState.ON_TRACK: 0, ClockState.DUE_SOON: 1, ClockState.BREACHED: 2}
aware_times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
open_statuses = st.sampled_from(
    [None, ReferralStatus.RECEIVED, ReferralStatus.TRIAGED, ReferralStatus.ASSIGNED]
)


@given(aware_times, st.lists(minutes, min_size=2, max_size=10), open_statuses)
def test_open_clock_is_monotone_in_time(received, offsets, status):
    due = response_due_at(received, Priority.CRISIS)
    states = [
        clock_state(
            due_at=due, responded_at=None, now=received + timedelta(minutes=m), status=status
        )
        for m in sorted(offsets)
    ]
    ranks = [RANK[state] for state in states]
    assert ranks == sorted(ranks)


@given(
    st.one_of(st.none(), aware_times),
    st.one_of(st.none(), aware_times),
    aware_times,
    st.one_of(st.none(), st.sampled_from(list(ReferralStatus))),
)
def test_clock_state_is_total(due_at, responded_at, now, status):
    state = clock_state(due_at=due_at, responded_at=responded_at, now=now, status=status)
    assert state in ClockState
    if due_at is None:
        assert state == ClockState.NONE
