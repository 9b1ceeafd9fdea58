"""The baseline desk: a bare Textual app with one static widget.

    python -m bench.bare_app            paints "bare app ready" and idles until killed
    python -m bench.bare_app change     as above; each "x" pressed changes one word of it

Kept as small as a Textual app can be, so that the desk is compared with Textual itself.
"""

from __future__ import annotations

import sys

from textual.app import App, ComposeResult
from textual.events import Key
from textual.widgets import Static

READY = "bare app ready: status received"
WORDS = ("received", "triaged ")


class BareApp(App[None]):
    flips = 0

    def compose(self) -> ComposeResult:
        yield Static(READY, id="only", markup=False)

    def on_key(self, event: Key) -> None:
        if event.key == "x" and sys.argv[1:] == ["change"]:
            self.flips += 1
            self.query_one(Static).update(f"bare app ready: status {WORDS[self.flips % 2]}")


if __name__ == "__main__":
    BareApp().run()
