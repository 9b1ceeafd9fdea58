"""Database fixtures: every command test runs on SQLite, and on PostgreSQL where a server
answers (HUBDESK_TEST_PG_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/test)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, select

from hub.clock import ManualClock
from hub.db import make_engine
from hub.dispatch import Dispatcher, Outcome
from hub.migrate import upgrade
from messaging.envelope import CommandEnvelope
from models.enums import StaffRole, StaffStatus, TeamCode
from models.tables import Shift, Staff, Team

PG_URL = os.environ.get("HUBDESK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def _pg_admin() -> Engine | None:
    try:
        engine = make_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        return engine
    except Exception:
        return None


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[Engine | None]:
    engine = _pg_admin()
    yield engine
    if engine is not None:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(
    request: pytest.FixtureRequest, tmp_path: Any, pg_admin: Engine | None
) -> Iterator[Engine]:
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
        upgrade(eng)
        yield eng
        eng.dispose()
        return
    if pg_admin is None:
        pytest.skip(f"no PostgreSQL server answered at {PG_URL} (set HUBDESK_TEST_PG_URL)")
    name = f"hubdesk_{uuid.uuid4().hex[:12]}"
    with pg_admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    eng = make_engine(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))
    try:
        upgrade(eng)
        yield eng
    finally:
        eng.dispose()
        with pg_admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@dataclass
class People:
    coordinator: int
    supervisor: int
    nurse: int
    nurse2: int
    social_worker: int
    therapist: int
    off_shift: int


def add_people(engine: Engine, now: datetime = NOW) -> People:
    """Five teams and a handful of staff, most on shift around `now`."""
    with Session(engine) as session:
        # the migrations made the five teams
        teams = {TeamCode(t.code): t for t in session.exec(select(Team))}
        assert set(teams) == set(TeamCode)

        def person(name: str, team: TeamCode, role: StaffRole, on_shift: bool = True) -> Staff:
            staff = Staff(
                name=name,
                team_id=teams[team].id,
                role=role,
                status=StaffStatus.AVAILABLE if on_shift else StaffStatus.OFF,
                patch="LE1 LE2",
            )
            session.add(staff)
            session.flush()
            if on_shift:
                session.add(
                    Shift(
                        staff_id=staff.id,
                        starts_at=now - timedelta(hours=2),
                        ends_at=now + timedelta(hours=6),
                    )
                )
            return staff

        ids = People(
            coordinator=person("Alex Morgan", TeamCode.CRISIS_RESPONSE, StaffRole.COORDINATOR).id,
            supervisor=person("Sam Okafor", TeamCode.CRISIS_RESPONSE, StaffRole.SUPERVISOR).id,
            nurse=person("Priya Shah", TeamCode.COMMUNITY_NURSING, StaffRole.CLINICIAN).id,
            nurse2=person("Tom Hughes", TeamCode.COMMUNITY_NURSING, StaffRole.CLINICIAN).id,
            social_worker=person("Jo Bell", TeamCode.CRISIS_RESPONSE, StaffRole.CLINICIAN).id,
            therapist=person("Ade Cole", TeamCode.THERAPY, StaffRole.CLINICIAN).id,
            off_shift=person("Kim Lee", TeamCode.THERAPY, StaffRole.CLINICIAN, on_shift=False).id,
        )  # type: ignore[arg-type]
        session.commit()
        return ids


class Desk:
    """Sends commands straight to the hub's dispatcher, as the command socket would."""

    def __init__(self, dispatcher: Dispatcher, actor: int, desk: str = "desk-a") -> None:
        self.dispatcher = dispatcher
        self.actor = actor
        self.desk = desk

    def send(self, command: str, args: dict[str, Any], *, command_id: str | None = None) -> Outcome:
        env = CommandEnvelope.new(command, args, actor=self.actor, desk=self.desk)
        if command_id is not None:
            env = CommandEnvelope(command_id, command, self.actor, self.desk, args)
        return self.dispatcher.handle(env)

    def ok(self, command: str, args: dict[str, Any]) -> dict[str, Any]:
        outcome = self.send(command, args)
        assert outcome.reply.ok, outcome.reply.message
        assert outcome.reply.result is not None
        return outcome.reply.result

    def refused(self, command: str, args: dict[str, Any]) -> Outcome:
        outcome = self.send(command, args)
        assert not outcome.reply.ok, f"{command} was accepted"
        assert outcome.published == []
        return outcome


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def people(engine: Engine) -> People:
    return add_people(engine)


@pytest.fixture
def dispatcher(engine: Engine, clock: ManualClock, people: People) -> Dispatcher:
    return Dispatcher(engine, clock=clock)


@pytest.fixture
def desk(dispatcher: Dispatcher, people: People) -> Desk:
    return Desk(dispatcher, people.coordinator)
