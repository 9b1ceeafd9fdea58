"""CURVE keys and ZAP authentication: the hub talks only to desks whose public key it allows.

Key files are zmq.auth certificates: `NAME.key` holds a public key, `NAME.key_secret` holds
both keys and must be mode 0600. A hub's keys folder holds `hub.key`, `hub.key_secret` and
`allowed/` (one `DESK.key` per allowed desk). A desk's side of CURVE is `messaging.curve`,
which does not import zmq.auth; its names are importable from here too.

The traps this module exists for (DESIGN.md, "CURVE without ZAP authenticates nobody"):
- a CURVE server with no ZAP handler accepts ANY client key pair, so the hub's sockets are
  CURVE servers only next to a running `DeskAuthenticator` on the SAME context, and each
  also sets ZAP_ENFORCE_DOMAIN with the domain "*", so a missing handler refuses everyone.
  (ZAP_ENFORCE_DOMAIN with an EMPTY domain does the opposite: libzmq then skips ZAP entirely.)
- `configure_curve` only logs a missing key folder: `load_allow_list` makes it an error;
- `create_certificates` writes secret keys 0644: `write_key_pair` writes them 0600;
- revoking a key does not drop a peer that is already connected: restart the hub for that.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

import zmq
import zmq.asyncio
import zmq.auth
from zmq.auth.asyncio import AsyncioAuthenticator
from zmq.utils import z85

# The desk's side, here too for code that has always imported it from this module.
from messaging.curve import ClientKeys as ClientKeys
from messaging.curve import CurveClient as CurveClient
from messaging.curve import client_curve as client_curve

log = logging.getLogger(__name__)

HUB_KEY_NAME = "hub"
ALLOWED_DIR = "allowed"
DESKS_DIR = "desks"
PUBLIC_SUFFIX = ".key"
SECRET_SUFFIX = ".key_secret"
ZAP_DOMAIN = "*"  # the authenticator's wildcard domain; see the module docstring

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_REFUSAL_LOG_EVERY = 60.0  # seconds between log lines about the same refused key


class SecurityError(Exception):
    """A key file or allow-list problem. The message is one line, meant for the user."""


# -- key files --------------------------------------------------------------------------


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise SecurityError(
            f"{name!r} is not a usable key name: use 1-64 letters, digits, '-', '_' or '.', "
            "starting with a letter or digit."
        )
    return name


def _z85_key(value: bytes | None, path: Path, what: str) -> str:
    text = (value or b"").decode("ascii", "replace")
    try:
        ok = len(text) == 40 and len(z85.decode(text)) == 32
    except (ValueError, KeyError, IndexError, OverflowError):
        ok = False
    if not ok:
        raise SecurityError(f"{path} does not hold a valid CURVE {what} key.")
    return text


def _read_certificate(path: Path) -> tuple[bytes, bytes | None]:
    if not path.exists():
        raise SecurityError(f"No key file at {path}.")
    if not path.is_file():
        raise SecurityError(f"{path} is not a key file.")
    try:
        return zmq.auth.load_certificate(path)
    except ValueError:
        raise SecurityError(f"{path} is not a key file (it has no public-key line).") from None
    except OSError as exc:
        raise SecurityError(f"Cannot read key file {path}: {exc.strerror or exc}.") from None


def check_secret_file_mode(path: Path) -> None:
    """Refuse a secret key file that anyone but its owner can read or change."""
    if os.name != "posix":
        return
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError as exc:
        raise SecurityError(f"Cannot read key file {path}: {exc.strerror or exc}.") from None
    if mode & 0o077:
        raise SecurityError(
            f"Secret key file {path} is readable by other users (mode {mode:04o}); "
            f"refusing to use it. Fix it with: chmod 600 {path}"
        )


def load_key_pair(path: str | os.PathLike[str]) -> tuple[str, str]:
    """(public, secret) z85 keys from a `NAME.key_secret` file that only its owner can read."""
    path = Path(path)
    public, secret = _read_certificate(path)
    if secret is None:
        raise SecurityError(
            f"{path} holds only a public key: give the secret key file (NAME{SECRET_SUFFIX})."
        )
    check_secret_file_mode(path)
    public_z85 = _z85_key(public, path, "public")
    secret_z85 = _z85_key(secret, path, "secret")
    if zmq.curve_public(secret_z85.encode("ascii")).decode("ascii") != public_z85:
        raise SecurityError(f"{path}: its public and secret keys do not belong together.")
    return public_z85, secret_z85


def load_public_key(path: str | os.PathLike[str]) -> str:
    """The z85 public key from a `NAME.key` file. A file holding a secret key is refused:
    secret keys stay where they were made."""
    path = Path(path)
    public, secret = _read_certificate(path)
    if secret is not None:
        raise SecurityError(
            f"{path} holds a SECRET key: give the public key file (NAME{PUBLIC_SUFFIX}) "
            "and keep the secret one where it was made."
        )
    return _z85_key(public, path, "public")


def write_key_pair(directory: str | os.PathLike[str], name: str) -> tuple[Path, Path]:
    """Make a key pair `name.key` (0644) and `name.key_secret` (0600) in `directory` (made
    0700 if new). Existing files are never overwritten."""
    check_name(name)
    directory = Path(directory)
    public_path = directory / f"{name}{PUBLIC_SUFFIX}"
    secret_path = directory / f"{name}{SECRET_SUFFIX}"
    for existing in (public_path, secret_path):
        if existing.exists():
            raise SecurityError(
                f"{existing} already exists; remove it first if you really want a new key."
            )
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        old_umask = os.umask(0o077)  # the secret file is never readable by others, not even
        try:  # for the moment before the chmod below
            public, secret = zmq.auth.create_certificates(directory, name)
        finally:
            os.umask(old_umask)
        os.chmod(secret, 0o600)  # create_certificates alone would leave it 0644
        os.chmod(public, 0o644)
    except OSError as exc:
        raise SecurityError(f"Cannot write keys in {directory}: {exc.strerror or exc}.") from None
    return Path(public), Path(secret)


def write_public_key(path: Path, public: str, *, comment: str = "") -> None:
    """A public-key file in zmq.auth's format (for the allow-list)."""
    note = f"#   {comment}\n" if comment else ""
    path.write_text(
        f"#   ZeroMQ CURVE Public Certificate (Hub Desk)\n{note}\n"
        f'metadata\ncurve\n    public-key = "{public}"\n',
        encoding="utf-8",
    )
    path.chmod(0o644)


