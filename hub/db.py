"""The database engine. SQLite (WAL, foreign keys, FULL sync, `BEGIN IMMEDIATE`) by default,
PostgreSQL through psycopg 3 when given a `postgresql+psycopg://` URL."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 10_000


class DatabaseUrlError(ValueError):
    """A database URL the hub cannot use."""


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for `url`; SQLite folders are created as needed."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError with a terse message
        raise DatabaseUrlError(f"Not a database URL: {url!r}") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, parsed.database, echo=echo)
    if backend == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            raise DatabaseUrlError(
                "Use the psycopg 3 driver for PostgreSQL: postgresql+psycopg://user@host/db"
            )
        # No ping before every use (a round trip per command): a connection PostgreSQL
        # dropped (a restart, a failover) fails its first statement, SQLAlchemy throws the
        # pool's connections away, and the hub's dispatcher runs the commands again.
        return create_engine(url, echo=echo)
    raise DatabaseUrlError(f"Unsupported database {backend!r}: use sqlite or postgresql+psycopg")


def _sqlite_engine(url: str, database: str | None, *, echo: bool) -> Engine:
    if database and database != ":memory:":
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, say when a transaction begins (see "begin" below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A deferred transaction that reads then writes fails at once with "database is
        # locked" whatever busy_timeout says; BEGIN IMMEDIATE takes the write lock up front.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def watch_writes(engine: Engine) -> None:
    """Count each connection's INSERT, UPDATE and DELETE statements (see `count_writes`)."""
    if not event.contains(engine, "after_cursor_execute", _counted):
        event.listen(engine, "after_cursor_execute", _counted)


def count_writes(session: Session) -> int:
    """How many INSERT, UPDATE and DELETE statements the session's connection has run (on an
    engine given to `watch_writes`): a command refused with this unchanged wrote nothing."""
    return session.connection().info.get(_WRITES, 0)


_WRITES = "hubdesk_writes"


def _counted(
    conn: Any, _cursor: Any, _statement: str, _params: Any, context: Any, _many: bool
) -> None:
    if context is not None and (context.isinsert or context.isupdate or context.isdelete):
        conn.info[_WRITES] = conn.info.get(_WRITES, 0) + 1


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"
