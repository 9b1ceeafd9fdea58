"""`hubdesk keys`: the hub's CURVE key pair, desk key pairs and the hub's desk allow-list.

A keys folder holds `hub.key` (public: copy it to every desk), `hub.key_secret` (0600: never
leaves the hub), `allowed/` (one public `DESK.key` per desk the hub lets in) and `desks/`
(desk key pairs made on this machine). zmq loads only inside each command.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

keys_app = typer.Typer(
    help="CURVE keys: the hub's key pair, desk key pairs and the hub's desk allow-list.",
    no_args_is_help=True,
)

DirOpt = Annotated[
    Path | None,
    typer.Option(
        "--dir",
        help="Keys folder (default: keys/ in your data folder).",
        envvar="HUBDESK_KEYS_DIR",
        show_default=False,
    ),
]


def _fail(message: str) -> typer.Exit:
    typer.secho(message, err=True, fg=typer.colors.RED)
    return typer.Exit(1)


@contextlib.contextmanager
def _one_line_errors() -> Iterator[None]:
    from messaging.security import SecurityError

    try:
        yield
    except SecurityError as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        raise _fail(f"{where}{exc.strerror or exc}") from None


def _folder(directory: Path | None) -> Path:
    from hub.settings import default_keys_dir

    return directory if directory is not None else default_keys_dir()


@keys_app.command("init")
def keys_init(directory: DirOpt = None) -> None:
    """Make the hub's key pair and an empty desk allow-list (on the hub machine)."""
    from messaging.security import ALLOWED_DIR, HUB_KEY_NAME, write_key_pair

    folder = _folder(directory)
    with _one_line_errors():
        if (folder / f"{HUB_KEY_NAME}.key_secret").exists():
            raise _fail(
                f"Hub keys already exist in {folder}. To replace them, delete hub.key and "
                "hub.key_secret first (every desk then needs the new hub.key)."
            )
        public, secret = write_key_pair(folder, HUB_KEY_NAME)
        (folder / ALLOWED_DIR).mkdir(mode=0o700, exist_ok=True)
    typer.echo(f"Hub keys made in {folder}:")
    typer.echo(f"  {public}  public: copy it to every desk machine (--hub-key)")
    typer.echo(f"  {secret}  secret (mode 0600): never copy it anywhere")
    typer.echo(f"  {folder / ALLOWED_DIR}/  the desk allow-list, empty for now")
    typer.echo("Next: allow each desk with `hubdesk keys allow DESK.key`, then run")
    typer.echo(f"  hubdesk serve --keys {folder} --bind 0.0.0.0")


@keys_app.command("desk")
def keys_desk(
    name: Annotated[str, typer.Argument(help="The desk's name, e.g. ward-laptop-3.")],
    directory: DirOpt = None,
) -> None:
    """Make a desk's key pair (best made on the desk machine itself)."""
    from messaging.security import DESKS_DIR, write_key_pair

    with _one_line_errors():
        public, secret = write_key_pair(_folder(directory) / DESKS_DIR, name)
    typer.echo(f"Desk keys for {name}:")
    typer.echo(f"  {public}  public: copy it to the hub, run `hubdesk keys allow {public.name}`")
    typer.echo(f"  {secret}  secret (mode 0600): stays on the desk (--desk-key)")
    typer.echo(f"Connect with: hubdesk desk --host HUB --hub-key hub.key --desk-key {secret}")