def load_allow_list(directory: str | os.PathLike[str]) -> dict[str, str]:
    """Allowed desk keys: z85 public key -> desk name (the file's stem). A missing or empty
    folder, or any bad file in it, is an error: an allow-list must never fail open."""
    directory = Path(directory)
    if not directory.is_dir():
        raise SecurityError(
            f"The desk allow-list {directory} does not exist. Make it with `hubdesk keys init`, "
            "then allow each desk with `hubdesk keys allow DESK.key`."
        )
    allowed: dict[str, str] = {}
    for path in sorted(directory.glob(f"*{PUBLIC_SUFFIX}")):
        allowed.setdefault(load_public_key(path), path.stem)
    if not allowed:
        raise SecurityError(
            f"The desk allow-list {directory} is empty, so no desk could connect. "
            "Allow a desk with `hubdesk keys allow DESK.key`."
        )
    return allowed


# -- keys on sockets --------------------------------------------------------------------


@dataclass(frozen=True)
class ServerKeys:
    """The hub's key pair: every hub socket becomes a CURVE server with it."""

    public: str
    secret: str = field(repr=False)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> ServerKeys:
        return cls(*load_key_pair(path))

    @classmethod
    def from_dir(cls, keys_dir: str | os.PathLike[str]) -> ServerKeys:
        path = Path(keys_dir) / f"{HUB_KEY_NAME}{SECRET_SUFFIX}"
        if not path.exists():
            raise SecurityError(
                f"No hub keys in {keys_dir} ({path.name} is missing). "
                f"Make them with: hubdesk keys init --dir {keys_dir}"
            )
        return cls.from_file(path)

    def apply(self, sock: zmq.Socket) -> None:
        sock.setsockopt(zmq.CURVE_SERVER, 1)
        sock.setsockopt(zmq.CURVE_SECRETKEY, self.secret.encode("ascii"))
        sock.setsockopt(zmq.CURVE_PUBLICKEY, self.public.encode("ascii"))
        sock.setsockopt(zmq.ZAP_DOMAIN, ZAP_DOMAIN.encode("ascii"))
        enforce = getattr(zmq, "ZAP_ENFORCE_DOMAIN", None)
        if enforce is not None:
            try:  # a draft option: with it, no ZAP handler means no connection
                sock.setsockopt(enforce, 1)
            except zmq.ZMQError:
                log.warning("this libzmq cannot enforce ZAP; relying on the start-up order")


