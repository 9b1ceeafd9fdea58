"""One command's changes: the audit events it appends and the updates published after commit.

The audit log is the replication log: each changed key gets one audit event, numbered with
the next sequence number, written in the same transaction as the rows. Only after the commit
are the matching CHP updates published, with the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from messaging.kvmsg import KVMsg
from models.tables import AuditEvent


@dataclass
class Changes:
    session: Session
    command_id: str
    actor_id: int | None
    desk: str
    now: datetime
    next_sequence: int
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/London"))
    published: list[KVMsg] = field(default_factory=list)

    def record(
        self,
        *,
        key: str,
        action: str,
        summary: str,
        body: dict[str, Any] | None,
        referral_id: int | None = None,
    ) -> int:
        """Append one audit event for `key` and queue its update; returns its sequence."""
        seq = self.next_sequence
        self.next_sequence += 1
        self.session.add(
            AuditEvent(
                seq=seq,
                command_id=self.command_id,
                action=action,
                key=key,
                referral_id=referral_id,
                actor_id=self.actor_id,
                desk=self.desk,
                at=self.now,
                summary=summary,
                body=body,
            )
        )
        self.published.append(KVMsg.from_json(key, seq, body, uuid=bytes.fromhex(self.command_id)))
        return seq

    @property
    def last_sequence(self) -> int | None:
        return self.published[-1].sequence if self.published else None
