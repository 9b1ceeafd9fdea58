"""Urgency stays readable in a 16-colour terminal (TERM=linux): words first, colours that
come out right when every colour is brought down to the 16 standard ones."""

from __future__ import annotations

from rich.color import Color, ColorSystem

from models.enums import ClockState
from screens.state import BoardRow
from tests.conftest import RunningHub, desk_app
from tests.screens.desk_helpers import NOW, screen_text, status_text, until

WORDS = {
    ClockState.BREACHED: "BREACHED",
    ClockState.DUE_SOON: "due soon",
    ClockState.ON_TRACK: "on track",
}
RED, GREEN, BRIGHT_GREEN, BRIGHT_YELLOW, WHITE, BRIGHT_WHITE = 1, 2, 10, 11, 7, 15


def sixteen(color: Color | None) -> int | None:
    """The standard colour (0-15) a 16-colour terminal shows for `color`."""
    if color is None:
        return None
    return color.downgrade(ColorSystem.STANDARD).number


async def test_clock_states_are_words_and_readable_in_16_colours(fixed_hub: RunningHub) -> None:
    async with desk_app(fixed_hub) as app, app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "hub connected" in status_text(app))
        await until(pilot, lambda: app.model.rows and app.board.row_count == len(app.model.rows))
        rows: list[BoardRow] = list(app.model.rows.values())
        states = {row.clock(NOW).state for row in rows}
        assert set(WORDS) <= states, "the seed has breached, due soon and on track clocks"

        text = screen_text(app)
        for state, words in WORDS.items():
            shown = sum(1 for row in rows if row.clock(NOW).state is state)
            assert text.count(words) >= shown  # every clock says its state in words

        seen: dict[ClockState, list[tuple[int | None, int | None]]] = {}
        for strip in app.screen._compositor.render_strips():
            for segment in strip:
                text = segment.text.strip()
                state = next((s for s, w in WORDS.items() if text.startswith(w)), None)
                if state is None or segment.style is None:
                    continue
                fg, bg = sixteen(segment.style.color), sixteen(segment.style.bgcolor)
                assert fg != bg, f"{segment.text!r} would vanish in 16 colours"
                seen.setdefault(state, []).append((fg, bg))

        assert {bg for _, bg in seen[ClockState.BREACHED]} == {RED}
        assert {fg for fg, _ in seen[ClockState.BREACHED]} <= {WHITE, BRIGHT_WHITE}
        assert all(fg == BRIGHT_YELLOW for fg, _ in seen[ClockState.DUE_SOON])
        assert all(fg in (GREEN, BRIGHT_GREEN) for fg, _ in seen[ClockState.ON_TRACK])
