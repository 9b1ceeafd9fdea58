"""One command's changes: the audit events it appends and the updates published after commit.

The audit log is the replication log: each changed key gets one audit event, numbered with
the next sequence number, written in the same transaction as the rows. Only after the commit
are the matching CHP updates published, with the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlmodel import Session

from messaging.kvmsg import KVMsg
from models.tables import AuditEvent

INSERT_AUDIT = insert(AuditEvent.__table__)  # type: ignore[attr-defined]
"""Audit events, many at once (the list of rows `record` builds)."""


@dataclass
class Changes:
    session: Session
    command_id: str
    actor_id: int | None
    desk: str
    now: datetime
    next_sequence: int
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/London"))
    live: Mapping[str, KVMsg] | None = None
    """The hub's live map as last published, for bodies a command leaves unchanged."""
    published: list[KVMsg] = field(default_factory=list)
    audit_rows: list[dict[str, Any]] = field(default_factory=list)

    def record(
        self,
        *,
        key: str,
        action: str,
        summary: str,
        body: dict[str, Any] | None,
        referral_id: int | None = None,
    ) -> int:
        """Append one audit event for `key` and queue its update; returns its sequence.

        The events are inserted together by `write_audit()` (or by whoever takes them with
        `take_audit_rows()`), in the same transaction."""
        seq = self.next_sequence
        self.next_sequence += 1
        self.audit_rows.append(
            {
                "seq": seq,
                "command_id": self.command_id,
                "action": action,
                "key": key,
                "referral_id": referral_id,
                "actor_id": self.actor_id,
                "desk": self.desk,
                "at": self.now,
                "summary": summary,
                "body": body,
            }
        )
        self.published.append(KVMsg.from_json(key, seq, body, uuid=bytes.fromhex(self.command_id)))
        return seq

    def live_body(self, key: str) -> dict[str, Any] | None:
        """The body last published for `key`, if the hub's live map has it."""
        if self.live is None or key not in self.live:
            return None
        return self.live[key].json()

    def take_audit_rows(self) -> list[dict[str, Any]]:
        """The recorded audit events, for the caller to insert (before the commit)."""
        rows, self.audit_rows = self.audit_rows, []
        return rows

    def write_audit(self) -> None:
        """Insert the recorded audit events in one statement (before the commit)."""
        if self.audit_rows:
            self.session.connection().execute(INSERT_AUDIT, self.audit_rows)
            self.audit_rows = []

    @property
    def last_sequence(self) -> int | None:
        return self.published[-1].sequence if self.published else None
