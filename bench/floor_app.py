"""The least a desk could do: the bare app (one static widget) plus the work no desk can skip.

    python -m bench.floor_app PORT     paints "floor app ready: N keys" and idles until killed

It asks a hub for its snapshot (RFC 12/CHP: ICANHAZ?, one message per key, KTHXBAI) before
Textual is imported, as the desk does, then takes every message off the socket and parses
each body's JSON once: no checks, no rows, no board, no status bar, no header or footer.
`bench.desk_startup` times it beside the desk and the bare app, to show how much of the
desk's start-up is the snapshot itself.
"""

from __future__ import annotations

import json
import sys

import zmq

from messaging.protocol import ICANHAZ, KTHXBAI, Ports

READY = "floor app ready"
_KTHXBAI = KTHXBAI.encode("ascii")


def take_snapshot(port: int) -> int:
    """Ask for the whole state and parse every body; the number of keys."""
    context = zmq.Context.instance()
    dealer = context.socket(zmq.DEALER)
    dealer.connect(f"tcp://127.0.0.1:{Ports.from_base(port).snapshot}")
    dealer.send_multipart([ICANHAZ, b""])
    import textual.app  # noqa: F401  (loads while the hub answers, as in the desk)

    keys = 0
    while True:
        key, _sequence, _uuid, _properties, body = dealer.recv_multipart()
        if key == _KTHXBAI:
            break
        json.loads(body)
        keys += 1
    dealer.close(linger=0)
    return keys


def main() -> None:
    keys = take_snapshot(int(sys.argv[1]))
    from textual.app import App, ComposeResult
    from textual.widgets import Static

    class FloorApp(App[None]):
        def compose(self) -> ComposeResult:
            yield Static(f"{READY}: {keys} keys", markup=False)

    FloorApp().run()


if __name__ == "__main__":
    main()
