"""A secure hub set up from a shell as the README describes: `hubdesk keys`, then
`hubdesk serve --keys`, then CLI commands and a desk replica with and without keys."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hub.ports import find_free_base_port
from messaging.command_client import CommandClient, HubUnavailable
from messaging.replica import Replica
from messaging.replica_events import SnapshotApplied
from messaging.security import ClientKeys, load_public_key

# 127.0.0.2 is loopback to the kernel but not to the hub's check, so serving on it proves
# that keys allow a "non-loopback" bind, without opening a port to the network.
HOST = "127.0.0.2"


def hubdesk(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        check=False,
    )


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def refused(result: subprocess.CompletedProcess, code: int, *fragments: str) -> str:
    assert result.returncode == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr
    return result.stderr


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@dataclass
class Keys:
    hub_dir: Path  # on the hub machine
    desk_dir: Path  # on the ward-1 desk machine
    other_dir: Path  # a machine the hub does not know

    @property
    def hub_public(self) -> Path:
        return self.hub_dir / "hub.key"

    def desk_secret(self, name: str = "ward-1") -> Path:
        folder = self.other_dir if name == "stranger" else self.desk_dir
        return folder / "desks" / f"{name}.key_secret"

    def flags(self, name: str = "ward-1") -> list[str | Path]:
        return ["--hub-key", self.hub_public, "--desk-key", self.desk_secret(name)]


@pytest.fixture
def keys(tmp_path: Path) -> Keys:
    made = Keys(tmp_path / "hub-keys", tmp_path / "desk-keys", tmp_path / "other-keys")
    ok(hubdesk("keys", "init", "--dir", made.hub_dir))
    ok(hubdesk("keys", "desk", "ward-1", "--dir", made.desk_dir))
    ok(hubdesk("keys", "desk", "stranger", "--dir", made.other_dir))
    ok(hubdesk("keys", "allow", made.desk_dir / "desks" / "ward-1.key", "--dir", made.hub_dir))
    return made


def test_keys_commands_write_private_secrets_and_a_usable_allow_list(keys: Keys) -> None:
    for secret in (keys.hub_dir / "hub.key_secret", keys.desk_secret(), keys.desk_secret("x")):
        assert not secret.exists() or mode(secret) == 0o600, secret
    assert keys.desk_secret().exists()
    assert mode(keys.hub_public) == 0o644
    assert mode(keys.hub_dir) == 0o700
    allowed = keys.hub_dir / "allowed" / "ward-1.key"
    ward_1 = load_public_key(keys.desk_dir / "desks" / "ward-1.key")
    assert load_public_key(allowed) == ward_1
    assert "secret" not in allowed.read_text()

    listed = ok(hubdesk("keys", "list", "--dir", keys.hub_dir))
    assert load_public_key(keys.hub_public) in listed
    assert "Allowed desks (1):" in listed
    assert f"ward-1  {ward_1}" in listed
    desk_side = ok(hubdesk("keys", "list", "--dir", keys.desk_dir))
    assert "Hub key: none" in desk_side
    assert "ward-1" in desk_side

    again = hubdesk("keys", "allow", keys.desk_dir / "desks" / "ward-1.key", "--dir", keys.hub_dir)
    assert "already allowed, as ward-1" in ok(again)
    refused(hubdesk("keys", "init", "--dir", keys.hub_dir), 1, "already exist")
    refused(hubdesk("keys", "desk", "ward-1", "--dir", keys.desk_dir), 1, "already exists")
    refused(hubdesk("keys", "desk", "../up", "--dir", keys.desk_dir), 1, "not a usable key name")
    refused(hubdesk("keys", "allow", keys.desk_secret(), "--dir", keys.hub_dir), 1, "SECRET key")
    refused(hubdesk("keys", "allow", "nowhere.key", "--dir", keys.hub_dir), 1, "No key file")
    refused(hubdesk("keys", "allow", keys.hub_public, "--dir", keys.desk_dir), 1, "No allow-list")
    refused(hubdesk("keys", "revoke", "nobody", "--dir", keys.hub_dir), 1, "No desk nobody")

    keys.desk_secret().chmod(0o644)
    listed = ok(hubdesk("keys", "list", "--dir", keys.desk_dir))
    assert f"chmod 600 {keys.desk_secret()}" in listed


@dataclass
class SecureHub:
    process: subprocess.Popen[bytes]
    port: int
    log_file: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


async def _answers(port: int, keys: Keys) -> bool:
    try:
        async with CommandClient(
            host=HOST, port=port, actor=1, desk="probe", timeout=0.5, retries=1,
            client_keys=ClientKeys.from_file(keys.desk_secret()),
            server_public_key=load_public_key(keys.hub_public),
        ) as client:  # fmt: skip
            await client.call("list_referrals", {"limit": 1})
        return True
    except HubUnavailable:
        return False


@pytest.fixture
def secure_hub(tmp_path: Path, seeded_db_template: Path, keys: Keys) -> Iterator[SecureHub]:
    db = tmp_path / "hub.db"
    shutil.copy(seeded_db_template, db)
    port = find_free_base_port(HOST)
    log_file = tmp_path / "hub.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hub.cli",
            "serve",
            "--keys",
            str(keys.hub_dir),
            "--bind",
            HOST,
            "--port",
            str(port),
            "--db",
            f"sqlite:///{db}",
            "--log-file",
            str(log_file),
        ],  # fmt: skip
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    hub = SecureHub(process, port, log_file)
    try:
        for _ in range(60):
            if process.poll() is not None:
                err = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(f"hub exited: {err}")
            if asyncio.run(_answers(port, keys)):
                break
        else:
            raise RuntimeError("the secure hub did not answer")
        yield hub
    finally:
        hub.stop()


def test_an_allowed_desk_uses_a_secure_hub_and_others_get_nothing(
    secure_hub: SecureHub, keys: Keys
) -> None:
    at = ["--host", HOST, "--port", str(secure_hub.port)]
    listed = ok(hubdesk("referral", "list", "--json", *at, *keys.flags()))
    assert listed.strip().startswith("[")
    added = hubdesk(
        "referral", "add", "--name", "Keyed Person", "--source", "gp", "--need", "CRT", *at,
        env={"HUBDESK_HUB_KEY": str(keys.hub_public), "HUBDESK_DESK_KEY": str(keys.desk_secret())},
    )  # fmt: skip
    assert "logged for Keyed Person" in ok(added)

    refused(hubdesk("referral", "list", *at), 2, "No hub answered", "--hub-key")
    refused(hubdesk("referral", "list", *at, *keys.flags("stranger")), 2, "allow-list")
    keys.desk_secret().chmod(0o644)
    refused(hubdesk("referral", "list", *at, *keys.flags()), 1, "chmod 600")
    keys.desk_secret().chmod(0o600)

    # A new desk is allowed while the hub runs: SIGHUP reloads the allow-list.
    stranger_public = keys.other_dir / "desks" / "stranger.key"
    ok(hubdesk("keys", "allow", stranger_public, "--dir", keys.hub_dir))
    secure_hub.process.send_signal(signal.SIGHUP)
    for _ in range(20):
        if hubdesk("referral", "list", *at, *keys.flags("stranger")).returncode == 0:
            break
    else:
        pytest.fail(f"SIGHUP did not reload the allow-list\n{secure_hub.log_file.read_text()}")
    assert "refused a desk whose key is not allowed" in secure_hub.log_file.read_text()


async def test_a_desk_replica_with_keys_gets_the_live_board(
    secure_hub: SecureHub, keys: Keys
) -> None:
    secured = Replica(
        host=HOST, port=secure_hub.port, desk_id="ward-1", presence={"desk": "ward-1"},
        client_keys=ClientKeys.from_file(keys.desk_secret()),
        server_public_key=load_public_key(keys.hub_public),
    )  # fmt: skip
    async with secured:
        async with asyncio.timeout(15):
            async for event in secured.events():
                if isinstance(event, SnapshotApplied):
                    break
        assert any(key.startswith("/referral/") for key in secured.data)


def test_serve_with_keys_refuses_a_missing_or_empty_allow_list(tmp_path: Path) -> None:
    base = ["--db", f"sqlite:///{tmp_path / 'hub.db'}", "--log-file", tmp_path / "hub.log"]
    base += ["--port", str(find_free_base_port())]
    folder = tmp_path / "keys"
    refused(hubdesk("serve", "--keys", folder, *base), 1, "No hub keys", "hubdesk keys init")
    ok(hubdesk("keys", "init", "--dir", folder))
    refused(hubdesk("serve", "--keys", folder, *base), 1, "is empty", "hubdesk keys allow")
    (folder / "allowed").rmdir()
    refused(hubdesk("serve", "--keys", folder, *base), 1, "does not exist")
    (folder / "hub.key_secret").chmod(0o640)
    refused(hubdesk("serve", "--keys", folder, *base), 1, "chmod 600")
    # Without keys, a bind beyond loopback still needs --insecure.
    refused(hubdesk("serve", "--bind", "0.0.0.0", *base), 1, "Refusing to listen on 0.0.0.0")


def test_desk_commands_give_one_line_errors_for_bad_key_options(tmp_path: Path) -> None:
    refused(hubdesk("desk", "--hub-key", tmp_path / "hub.key"), 1, "Give both")
    refused(
        hubdesk("desk", "--hub-key", tmp_path / "hub.key", "--desk-key", tmp_path / "d"),
        1,
        "No key file",
    )
    refused(hubdesk("handover", "--desk-key", tmp_path / "d"), 1, "Give both")
