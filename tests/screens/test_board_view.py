"""What the board shows: filters, search, order and columns that fit the terminal. Pure."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models.enums import ReferralStatus, TeamCode
from screens.board_view import STATUSES, TEAMS, BoardView, SortOrder, matches_search
from screens.state import BoardRow, row_from_body
from screens.widgets.board_columns import (
    CELL_PADDING,
    COLUMNS,
    SCROLLBAR,
    layout_for,
    staff_words,
    text_cells,
)
from tests.screens.desk_helpers import NOW, referral_body


def row(ident: int, **kwargs: object) -> BoardRow:
    result = row_from_body(f"/referral/{ident}", referral_body(ident, **kwargs))  # type: ignore[arg-type]
    assert result is not None
    return result


HAROLD = row(1, name="Harold Hughes", nhs_number="9993319813", postcode="le18 0rr")


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "harold",
        "HUGHES",
        "hughes harold",
        "  Harold   Hug ",
        "9993319813",
        "999 331 9813",
        "999-331-9813",
        "331 98",
        "LE18 0RR",
        "le180rr",
        "le18",
        "LE1",
    ],
)
def test_search_finds_by_name_nhs_number_or_postcode(query: str) -> None:
    assert matches_search(HAROLD, query)


@pytest.mark.parametrize("query", ["edna", "harold x", "9990000018", "0RR", "Q", "LE2", "[b]"])
def test_search_misses_what_is_not_there(query: str) -> None:
    assert not matches_search(HAROLD, query)


def test_search_never_matches_digits_against_an_unknown_nhs_number() -> None:
    unknown = row(2, nhs_number=None)
    assert unknown.nhs_number == "unknown"
    assert not matches_search(unknown, "999")


def test_search_ignores_control_characters_typed_or_pasted() -> None:
    assert matches_search(HAROLD, "har\x1b[31mold")


def test_team_filter_is_on_needs_and_status_filter_on_status() -> None:
    rows = [
        row(1, needs=("CRT", "NUR")),
        row(2, needs=("MH",), status="triaged"),
        row(3, needs=("NUR",), status="assigned"),
    ]
    nursing = BoardView(team=TeamCode.COMMUNITY_NURSING)
    assert [r.key for r in nursing.rows(rows, NOW)] == ["/referral/1", "/referral/3"]
    both = BoardView(team=TeamCode.COMMUNITY_NURSING, status=ReferralStatus.ASSIGNED)
    assert [r.key for r in both.rows(rows, NOW)] == ["/referral/3"]
    assert both.filtered
    assert not BoardView(sort=SortOrder.STATUS).filtered
    assert not BoardView(search="  ").filtered


def test_keys_cycle_through_every_choice_and_back_to_all() -> None:
    view = BoardView()
    seen = []
    for _ in TEAMS:
        seen.append(view.team)
        view = view.next_team()
    assert seen == [None, *TeamCode]
    assert view.team is None
    statuses = [view.status]
    for _ in STATUSES[1:]:
        view = view.next_status()
        statuses.append(view.status)
    assert None not in statuses[1:]
    assert ReferralStatus.CLOSED not in statuses
    assert view.next_status().status is None
    orders = [view.sort, view.next_sort().sort, view.next_sort().next_sort().sort]
    assert orders == [SortOrder.TIME_LEFT, SortOrder.RECEIVED, SortOrder.STATUS]
    assert view.next_sort().next_sort().next_sort().sort is SortOrder.TIME_LEFT


def test_cleared_keeps_the_order_and_drops_every_filter() -> None:
    view = BoardView(SortOrder.STATUS, TeamCode.THERAPY, ReferralStatus.TRIAGED, "ann")
    assert view.cleared() == BoardView(sort=SortOrder.STATUS)


def test_the_three_orders() -> None:
    rows = [
        row(1, received_at=NOW - timedelta(minutes=10)),  # on track, newest crisis
        row(2, received_at=NOW - timedelta(minutes=130), status="assigned"),  # breached
        row(3, received_at=NOW - timedelta(minutes=100), status="triaged"),  # due soon
        row(4, priority="urgent", received_at=NOW - timedelta(minutes=5)),  # no clock
    ]

    def keys(sort: SortOrder) -> list[int]:
        return [int(r.key.rsplit("/", 1)[1]) for r in BoardView(sort=sort).rows(rows, NOW)]

    assert keys(SortOrder.TIME_LEFT) == [2, 3, 1, 4]
    assert keys(SortOrder.RECEIVED) == [4, 1, 3, 2]
    assert keys(SortOrder.STATUS) == [1, 4, 3, 2]  # received (by time left), triaged, assigned


def test_describe_names_each_part_and_which_are_on() -> None:
    view = BoardView(team=TeamCode.MENTAL_HEALTH, status=ReferralStatus.CRISIS_CARE)
    assert view.describe() == [
        ("o", "Sort", "time left", False),
        ("t", "Team", "MH", True),
        ("s", "Status", "crisis care", True),
    ]


@pytest.mark.parametrize("width", [80, 90, 100, 106, 107, 120, 160, 200])
def test_the_columns_fit_the_width(width: int) -> None:
    layout = layout_for(width)
    used = sum(layout.widths.values()) + 2 * CELL_PADDING * len(COLUMNS) + SCROLLBAR
    assert used <= width
    assert set(layout.widths) == {key for key, _ in COLUMNS}
    assert layout.widths["nhs"] >= len("999 000 0018")
    assert layout.widths["status"] >= len("crisis care")
    assert layout.widths["time"] >= len("routine no clock")
    assert layout.widths["staff"] >= len("KM SP")
    assert layout.widths["name"] >= 14
    for key, label in COLUMNS:
        assert layout.widths[key] >= len(label)


def test_narrow_and_wide_words() -> None:
    assert layout_for(80).narrow
    assert not layout_for(160).narrow
    assert layout_for(160).widths["time"] >= len("BREACHED 1h 28m ago")


@pytest.mark.parametrize(
    ("width", "shown"),
    [
        (40, "Kwame Mensah, Sunita Parmar"),
        (27, "Kwame Mensah, Sunita Parmar"),
        (26, "Mensah, Parmar"),
        (14, "Mensah, Parmar"),
        (13, "KM SP"),
        (5, "KM SP"),
        (3, "KM SP"),  # the cell cuts it with an ellipsis
    ],
)
def test_staff_names_shorten_to_surnames_then_initials(width: int, shown: str) -> None:
    assert staff_words(["Kwame Mensah", "Sunita Parmar"], width) == shown


def test_no_staff_is_a_dash_and_cells_are_plain_strings() -> None:
    assert staff_words([], 10) == "-"
    assert staff_words(["  "], 10) == "-"
    cells = text_cells(row(1, name="[b]Ann[/b]", staff=("Sam Lee",)), layout_for(80))
    assert cells == {
        "name": "[b]Ann[/b]",
        "nhs": "999 000 0018",
        "needs": "CRT NUR",
        "status": "received",
        "staff": "Lee",
    }
