"""CURVE + ZAP on real sockets: only desks on the allow-list get anything from the hub."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import zmq
import zmq.asyncio

from messaging.command_client import CommandClient, HubUnavailable
from messaging.hub_sockets import HubSockets
from messaging.protocol import ICANHAZ, Ports
from messaging.replica import Replica, Resyncing, SnapshotApplied
from messaging.security import (
    ALLOWED_DIR,
    ClientKeys,
    DeskAuthenticator,
    SecurityError,
    ServerKeys,
    load_allow_list,
    load_key_pair,
    load_public_key,
    write_key_pair,
    write_public_key,
)
from messaging.sockets import close_socket, new_socket
from tests.messaging.conftest import HEARTBEAT, SEED, Pump, Store

SHORT = 0.5  # how long a refused desk waits before we call it "got nothing"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@dataclass
class Keyring:
    keys_dir: Path
    hub: ServerKeys
    allowed: ClientKeys
    stranger: ClientKeys
    stranger_public: Path

    @property
    def allow_dir(self) -> Path:
        return self.keys_dir / ALLOWED_DIR


@pytest.fixture
def keyring(tmp_path: Path) -> Keyring:
    keys_dir = tmp_path / "keys"
    write_key_pair(keys_dir, "hub")
    (keys_dir / ALLOWED_DIR).mkdir()
    desk_public, desk_secret = write_key_pair(tmp_path / "desk-pc", "ward-1")
    stranger_public, stranger_secret = write_key_pair(tmp_path / "elsewhere", "stranger")
    write_public_key(keys_dir / ALLOWED_DIR / "ward-1.key", load_public_key(desk_public))
    return Keyring(
        keys_dir=keys_dir,
        hub=ServerKeys.from_dir(keys_dir),
        allowed=ClientKeys.from_file(desk_secret),
        stranger=ClientKeys.from_file(stranger_secret),
        stranger_public=stranger_public,
    )


@dataclass
class SecureHub:
    sockets: HubSockets
    authenticator: DeskAuthenticator
    keyring: Keyring
    port: int

    def curve(self, keys: ClientKeys | None) -> dict[str, Any]:
        if keys is None:
            return {}
        return {"client_keys": keys, "server_public_key": self.keyring.hub.public}


@pytest.fixture
async def secure_hub(base_port: int, store: Store, keyring: Keyring) -> AsyncIterator[SecureHub]:
    context = zmq.asyncio.Context()
    authenticator = DeskAuthenticator(keyring.allow_dir, context=context)
    authenticator.start()
    sockets = HubSockets(
        port=base_port,
        on_command=store.on_command,
        on_presence=store.on_presence,
        heartbeat_interval=HEARTBEAT,
        server_keys=keyring.hub,
        authenticator=authenticator,
    )
    store.hub = sockets
    sockets.load(SEED, 2)
    await sockets.start()
    try:
        yield SecureHub(sockets, authenticator, keyring, base_port)
    finally:
        await sockets.stop()
        authenticator.stop()
        context.destroy(linger=0)


@pytest.fixture
async def desk(secure_hub: SecureHub, make_replica: Callable[..., Pump]) -> Callable[..., Pump]:
    def make(desk_id: str, keys: ClientKeys | None, **kwargs: Any) -> Pump:
        return make_replica(desk_id, presence={"desk": desk_id}, **secure_hub.curve(keys), **kwargs)

    return make


async def call(hub: SecureHub, keys: ClientKeys | None, *, timeout: float = 5.0) -> dict:
    async with CommandClient(
        port=hub.port, actor=1, desk="d", timeout=timeout, retries=1, **hub.curve(keys)
    ) as client:
        return await client.call("put", {"key": "/referral/9", "body": {"patient": "Bo"}})


async def assert_gets_nothing(hub: SecureHub, desk: Callable[..., Pump], keys: Any) -> None:
    refused = desk("desk-refused", keys)
    await refused.expect(Resyncing, lambda e: e.reason == "hub unreachable")
    assert not any(isinstance(e, SnapshotApplied) for e in refused.seen)
    assert refused.replica.data == {}
    with pytest.raises(HubUnavailable):
        await call(hub, keys, timeout=SHORT)


# -- who gets in ------------------------------------------------------------------------


async def test_an_allowed_desk_gets_a_snapshot_and_a_command_reply(
    secure_hub: SecureHub, desk: Callable[..., Pump]
) -> None:
    pump = desk("ward-1", secure_hub.keyring.allowed)
    snapshot = await pump.expect(SnapshotApplied)
    assert snapshot.count == 2
    assert pump.replica.data["/referral/1"]["patient"] == "Ada"
    result = await call(secure_hub, secure_hub.keyring.allowed)
    assert result == {"key": "/referral/9"}
    await pump.expect(object, lambda _: "/referral/9" in pump.replica.data)


async def test_a_desk_key_not_on_the_allow_list_gets_nothing_and_the_hub_serves_on(
    secure_hub: SecureHub, desk: Callable[..., Pump], store: Store
) -> None:
    await assert_gets_nothing(secure_hub, desk, secure_hub.keyring.stranger)
    assert store.calls == []
    assert store.presence == []  # its presence never reached the hub either
    allowed = desk("ward-1", secure_hub.keyring.allowed)
    await allowed.expect(SnapshotApplied)
    assert await call(secure_hub, secure_hub.keyring.allowed) == {"key": "/referral/9"}


async def test_a_desk_without_curve_gets_nothing(
    secure_hub: SecureHub, desk: Callable[..., Pump]
) -> None:
    await assert_gets_nothing(secure_hub, desk, None)


async def test_a_desk_with_the_wrong_hub_key_gets_nothing(
    secure_hub: SecureHub, keyring: Keyring
) -> None:
    with pytest.raises(HubUnavailable):
        async with CommandClient(
            port=secure_hub.port, actor=1, desk="d", timeout=SHORT, retries=1,
            client_keys=keyring.allowed, server_public_key=keyring.stranger.public,
        ) as client:  # fmt: skip
            await client.call("put", {"key": "/referral/9", "body": {}})


async def test_a_raw_snapshot_request_without_keys_times_out(secure_hub: SecureHub) -> None:
    context = zmq.asyncio.Context.instance()
    dealer = new_socket(context, zmq.DEALER)
    try:
        dealer.connect(f"tcp://127.0.0.1:{Ports.from_base(secure_hub.port).snapshot}")
        await dealer.send_multipart([ICANHAZ, b""])
        assert await dealer.poll(int(SHORT * 1000), zmq.POLLIN) == 0
    finally:
        close_socket(dealer)


async def test_a_refused_key_is_logged(
    secure_hub: SecureHub, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.WARNING, logger="messaging.security"),
        pytest.raises(HubUnavailable),
    ):
        await call(secure_hub, secure_hub.keyring.stranger, timeout=SHORT)
    assert secure_hub.keyring.stranger.public in caplog.text


# -- the allow-list changes -------------------------------------------------------------


async def test_reload_lets_a_new_desk_in_and_keeps_a_revoked_one_out(
    secure_hub: SecureHub,
) -> None:
    keyring = secure_hub.keyring
    with pytest.raises(HubUnavailable):
        await call(secure_hub, keyring.stranger, timeout=SHORT)
    new_entry = keyring.allow_dir / "stranger.key"
    write_public_key(new_entry, load_public_key(keyring.stranger_public))
    assert secure_hub.authenticator.reload() == 2
    assert secure_hub.authenticator.allowed[keyring.stranger.public] == "stranger"
    assert await call(secure_hub, keyring.stranger) == {"key": "/referral/9"}

    new_entry.unlink()
    assert secure_hub.authenticator.reload() == 1
    with pytest.raises(HubUnavailable):
        await call(secure_hub, keyring.stranger, timeout=SHORT)


async def test_revoking_a_key_does_not_drop_a_desk_already_connected(
    secure_hub: SecureHub,
) -> None:
    """The documented limit: restart the hub to drop a revoked desk that is connected."""
    keyring = secure_hub.keyring
    async with CommandClient(
        port=secure_hub.port, actor=1, desk="d", timeout=5, retries=1, **secure_hub.curve(
            keyring.allowed
        )
    ) as client:  # fmt: skip
        await client.call("put", {"key": "/referral/9", "body": {}})
        (keyring.allow_dir / "ward-1.key").unlink()
        assert secure_hub.authenticator.reload() == 0
        await client.call("put", {"key": "/referral/10", "body": {}})  # same connection
    with pytest.raises(HubUnavailable):
        await call(secure_hub, keyring.allowed, timeout=SHORT)  # a new connection


async def test_a_missing_allow_list_on_reload_allows_nobody(secure_hub: SecureHub) -> None:
    allow_dir = secure_hub.keyring.allow_dir
    allow_dir.rename(allow_dir.with_name("moved"))
    assert secure_hub.authenticator.reload() == 0
    with pytest.raises(HubUnavailable):
        await call(secure_hub, secure_hub.keyring.allowed, timeout=SHORT)


async def test_a_hub_whose_authenticator_stopped_refuses_everyone(secure_hub: SecureHub) -> None:
    """ZAP_ENFORCE_DOMAIN: with no ZAP handler a CURVE server must not fall back to 'accept'."""
    secure_hub.authenticator.stop()
    with pytest.raises(HubUnavailable):
        await call(secure_hub, secure_hub.keyring.allowed, timeout=SHORT)


# -- start-up guards --------------------------------------------------------------------


async def test_curve_without_zap_is_refused(base_port: int, store: Store, keyring: Keyring) -> None:
    with pytest.raises(ValueError, match="together"):
        HubSockets(port=base_port, on_command=store.on_command, server_keys=keyring.hub)
    authenticator = DeskAuthenticator(keyring.allow_dir, context=zmq.asyncio.Context())
    sockets = HubSockets(
        port=base_port,
        on_command=store.on_command,
        server_keys=keyring.hub,
        authenticator=authenticator,
    )
    with pytest.raises(RuntimeError, match="before"):
        await sockets.start()  # the authenticator was never started
    with pytest.raises(ValueError, match="context"):
        HubSockets(
            port=base_port,
            on_command=store.on_command,
            server_keys=keyring.hub,
            authenticator=authenticator,
            context=zmq.asyncio.Context.instance(),
        )
    authenticator.context.destroy(linger=0)


async def test_a_missing_allow_list_is_a_startup_error(tmp_path: Path) -> None:
    authenticator = DeskAuthenticator(tmp_path / "nowhere", context=zmq.asyncio.Context())
    with pytest.raises(SecurityError, match="does not exist"):
        authenticator.start()
    assert not authenticator.running
    (tmp_path / "empty").mkdir()
    authenticator = DeskAuthenticator(tmp_path / "empty", context=authenticator.context)
    with pytest.raises(SecurityError, match="is empty"):
        authenticator.start()
    authenticator.context.destroy(linger=0)


def test_a_bad_file_in_the_allow_list_is_an_error(keyring: Keyring) -> None:
    (keyring.allow_dir / "junk.key").write_text("not a key\n")
    with pytest.raises(SecurityError, match="junk.key is not a key file"):
        load_allow_list(keyring.allow_dir)


def test_client_keys_need_the_hub_key_too(keyring: Keyring) -> None:
    with pytest.raises(ValueError, match="both"):
        Replica(desk_id="d", client_keys=keyring.allowed)
    with pytest.raises(ValueError, match="both"):
        CommandClient(actor=1, desk="d", server_public_key=keyring.hub.public)


# -- key files --------------------------------------------------------------------------


def test_written_secret_keys_are_0600_and_public_keys_0644(tmp_path: Path) -> None:
    public, secret = write_key_pair(tmp_path / "new", "desk-7")
    assert mode(secret) == 0o600
    assert mode(public) == 0o644
    assert mode(tmp_path / "new") == 0o700
    pub, sec = load_key_pair(secret)
    assert load_public_key(public) == pub
    assert len(sec) == 40
    with pytest.raises(SecurityError, match="already exists"):
        write_key_pair(tmp_path / "new", "desk-7")


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_a_secret_key_file_readable_by_others_is_refused_with_the_fix(tmp_path: Path) -> None:
    _, secret = write_key_pair(tmp_path, "desk-8")
    secret.chmod(0o644)
    for load in (ClientKeys.from_file, ServerKeys.from_file):
        with pytest.raises(SecurityError) as caught:
            load(secret)
        message = str(caught.value)
        assert str(secret) in message
        assert f"chmod 600 {secret}" in message
        assert "0644" in message


def test_bad_key_files_give_clear_messages(tmp_path: Path, keyring: Keyring) -> None:
    public, secret = write_key_pair(tmp_path, "desk-9")
    cases: list[tuple[Callable[[Path], object], Path, str]] = [
        (ClientKeys.from_file, tmp_path / "missing.key_secret", "No key file"),
        (ClientKeys.from_file, public, "only a public key"),
        (load_public_key, secret, "SECRET key"),
        (ClientKeys.from_file, tmp_path, "not a key file"),
    ]
    garbled = tmp_path / "garbled.key"
    garbled.write_text('curve\n    public-key = "short"\n')
    cases.append((load_public_key, garbled, "not hold a valid CURVE public key"))
    mixed = tmp_path / "mixed.key_secret"
    mixed.write_text(
        f'curve\n    public-key = "{keyring.stranger.public}"\n'
        f'    secret-key = "{keyring.allowed.secret}"\n'
    )
    mixed.chmod(0o600)
    cases.append((ClientKeys.from_file, mixed, "do not belong together"))
    for load, path, message in cases:
        with pytest.raises(SecurityError, match=message):
            load(path)
    with pytest.raises(SecurityError, match="hubdesk keys init"):
        ServerKeys.from_dir(tmp_path / "no-keys")
    with pytest.raises(SecurityError, match="not a usable key name"):
        write_key_pair(tmp_path, "../escape")


def test_secret_keys_stay_out_of_reprs(keyring: Keyring) -> None:
    assert keyring.allowed.secret not in repr(keyring.allowed)
    assert keyring.hub.secret not in repr(keyring.hub)


async def test_the_refused_desk_does_not_stall_the_event_loop(
    secure_hub: SecureHub, desk: Callable[..., Pump]
) -> None:
    """A refused desk keeps retrying its handshake; allowed traffic still flows meanwhile."""
    stranger = desk("desk-refused", secure_hub.keyring.stranger)
    await asyncio.sleep(SHORT)
    for n in range(5):
        await call(secure_hub, secure_hub.keyring.allowed)
        assert secure_hub.sockets.live.get("/referral/9") is not None, n
    assert stranger.replica.data == {}
