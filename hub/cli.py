"""The `hubdesk` command line: the entry point, and the one table of shared options.

Every command is a typer command in `hub.cli_app`, its options built from the `Opt`s here.
Typer, and the pydantic it checks values with, cost a desk tens of milliseconds and about
10 MB before its board shows, so `main()` opens a desk from a plain command line
(`desk_args`: known options, values that need no checking) without loading either. Anything
else (help, a mistyped option, a value to refuse) goes to typer, which says what is wrong in
its own words. Heavy modules load inside each command, so `hubdesk desk` never imports the
database layer.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from messaging.protocol import DEFAULT_PORT

PORT_MIN, PORT_MAX = 1024, 65531  # P..P+3 must all be unprivileged, valid ports


@dataclass(frozen=True)
class Opt:
    """One command-line option, defined once for typer (`hub.cli_app.option`) and for the
    desk's quick path (`desk_args`)."""

    flag: str
    help: str
    default: Any = None
    kind: type = str  # str, int or Path
    envvar: str | None = None
    min: int | None = None
    max: int | None = None

    def plain_value(self, text: str) -> Any:
        """`text` as this option's value if it plainly is one (digits for a number, within
        range; no leading "-"), else None: typer then checks it and explains."""
        if not text or text.startswith("-"):
            return None
        if self.kind is int:
            if not (text.isascii() and text.isdigit()) or (text[0] == "0" and text != "0"):
                return None
            value = int(text)
            too_low = self.min is not None and value < self.min
            return None if too_low or (self.max is not None and value > self.max) else value
        return Path(text) if self.kind is Path else text


HOST = Opt("--host", "Hub address.", "127.0.0.1", envvar="HUBDESK_HOST")
PORT = Opt(
    "--port",
    "Hub base port P (uses P..P+3).",
    DEFAULT_PORT,
    int,
    envvar="HUBDESK_PORT",
    min=PORT_MIN,
    max=PORT_MAX,
)
ACTOR = Opt("--as", "Your staff id (the acting staff member).", 1, int, envvar="HUBDESK_AS")
DESK_ID = Opt("--desk-id", "This desk's name.", "", envvar="HUBDESK_DESK")
DESK_LOG = Opt(
    "--log-file", "Where the desk logs (never the screen).", None, Path, envvar="HUBDESK_DESK_LOG"
)
HUB_KEY = Opt(
    "--hub-key",
    "The hub's public key file (hub.key), for a hub run with --keys.",
    None,
    Path,
    envvar="HUBDESK_HUB_KEY",
)
DESK_KEY = Opt(
    "--desk-key",
    "This desk's secret key file (NAME.key_secret, mode 0600).",
    None,
    Path,
    envvar="HUBDESK_DESK_KEY",
)

DESK_OPTIONS: dict[str, Opt] = {
    "host": HOST,
    "port": PORT,
    "actor": ACTOR,
    "desk_id": DESK_ID,
    "log_file": DESK_LOG,
    "hub_key": HUB_KEY,
    "desk_key": DESK_KEY,
}
"""`hubdesk desk`'s options by parameter name, in the order its help lists them."""


def desk_args(argv: Sequence[str], environ: Mapping[str, str]) -> dict[str, Any] | None:
    """`open_desk`'s arguments from the words after `desk` and the environment, as typer
    would read them; None unless every word is a known option (`--flag value` or
    `--flag=value`, each once) and every value plainly valid. An empty variable counts as
    unset, as in typer."""
    names = {opt.flag: name for name, opt in DESK_OPTIONS.items()}
    given: dict[str, str] = {}
    words = iter(argv)
    for word in words:
        flag, equals, text = word.partition("=")
        name = names.get(flag)
        if name is None or name in given:
            return None
        if not equals:
            following = next(words, None)
            if following is None:
                return None
            text = following
        given[name] = text
    values: dict[str, Any] = {}
    for name, opt in DESK_OPTIONS.items():
        text = given.get(name)
        if text is None and opt.envvar is not None:
            text = environ.get(opt.envvar) or None
        if text is None:
            values[name] = opt.default
            continue
        value = opt.plain_value(text)
        if value is None:
            return None
        values[name] = value
    return values


def fail(message: str, code: int = 1) -> SystemExit:
    """Say what is wrong on stderr (in red on a terminal); raise what this returns."""
    text = f"\x1b[31m{message}\x1b[0m" if sys.stderr.isatty() else message
    sys.stderr.write(f"{text}\n")
    sys.stderr.flush()
    return SystemExit(code)


def open_desk(
    *,
    host: str,
    port: int,
    actor: int,
    desk_id: str,
    log_file: Path | None,
    hub_key: Path | None,
    desk_key: Path | None,
) -> None:
    """`hubdesk desk`: check what can be checked at once, then run the desk's app."""
    curve = curve_keys(hub_key, desk_key)
    desk_id = desk_id or default_desk_id()
    check_connectable(host, port, actor, desk_id)
    from hub.logs import configure_logging, default_desk_log
    from screens.main import run_desk

    configure_logging(log_file or default_desk_log())
    run_desk(host=host, port=port, desk_id=desk_id, actor=actor, **curve)


def curve_keys(hub_key: Path | None, desk_key: Path | None) -> dict[str, Any]:
    """Replica/CommandClient keyword arguments for a hub with keys; {} without them."""
    if hub_key is None and desk_key is None:
        return {}
    if hub_key is None or desk_key is None:
        raise fail(
            "Give both --hub-key (the hub's public hub.key) and --desk-key (this desk's "
            "NAME.key_secret), or neither."
        )
    from messaging.security import ClientKeys, SecurityError, load_public_key

    try:
        return {
            "server_public_key": load_public_key(hub_key),
            "client_keys": ClientKeys.from_file(desk_key),
        }
    except SecurityError as exc:
        raise fail(str(exc)) from None


def check_connectable(host: str, port: int, actor: int, desk: str) -> None:
    """Fail with one clear line (no traceback) if these settings cannot even be tried: a
    host ZeroMQ cannot parse, a port out of range, a bad staff id or desk name."""
    import zmq
    import zmq.asyncio

    from messaging.envelope import CommandEnvelope
    from messaging.protocol import FrameError, Ports

    try:
        ports = Ports.from_base(port)
        CommandEnvelope.new("ping", actor=actor, desk=desk)
        # A plain socket on the context the desk's (or command's) sockets use next: a
        # context of its own would cost a desk two threads and a megabyte for this probe.
        context = zmq.Context.shadow(zmq.asyncio.Context.instance().underlying)
        probe = context.socket(zmq.DEALER)
        try:
            probe.connect(f"tcp://{host}:{ports.commands}")
        finally:
            probe.close(linger=0)
    except (ValueError, zmq.ZMQError, FrameError) as exc:
        raise fail(f"Cannot reach hub at {host}:{port}: {exc}") from None


def default_desk_id(prefix: str = "desk") -> str:
    import socket

    host = "".join(c for c in socket.gethostname() if c.isalnum() or c in "-_.")[:40]
    return f"{prefix}-{host or 'local'}-{os.getpid()}"


def main() -> None:
    argv = sys.argv[1:]
    try:
        args = desk_args(argv[1:], os.environ) if argv[:1] == ["desk"] else None
        if args is not None:
            open_desk(**args)
        else:
            from hub.cli_app import app

            app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