@keys_app.command("allow")
def keys_allow(
    public_key: Annotated[Path, typer.Argument(help="A desk's public key file (NAME.key).")],
    name: Annotated[
        str | None, typer.Option(help="Name on the allow-list (default: the file's name).")
    ] = None,
    directory: DirOpt = None,
) -> None:
    """Put a desk's public key on the hub's allow-list."""
    from messaging.security import ALLOWED_DIR, check_name, load_public_key, write_public_key

    folder = _folder(directory)
    allow_dir = folder / ALLOWED_DIR
    with _one_line_errors():
        key = load_public_key(public_key)
        entry = check_name(name or public_key.stem)
        if not allow_dir.is_dir():
            raise _fail(f"No allow-list at {allow_dir}: run `hubdesk keys init --dir {folder}`.")
        for other, known in _allowed(allow_dir).items():
            if known == key:
                typer.echo(f"That key is already allowed, as {other}.")
                return
        target = allow_dir / f"{entry}.key"
        if target.exists():
            raise _fail(
                f"{target} already holds another desk's key: pick another --name, "
                f"or `hubdesk keys revoke {entry}` first."
            )
        write_public_key(target, key, comment=f"desk {entry}, allowed from {public_key.name}")
    typer.echo(f"Allowed desk {entry} ({target}).")
    typer.echo("A running hub lets it in after `kill -HUP <hub pid>` or a restart.")


@keys_app.command("revoke")
def keys_revoke(
    name: Annotated[str, typer.Argument(help="The desk's name on the allow-list.")],
    directory: DirOpt = None,
) -> None:
    """Take a desk off the hub's allow-list."""
    from messaging.security import ALLOWED_DIR, check_name

    allow_dir = _folder(directory) / ALLOWED_DIR
    with _one_line_errors():
        target = allow_dir / f"{check_name(name)}.key"
        if not target.exists():
            raise _fail(f"No desk {name} on the allow-list in {allow_dir}.")
        target.unlink()
    typer.echo(f"Revoked desk {name}. After `kill -HUP <hub pid>` the hub refuses its new")
    typer.echo("connections; a connection already open stays open until the hub restarts.")


@keys_app.command("list")
def keys_list(directory: DirOpt = None) -> None:
    """Show the hub's key, the allowed desks and the desk key pairs in a keys folder."""
    from messaging.security import ALLOWED_DIR, DESKS_DIR, HUB_KEY_NAME

    folder = _folder(directory)
    typer.echo(f"Keys folder: {folder}")
    hub_public = folder / f"{HUB_KEY_NAME}.key"
    hub_secret = folder / f"{HUB_KEY_NAME}.key_secret"
    if hub_secret.exists() or hub_public.exists():
        typer.echo(f"Hub key: {_describe(hub_public, public=True)}")
        typer.echo(f"  secret: {_describe(hub_secret, public=False)}")
    else:
        typer.echo("Hub key: none (make one with `hubdesk keys init`)")
    allow_dir = folder / ALLOWED_DIR
    if allow_dir.is_dir():
        allowed = _allowed(allow_dir)
        typer.echo(f"Allowed desks ({len(allowed)}):" if allowed else "Allowed desks: none")
        for entry in sorted(allowed):
            typer.echo(f"  {entry}  {_describe(allow_dir / f'{entry}.key', public=True)}")
    else:
        typer.echo("Allowed desks: no allow-list here")
    pairs = sorted((folder / DESKS_DIR).glob("*.key_secret"))
    if pairs:
        typer.echo(f"Desk key pairs made here ({len(pairs)}):")
        for secret in pairs:
            typer.echo(f"  {secret.name.removesuffix('.key_secret')}  "
                       f"{_describe(secret, public=False)}")  # fmt: skip


def _allowed(allow_dir: Path) -> dict[str, str | None]:
    """Allow-list entries: name -> public key (None for a file that is not a key)."""
    from messaging.security import SecurityError, load_public_key

    entries: dict[str, str | None] = {}
    for path in sorted(allow_dir.glob("*.key")):
        try:
            entries[path.stem] = load_public_key(path)
        except SecurityError:
            entries[path.stem] = None
    return entries


def _describe(path: Path, *, public: bool) -> str:
    from messaging.security import SecurityError, load_key_pair, load_public_key

    try:
        if public:
            return f"{load_public_key(path)}  {path}"
        load_key_pair(path)
        return f"{path} (ok)"
    except SecurityError as exc:
        return f"PROBLEM: {exc}"
