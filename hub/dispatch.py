"""Runs one command: check the actor and their role, validate the arguments, apply the change
and its audit events in ONE transaction, remember the reply under the command's id, commit.

Only after the commit does the caller publish the updates and send the reply. A command id
seen before gets its first reply back and changes nothing.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, select

from hub.changes import Changes
from hub.clock import Clock, system_clock
from hub.registry import COMMANDS
from hub.schemas import parse_args
from messaging.envelope import CommandEnvelope, Reply
from messaging.kvmsg import KVMsg
from messaging.protocol import STAFF
from models.enums import StaffRole
from models.errors import DomainError, Forbidden, NotFound
from models.tables import AuditEvent, CommandRecord, Staff

log = logging.getLogger(__name__)


def last_sequence(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.max(AuditEvent.seq))).one() or 0


@dataclass
class Outcome:
    reply: Reply
    published: list[KVMsg] = field(default_factory=list)


class Dispatcher:
    """The hub's single writer. Not thread-safe by design: call it from one task."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock = system_clock,
        tz: ZoneInfo | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.tz = tz or ZoneInfo("Europe/London")
        self.sequence = last_sequence(engine)
        self.live: Mapping[str, KVMsg] | None = None  # the hub's live map, once it serves
        self._roles: dict[int, StaffRole] = {}
        self.sequence_jumped = False  # set when the database moved on without this hub

    def handle(self, env: CommandEnvelope) -> Outcome:
        spec = COMMANDS.get(env.command)
        if spec is None:
            return Outcome(
                Reply.failure(env.id, "unknown_command", f"Unknown command {env.command!r}")
            )
        try:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                if spec.writes:
                    seen = session.get(CommandRecord, env.id)
                    if seen is not None:
                        log.info(
                            "command %s repeated by desk %s: first reply returned",
                            env.id,
                            env.desk,
                        )
                        return Outcome(Reply.from_bytes(json.dumps(seen.reply).encode()))
                if spec.writes:
                    self._catch_up(session)
                role = self._role_of(session, env.actor)
                if role not in spec.roles:
                    raise Forbidden(f"A {role} cannot {env.command.replace('_', ' ')}")
                args = parse_args(spec.args, env.args)
                changes = self._changes(session, env.id, env.actor, env.desk)
                if not spec.writes:
                    return Outcome(Reply.success(env.id, spec.handler(changes, args), None))
                result = spec.handler(changes, args)
                reply = Reply.success(env.id, result, changes.last_sequence or self.sequence)
                session.flush()
                changes.write_audit()
                record = {
                    "id": env.id,
                    "command": env.command,
                    "actor_id": env.actor,
                    "desk": env.desk,
                    "at": changes.now,
                    "reply": json.loads(reply.to_bytes()),
                }
                session.execute(insert(CommandRecord.__table__), [record])  # type: ignore[attr-defined]
            # committed
            self.sequence = changes.next_sequence - 1
            self._forget_roles(changes.published)
            return Outcome(reply, changes.published)
        except DomainError as exc:
            return Outcome(
                Reply.failure(env.id, exc.code, exc.message, getattr(exc, "field", None))
            )
        except StaleDataError:
            return Outcome(
                Reply.failure(
                    env.id,
                    "stale_version",
                    "Someone changed this at the same moment: reload and try again",
                )
            )
        except IntegrityError as exc:
            log.warning("command %s refused by the database: %s", env.id, exc.orig)
            return Outcome(
                Reply.failure(env.id, "conflict", "The change conflicts with data already saved")
            )

    def _catch_up(self, session: Session) -> None:
        """The hub is the only writer, but trust the database over memory: if someone else
        appended audit events (hubdesk init --admin against a running hub, a second hub),
        carry on from the database's last sequence instead of failing every write, and say
        so, so the hub can reload what it serves (`sequence_jumped`)."""
        current = session.exec(select(func.max(AuditEvent.seq))).one() or 0
        if current != self.sequence:
            log.warning(
                "audit log moved from %d to %d outside this hub: catching up",
                self.sequence,
                current,
            )
            self.sequence = current
            self.sequence_jumped = True
            self._roles.clear()

    def _role_of(self, session: Session, staff_id: int) -> StaffRole:
        """The acting staff member's role, from a cache kept fresh by every /staff/ update."""
        role = self._roles.get(staff_id)
        if role is None:
            actor = session.get(Staff, staff_id)
            if actor is None:
                raise NotFound(f"No staff member with id {staff_id}: check --as")
            role = self._roles[staff_id] = StaffRole(actor.role)
        return role

    def _forget_roles(self, published: list[KVMsg]) -> None:
        if any(m.key.startswith(STAFF) for m in published):
            self._roles.clear()

    def _changes(self, session: Session, command_id: str, actor: int | None, desk: str) -> Changes:
        return Changes(
            session=session,
            command_id=command_id,
            actor_id=actor,
            desk=desk,
            now=self.clock(),
            next_sequence=self.sequence + 1,
            tz=self.tz,
            live=self.live,
        )

    def record_system_change(self, action: str, apply: Any, *, desk: str = "hub") -> list[KVMsg]:
        """Commit a change the hub makes itself (presence, scheduler) with audit events.

        `apply(changes)` records its keys; returns the updates to publish after commit."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            self._catch_up(session)
            changes = self._changes(session, uuid.uuid4().hex, None, desk)
            apply(changes)
            session.flush()
            changes.write_audit()
        self.sequence = changes.next_sequence - 1
        self._forget_roles(changes.published)
        return changes.published
