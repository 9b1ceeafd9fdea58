"""Layers proved in a fresh interpreter: the hub never loads the desk's UI, and the CLI entry
point loads neither the UI nor the database layer until a command needs it (so `hubdesk desk`
stays light on an old PC)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import hub


def loaded_after(statement: str, roots: tuple[str, ...]) -> list[str]:
    code = (
        "import sys\n"
        f"{statement}\n"
        f"print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in {roots!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [m for m in out.stdout.strip().split(",") if m]


def test_no_hub_module_imports_textual_or_screens() -> None:
    modules = [
        m.name
        for m in pkgutil.walk_packages(hub.__path__, prefix="hub.")
        if not m.name.startswith("hub.migrations")
    ]
    assert {"hub.server", "hub.commands.visits", "hub.scheduler"} <= set(modules)
    statement = "import " + ", ".join(modules)
    assert loaded_after(statement, ("textual", "screens")) == []


def test_the_cli_entry_point_loads_no_ui_database_or_scheduler() -> None:
    heavy = ("textual", "screens", "sqlmodel", "sqlalchemy", "apscheduler", "alembic")
    assert loaded_after("import hub.cli", heavy) == []


def test_models_rules_import_without_the_database_layer() -> None:
    statement = "import models.enums, models.errors, models.nhs, models.postcode, models.clock"
    statement += ", models.lifecycle, models.text"
    assert loaded_after(statement, ("sqlmodel", "sqlalchemy", "textual", "zmq")) == []
