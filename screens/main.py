"""Start a desk: build the replica and the command client, then run the app.

The replica asks the hub for its snapshot before Textual is imported: the hub sends it (and
this desk's ZeroMQ thread takes it in) while Textual loads, so it is waiting by the time the
app is ready to show it. Textual is imported by `run_desk`, not by this module.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from messaging.command_client import CommandClient
from messaging.replica import Replica
from models.text import clean_text
from screens.state import row_from_body

if TYPE_CHECKING:
    from messaging.curve import ClientKeys


def run_desk(
    *,
    host: str,
    port: int,
    desk_id: str,
    actor: int,
    actor_name: str = "",
    client_keys: ClientKeys | None = None,
    server_public_key: str | None = None,
) -> None:
    """Run a desk against the hub at host:port until the user quits (what the CLI calls).
    With `client_keys` and the hub's `server_public_key` it talks CURVE."""
    staff = clean_text(actor_name) or f"staff #{actor}"
    presence = {
        "desk": desk_id,
        "staff": staff,
        "staff_id": actor,
        "since": datetime.now(UTC).isoformat(),
    }
    curve = {"client_keys": client_keys, "server_public_key": server_public_key}
    replica = Replica(
        host=host,
        port=port,
        desk_id=desk_id,
        presence=presence,
        digest=row_from_body,  # each referral's board row, made as it arrives
        **curve,
    )
    replica.request_snapshot()  # the hub sends it while Textual loads
    commands = CommandClient(host=host, port=port, actor=actor, desk=desk_id, **curve)

    from screens.app import DeskApp

    DeskApp(replica, commands, desk_id=desk_id, actor_name=actor_name, actor=actor).run()
