"""Runs commands: check the actor and their role, validate the arguments, apply the change
and its audit events, remember the reply under the command's id, commit.

Commands that arrive together run as one group commit: one transaction and one commit for
the group, with its audit events and command records written in one statement each. Refusals
found before a command writes (role, arguments, most of a handler's checks) are answered
without disturbing the group; a command refused after it wrote something, or one that fails,
spoils the transaction: it is rolled back, the commands before it run again and commit, and
the group goes on after it. Only after the commit does the caller publish the updates and
send the replies.

Two checks are optimistic, as both almost never fire and each would cost a database round
trip per group: a repeated command id (a desk's retry) shows as its command record colliding,
or as a refusal; audit events appended outside this hub show as the group's audit events
colliding on the sequence. Either way the group is rolled back, the first replies and the
last sequence are read, and the group runs again.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import ChainMap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col

from hub.changes import INSERT_AUDIT, Changes
from hub.clock import Clock, system_clock
from hub.db import count_writes, watch_writes
from hub.registry import COMMANDS
from hub.schemas import parse_args
from messaging.envelope import CommandEnvelope, Reply
from messaging.kvmsg import KVMsg
from messaging.protocol import STAFF
from models.enums import StaffRole
from models.errors import DomainError, Forbidden, NotFound
from models.tables import AuditEvent, CommandRecord, Staff

log = logging.getLogger(__name__)


_LAST_SEQUENCE = select(func.max(AuditEvent.seq))
_INSERT_RECORD = insert(CommandRecord.__table__)  # type: ignore[attr-defined]
_FIRST_REPLIES = select(CommandRecord.id, CommandRecord.reply).where(
    col(CommandRecord.id).in_(bindparam("ids", expanding=True))
)


def last_sequence(engine: Engine) -> int:
    with Session(engine) as session:
        return session.execute(_LAST_SEQUENCE).scalar_one_or_none() or 0


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
        watch_writes(engine)
        self.clock = clock
        self.tz = tz or ZoneInfo("Europe/London")
        self.sequence = last_sequence(engine)
        self.live: Mapping[str, KVMsg] | None = None  # the hub's live map, once it serves
        self._roles: dict[int, StaffRole] = {}
        self._committed: dict[str, KVMsg] = {}  # published by this batch's earlier commits
        self.sequence_jumped = False  # set when the database moved on without this hub

    def handle(self, env: CommandEnvelope) -> Outcome:
        return self.handle_batch([env])[0]

    def handle_batch(self, envs: Sequence[CommandEnvelope]) -> list[Outcome]:
        """Run `envs` in order as one group commit; one outcome each, in the same order."""
        outcomes: list[Outcome | None] = [None] * len(envs)
        todo: list[int] = []
        for i, env in enumerate(envs):
            if env.command in COMMANDS:
                todo.append(i)
            else:
                message = f"Unknown command {env.command!r}"
                outcomes[i] = Outcome(Reply.failure(env.id, "unknown_command", message))
        self._committed = {}
        reconnected = False
        try:
            while todo:
                try:
                    todo = self._group(envs, todo, outcomes)
                except DBAPIError as exc:
                    if not exc.connection_invalidated or reconnected:
                        raise
                    # The database dropped our connection (restarted): what was not committed
                    # runs again (a command that was, but whose reply was lost, is a repeat).
                    log.warning("database connection lost (%s): reconnecting", exc.orig)
                    reconnected = True
                    todo = [i for i in todo if outcomes[i] is None]
        except Exception:
            # Keep what committed (it is published and answered); the rest failed.
            log.exception("a group of %d commands failed part way", len(envs))
            for i, env in enumerate(envs):
                if outcomes[i] is None:
                    outcomes[i] = Outcome(Reply.internal(env.id))
        finally:
            self._committed = {}
        assert all(outcome is not None for outcome in outcomes)
        return [outcome for outcome in outcomes if outcome is not None]

    def _group(
        self,
        envs: Sequence[CommandEnvelope],
        todo: list[int],
        outcomes: list[Outcome | None],
        known: dict[str, Reply] | None = None,
    ) -> list[int]:
        """Run `envs[i] for i in todo` in one transaction; fill in their outcomes once it
        commits, and return the commands still to run.

        A command refused after it changed something spoils the transaction: roll it back,
        commit the commands before it again (they went through on this same state), refuse
        it, and return the ones after it. If the group's own rows collide (a repeated command
        id, or audit events appended outside this hub), look both up and run it again."""
        start = self.sequence
        done: dict[int, Outcome] = {}
        try:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                group = _Group(session, dict(known or {}), dict(self._committed))
                for position, i in enumerate(todo):
                    if not COMMANDS[envs[i].command].writes:
                        group.write()  # reads see the group's changes so far
                    try:
                        done[i] = self._run(group, envs[i])
                    except Exception as exc:  # noqa: BLE001 - one command's fault, not the group's
                        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
                            raise  # the database's fault: the whole group runs again
                        raise _Spoilt(position, exc) from exc
                group.write()
        except _Spoilt as spoilt:
            self.sequence = start
            self._roles.clear()
            before, refused = todo[: spoilt.position], todo[spoilt.position]
            while before:  # went through once on this state: they go through again
                before = self._group(envs, before, outcomes, known)
            outcomes[refused] = self._refusal(envs[refused], spoilt.exc)
            return todo[spoilt.position + 1 :]
        except IntegrityError as exc:
            self.sequence = start
            self._roles.clear()
            if known is None:
                caught_up = self._caught_up()
                seen = self._first_replies([envs[i].id for i in todo])
                if caught_up or seen:
                    return self._group(envs, todo, outcomes, seen)
            if len(todo) == 1:
                outcomes[todo[0]] = self._refusal(envs[todo[0]], exc)
                return []
            for i in todo:  # which of them? each on its own
                self._group(envs, [i], outcomes, known)
            return []
        except BaseException:
            self.sequence = start
            self._roles.clear()  # roles read in a transaction that was rolled back
            raise
        # committed: later transactions of this batch see these bodies, before the live map
        published = [m for outcome in done.values() for m in outcome.published]
        self._committed.update((m.key, m) for m in published)
        self._forget_roles(published)
        for i, outcome in done.items():
            outcomes[i] = outcome
        return []

    def _run(self, group: _Group, env: CommandEnvelope) -> Outcome:
        """One command inside a group. A refusal before anything was written is answered
        here; one after (raised) spoils the group's transaction."""
        spec = COMMANDS[env.command]
        first = group.replies.get(env.id) if spec.writes else None
        if first is not None:
            log.info("command %s repeated by desk %s: first reply returned", env.id, env.desk)
            return Outcome(first)
        session = group.session
        try:
            role = self._role_of(session, env.actor)
            if role not in spec.roles:
                raise Forbidden(f"A {role} cannot {env.command.replace('_', ' ')}")
            args = parse_args(spec.args, env.args)
            changes = self._changes(session, env.id, env.actor, env.desk, group.pending)
            if not spec.writes:
                return Outcome(Reply.success(env.id, spec.handler(changes, args), None))
        except DomainError as exc:
            return self._refusal(env, exc, session)
        writes = count_writes(session)
        try:
            result = spec.handler(changes, args)
        except DomainError as exc:
            if count_writes(session) != writes or session.new or session.dirty or session.deleted:
                raise  # it changed something first: spoils the group
            return self._refusal(env, exc, session)  # refused before it wrote: the usual case
        reply = Reply.success(env.id, result, changes.last_sequence or self.sequence)
        session.flush()
        group.audit_rows.extend(changes.take_audit_rows())
        group.records.append(
            {
                "id": env.id,
                "command": env.command,
                "actor_id": env.actor,
                "desk": env.desk,
                "at": changes.now,
                "reply": json.loads(reply.to_bytes()),
            }
        )
        group.replies[env.id] = reply
        if changes.published:
            self.sequence = changes.published[-1].sequence
            group.pending.update((m.key, m) for m in changes.published)
        return Outcome(reply, changes.published)

    def _first_replies(self, ids: list[str], session: Session | None = None) -> dict[str, Reply]:
        """First replies of the commands among `ids` that already ran (a desk's retry)."""
        if session is None:
            with Session(self.engine) as own:
                return self._first_replies(ids, own)
        rows = session.connection().execute(_FIRST_REPLIES, {"ids": ids})
        return {id_: Reply.from_bytes(json.dumps(reply).encode()) for id_, reply in rows}

    def _refusal(
        self, env: CommandEnvelope, exc: Exception, session: Session | None = None
    ) -> Outcome:
        """Why `env` was refused; or, if it is a desk's retry of a command that went through
        (a retried triage finds the referral triaged), its first reply."""
        if COMMANDS[env.command].writes:
            first = self._first_replies([env.id], session).get(env.id)
            if first is not None:
                log.info("command %s repeated by desk %s: first reply returned", env.id, env.desk)
                return Outcome(first)
        if isinstance(exc, DomainError):
            return Outcome(
                Reply.failure(env.id, exc.code, exc.message, getattr(exc, "field", None))
            )
        if isinstance(exc, StaleDataError):
            return Outcome(
                Reply.failure(
                    env.id,
                    "stale_version",
                    "Someone changed this at the same moment: reload and try again",
                )
            )
        if isinstance(exc, IntegrityError):
            log.warning("command %s refused by the database: %s", env.id, exc.orig)
            return Outcome(
                Reply.failure(env.id, "conflict", "The change conflicts with data already saved")
            )
        log.error("command %s (%s) failed", env.id, env.command, exc_info=exc)
        return Outcome(Reply.internal(env.id))

    def _caught_up(self) -> bool:
        """The hub is the only writer, but trust the database over memory: if someone else
        appended audit events (hubdesk init --admin against a running hub, a second hub),
        carry on from the database's last sequence instead of failing every write, and say
        so, so the hub can reload what it serves (`sequence_jumped`). True if it moved."""
        current = last_sequence(self.engine)
        if current == self.sequence:
            return False
        log.warning(
            "audit log moved from %d to %d outside this hub: catching up", self.sequence, current
        )
        self.sequence = current
        self.sequence_jumped = True
        self._roles.clear()
        return True

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

    def _changes(
        self,
        session: Session,
        command_id: str,
        actor: int | None,
        desk: str,
        pending: Mapping[str, KVMsg] | None = None,
    ) -> Changes:
        live: Mapping[str, KVMsg] | None = self.live
        if pending:  # bodies published earlier in this group win over the live map's
            live = pending if live is None else ChainMap(pending, live)  # type: ignore[arg-type]
        return Changes(
            session=session,
            command_id=command_id,
            actor_id=actor,
            desk=desk,
            now=self.clock(),
            next_sequence=self.sequence + 1,
            tz=self.tz,
            live=live,
        )

    def record_system_change(
        self, action: str, apply: Callable[[Changes], None], *, desk: str = "hub"
    ) -> list[KVMsg]:
        """Commit a change the hub makes itself (presence, scheduler) with audit events.

        `apply(changes)` records its keys; returns the updates to publish after commit. It may
        run again (after a lost connection, or events appended outside this hub), so it must
        keep nothing from a run that was rolled back."""
        caught_up = reconnected = False
        while True:
            try:
                return self._system_change(apply, desk)
            except IntegrityError:
                if caught_up or not self._caught_up():
                    raise
                caught_up = True  # numbered after the events found: run it again
            except DBAPIError as exc:
                if not exc.connection_invalidated or reconnected:
                    raise
                log.warning("database connection lost (%s): reconnecting", exc.orig)
                reconnected = True

    def _system_change(self, apply: Callable[[Changes], None], desk: str) -> list[KVMsg]:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            changes = self._changes(session, uuid.uuid4().hex, None, desk)
            apply(changes)
            session.flush()
            changes.write_audit()
        self.sequence = changes.next_sequence - 1
        self._forget_roles(changes.published)
        return changes.published


@dataclass
class _Group:
    """One group commit in progress: its session, and what its commands leave to write at
    the end (audit events and command records, each in one statement)."""

    session: Session
    replies: dict[str, Reply]
    """First replies by command id: found in the database, or given earlier in the group."""
    pending: dict[str, KVMsg] = field(default_factory=dict)
    """Bodies published earlier in the group, not yet in the live map."""
    audit_rows: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)

    def write(self) -> None:
        connection = self.session.connection()
        if self.audit_rows:
            connection.execute(INSERT_AUDIT, self.audit_rows)
            self.audit_rows = []
        if self.records:
            connection.execute(_INSERT_RECORD, self.records)
            self.records = []


class _Spoilt(Exception):
    """A command in a group was refused after it changed something."""

    def __init__(self, position: int, exc: Exception) -> None:
        super().__init__(position, exc)
        self.position = position
        self.exc = exc
