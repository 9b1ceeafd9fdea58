"""`hubdesk desk` reads a plain command line without typer (and so without pydantic), the
same way typer would; anything else goes to typer, which explains it as before."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hub import cli, cli_app

ENV_VARS = [opt.envvar for opt in cli.DESK_OPTIONS.values() if opt.envvar]


@pytest.fixture(autouse=True)
def no_desk_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


def typer_reads(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], env: dict[str, str]
) -> dict[str, Any] | None:
    """What typer's `desk` command would pass to `open_desk`; None if typer refuses."""
    seen: dict[str, Any] = {}
    monkeypatch.setattr(cli_app, "open_desk", lambda **kwargs: seen.update(kwargs))
    result = CliRunner().invoke(cli_app.app, ["desk", *argv], env=env)
    return seen if result.exit_code == 0 and seen else None


@pytest.mark.parametrize(
    ("argv", "env"),
    [
        ([], {}),
        (["--host", "10.1.2.3", "--port", "6000", "--as", "7", "--desk-id", "ward-3"], {}),
        (["--host=hub.local", "--port=65531", "--as=0", "--desk-id=w"], {}),
        (["--hub-key", "keys/hub.key", "--desk-key", "keys/ward.key_secret"], {}),
        (["--log-file", "/tmp/desk.log"], {}),
        ([], {"HUBDESK_HOST": "hub.lan", "HUBDESK_PORT": "1024", "HUBDESK_AS": "12"}),
        ([], {"HUBDESK_DESK": "ward-9", "HUBDESK_HUB_KEY": "h.key", "HUBDESK_DESK_KEY": "d"}),
        ([], {"HUBDESK_DESK_LOG": "/tmp/x.log", "HUBDESK_HOST": ""}),  # empty: unset
        (["--port", "6000"], {"HUBDESK_PORT": "7000"}),  # the command line wins
        (["--desk-id", "Ward 3 (bay)"], {}),
    ],
)
def test_the_quick_path_reads_plain_command_lines_as_typer_does(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], env: dict[str, str]
) -> None:
    quick = cli.desk_args(argv, env)
    assert quick is not None
    assert quick == typer_reads(monkeypatch, argv, env)


@pytest.mark.parametrize(
    ("argv", "env"),
    [
        (["--help"], {}),
        (["--bogus"], {}),
        (["extra"], {}),
        (["--port"], {}),
        (["--port", "80"], {}),
        (["--port", "99999"], {}),
        (["--port", "05570"], {}),
        (["--port", "5570", "--port", "5571"], {}),
        (["--as", "-1"], {}),
        (["--as", "x"], {}),
        (["--host", ""], {}),
        (["--desk-id", "-odd"], {}),
        ([], {"HUBDESK_PORT": "abc"}),
        ([], {"HUBDESK_AS": " 1"}),
    ],
)
def test_anything_else_is_left_to_typer(argv: list[str], env: dict[str, str]) -> None:
    assert cli.desk_args(argv, env) is None


def test_typer_still_refuses_what_the_quick_path_leaves_to_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for argv in (["--port", "80"], ["--as", "x"], ["--bogus"], ["extra"]):
        assert typer_reads(monkeypatch, argv, {}) is None


def test_typer_shows_every_option_of_the_quick_path_with_its_variable() -> None:
    help_text = CliRunner().invoke(cli_app.app, ["desk", "--help"], env={"COLUMNS": "200"})
    for opt in cli.DESK_OPTIONS.values():
        assert opt.flag in help_text.output
        assert opt.envvar in help_text.output


def run_hubdesk(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
        cwd=Path(__file__).resolve().parents[2],
        check=False,
    )


LOADED_AFTER_MAIN = (
    "import sys\n"
    "from hub.cli import main\n"
    "sys.argv = ['hubdesk', *sys.argv[1:]]\n"
    "try:\n"
    "    main()\n"
    "finally:\n"
    "    heavy = ('typer', 'pydantic', 'pydantic_core', 'textual')\n"
    "    print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))\n"
)


def test_a_desk_launch_loads_neither_typer_nor_pydantic() -> None:
    bad_host = run_hubdesk(LOADED_AFTER_MAIN, "desk", "--host", "no such host!")
    assert bad_host.returncode == 1
    assert "Cannot reach hub at no such host!:" in bad_host.stderr
    assert "Traceback" not in bad_host.stderr
    assert bad_host.stdout.strip() == "[]"  # it failed before the UI loaded, as it should


def test_help_and_mistakes_still_get_typers_own_words() -> None:
    shown = run_hubdesk(LOADED_AFTER_MAIN, "desk", "--help")
    assert shown.returncode == 0
    assert "Open a desk: the live referral board of a running hub." in shown.stdout
    assert "HUBDESK_DESK_KEY" in shown.stdout
    wrong = run_hubdesk(LOADED_AFTER_MAIN, "desk", "--port", "99999")
    assert wrong.returncode == 2
    assert "65531" in wrong.stderr
    assert "Traceback" not in wrong.stderr


def test_import_of_the_entry_point_loads_neither_typer_nor_pydantic() -> None:
    done = run_hubdesk(
        "import sys, hub.cli\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'typer', 'pydantic'}))\n"
    )
    assert done.stdout.strip() == "[]", done.stderr