# -- ZAP --------------------------------------------------------------------------------


class _HubAuthenticator(AsyncioAuthenticator):
    """zmq's asyncio authenticator, naming allowed desks and logging refused keys."""

    def __init__(self, context: zmq.asyncio.Context) -> None:
        super().__init__(context, log=logging.getLogger(f"{__name__}.zap"))
        self.names: dict[str, str] = {}
        self._refused_at: dict[str, float] = {}

    def curve_user_id(self, client_public_key: bytes) -> str:
        key = z85.encode(client_public_key).decode("ascii")
        return self.names.get(key, key)

    async def _authenticate_curve(self, domain: str, client_key: bytes) -> tuple[bool, bytes]:
        allowed, reason = await super()._authenticate_curve(domain, client_key)
        if not allowed:
            key = z85.encode(client_key).decode("ascii")
            now = time.monotonic()
            if now - self._refused_at.get(key, -_REFUSAL_LOG_EVERY) >= _REFUSAL_LOG_EVERY:
                self._refused_at[key] = now
                log.warning("refused a desk whose key is not allowed: %s", key)
        return allowed, reason


class DeskAuthenticator:
    """ZAP for the hub: allows exactly the desk keys in `allow_dir`.

    Start it inside the running loop, on the context the hub's sockets use, BEFORE they bind;
    stop it after they close. `reload()` re-reads the folder (the hub calls it on SIGHUP):
    new connections see the new list at once, but a desk already connected stays connected
    until the hub restarts.
    """

    def __init__(
        self, allow_dir: str | os.PathLike[str], *, context: zmq.asyncio.Context | None = None
    ) -> None:
        self.allow_dir = Path(allow_dir)
        self.context = context or zmq.asyncio.Context.instance()
        self._auth: _HubAuthenticator | None = None

    @property
    def running(self) -> bool:
        return self._auth is not None

    @property
    def allowed(self) -> dict[str, str]:
        """z85 public key -> desk name, as loaded."""
        return dict(self._auth.names) if self._auth is not None else {}

    def start(self) -> None:
        if self._auth is not None:
            raise RuntimeError("DeskAuthenticator already started")
        asyncio.get_running_loop()  # RuntimeError outside a loop, before binding anything
        allowed = load_allow_list(self.allow_dir)  # a clear error, never "accept everyone"
        auth = _HubAuthenticator(self.context)
        auth.start()
        try:
            self._configure(auth, allowed)
            if not auth.certs.get(ZAP_DOMAIN):
                raise SecurityError(f"No desk keys could be loaded from {self.allow_dir}.")
        except BaseException:
            auth.stop()
            raise
        self._auth = auth
        log.info("ZAP allows %d desk key(s) from %s", len(allowed), self.allow_dir)

    def reload(self) -> int:
        """Re-read the allow-list; return how many keys it allows. A folder that has become
        missing, empty or unreadable allows nobody (logged), never the old list."""
        auth = self._auth
        if auth is None:
            raise RuntimeError("DeskAuthenticator is not running")
        try:
            allowed = load_allow_list(self.allow_dir)
        except SecurityError as exc:
            log.error("allow-list reload: %s Refusing every new desk connection.", exc)
            allowed = {}
        self._configure(auth, allowed)
        log.info("allow-list reloaded: %d desk key(s) allowed", len(auth.certs.get(ZAP_DOMAIN, {})))
        return len(auth.certs.get(ZAP_DOMAIN, {}))

    def _configure(self, auth: _HubAuthenticator, allowed: dict[str, str]) -> None:
        # configure_curve keeps the OLD keys when loading fails, so clear them first.
        auth.certs[ZAP_DOMAIN] = {}
        auth.names = dict(allowed)
        if allowed:
            auth.configure_curve(domain=ZAP_DOMAIN, location=str(self.allow_dir))
        loaded = {key.decode("ascii") for key in auth.certs.get(ZAP_DOMAIN, {})}
        if loaded != set(allowed):  # the folder changed under us: trust only both readings
            auth.certs[ZAP_DOMAIN] = {k.encode("ascii"): True for k in loaded & set(allowed)}

    def stop(self) -> None:
        auth, self._auth = self._auth, None
        if auth is not None:
            with contextlib.suppress(zmq.ZMQError):
                auth.stop()
