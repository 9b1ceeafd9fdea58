"""Group commit: commands that arrive together share one transaction, and each still gets
the outcome it would have had alone (SQLite, and PostgreSQL where reachable)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as SASession
from sqlmodel import Session, col, select

import hub.db
from hub.dispatch import Dispatcher, Outcome
from hub.live import live_messages
from hub.migrate import upgrade
from messaging.envelope import CommandEnvelope
from models.tables import AuditEvent, CommandRecord, Note
from tests.hub.conftest import NOW, People, add_people
from tests.hub.test_commands import referral_args

REFUSED_TEXT = "the database refuses this note"


@pytest.fixture
def people_engine(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Engine, People]]:
    """SQLite that gives up on a held write lock in 0.3 s rather than 10 s."""
    monkeypatch.setattr(hub.db, "SQLITE_BUSY_TIMEOUT_MS", 300)
    engine = hub.db.make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    upgrade(engine)
    yield engine, add_people(engine)
    engine.dispose()


def envelope(people: People, command: str, args: dict[str, Any], **kw: Any) -> CommandEnvelope:
    env = CommandEnvelope.new(command, args, actor=people.coordinator, desk="desk-a")
    if "command_id" in kw:
        env = CommandEnvelope(kw["command_id"], command, people.coordinator, "desk-a", args)
    return env


def new_referral(dispatcher: Dispatcher, people: People) -> int:
    outcome = dispatcher.handle(envelope(people, "create_referral", referral_args()))
    assert outcome.reply.ok, outcome.reply.message
    return outcome.reply.result["referral_id"]  # type: ignore[index]


def note(people: People, referral_id: int, words: str, **kw: Any) -> CommandEnvelope:
    return envelope(people, "add_note", {"referral_id": referral_id, "text": words}, **kw)


def refuse_a_note_in_the_database(engine: Engine) -> None:
    """A rule in the database itself (as a DBA might add) that refuses one note's text: the
    refusal comes after the command has written, so it spoils the group's transaction."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_note BEFORE INSERT ON note "
                    f"WHEN NEW.text = '{REFUSED_TEXT}' "
                    "BEGIN SELECT RAISE(ABORT, 'note refused'); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION refuse_note() RETURNS trigger AS $$ BEGIN "
                    f"IF NEW.text = '{REFUSED_TEXT}' THEN RAISE EXCEPTION 'note refused' "
                    "USING ERRCODE = 'check_violation'; END IF; RETURN NEW; END $$ "
                    "LANGUAGE plpgsql"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_note BEFORE INSERT ON note "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_note()"
                )
            )


def notes(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(session.exec(select(Note.text).order_by(col(Note.id))))


def sequences(outcomes: list[Outcome]) -> list[int]:
    return [m.sequence for outcome in outcomes for m in outcome.published]


def test_a_group_answers_each_command_as_if_alone(dispatcher: Dispatcher, people: People) -> None:
    referral_id = new_referral(dispatcher, people)
    before = dispatcher.sequence
    first = note(people, referral_id, "Daughter on her way")
    group = [
        first,
        note(people, referral_id, ""),  # refused by the arguments, before anything is written
        envelope(people, "add_note", {"referral_id": 999_999, "text": "Nobody"}),  # not found
        note(people, referral_id, "GP called back"),
        note(people, referral_id, "Daughter on her way", command_id=first.id),  # a desk's retry
        envelope(people, "get_referral", {"referral_id": referral_id}),
        envelope(people, "no_such_command", {}),
    ]
    outcomes = dispatcher.handle_batch(group)

    assert [o.reply.ok for o in outcomes] == [True, False, False, True, True, True, False]
    assert outcomes[1].reply.error_code == "validation"
    assert outcomes[2].reply.error_code == "not_found"
    assert outcomes[4].reply == outcomes[0].reply
    assert outcomes[4].published == []
    assert outcomes[6].reply.error_code == "unknown_command"
    # the read in the middle of the group sees the notes before it, in its timeline
    timeline = [event["summary"] for event in outcomes[5].reply.result["timeline"]]  # type: ignore[index]
    assert timeline[-2:] == ["Daughter on her way", "GP called back"]
    # one event each for the two notes, numbered on from the sequence before the group
    assert (
        sequences(outcomes)
        == [before + 1, before + 2]
        == [
            outcomes[0].reply.sequence,
            outcomes[3].reply.sequence,
        ]
    )
    assert dispatcher.sequence == before + 2
    assert notes(dispatcher.engine) == ["Daughter on her way", "GP called back"]


def test_a_command_refused_after_writing_undoes_only_itself(
    dispatcher: Dispatcher, people: People
) -> None:
    referral_id = new_referral(dispatcher, people)
    before = dispatcher.sequence
    refuse_a_note_in_the_database(dispatcher.engine)
    group = [
        note(people, referral_id, "First"),
        note(people, referral_id, "Second"),
        note(people, referral_id, REFUSED_TEXT),
        note(people, referral_id, "Third"),
    ]
    outcomes = dispatcher.handle_batch(group)

    assert [o.reply.ok for o in outcomes] == [True, True, False, True]
    assert outcomes[2].reply.error_code == "conflict"
    assert outcomes[2].published == []
    assert notes(dispatcher.engine) == ["First", "Second", "Third"]
    assert sequences(outcomes) == [before + 1, before + 2, before + 3]
    assert dispatcher.sequence == before + 3
    with Session(dispatcher.engine) as session:
        seqs = list(session.exec(select(AuditEvent.seq).where(AuditEvent.seq > before)))
        recorded = set(session.exec(select(CommandRecord.id)))
    assert sorted(seqs) == [before + 1, before + 2, before + 3]
    assert {group[0].id, group[1].id, group[3].id} <= recorded
    assert group[2].id not in recorded  # refused: a retry runs again
    # and the first reply of each is what a retry gets
    again = dispatcher.handle_batch([note(people, referral_id, "First", command_id=group[0].id)])
    assert again[0].reply == outcomes[0].reply
    assert again[0].published == []


def test_a_later_command_sees_the_body_an_earlier_one_published(
    dispatcher: Dispatcher, people: People
) -> None:
    referral_id = new_referral(dispatcher, people)
    dispatcher.live = {m.key: m for m in live_messages(dispatcher.engine, dispatcher.sequence, NOW)}
    triage = envelope(people, "triage_referral", {"referral_id": referral_id, "version": 1})
    outcomes = dispatcher.handle_batch([triage, note(people, referral_id, "Triaged by phone")])

    assert all(o.reply.ok for o in outcomes)
    triaged = outcomes[0].published[-1].json()
    noted = outcomes[1].published[-1].json()
    assert triaged is not None
    assert noted is not None
    assert noted["status"] == triaged["status"] == "triaged"
    assert noted["version"] == triaged["version"] == 2


@pytest.mark.parametrize("size", [2, 40])
def test_many_desks_notes_in_one_group_all_land(
    dispatcher: Dispatcher, people: People, size: int
) -> None:
    referral_id = new_referral(dispatcher, people)
    before = dispatcher.sequence
    outcomes = dispatcher.handle_batch(
        [note(people, referral_id, f"note {i}") for i in range(size)]
    )
    assert all(o.reply.ok for o in outcomes)
    assert sequences(outcomes) == list(range(before + 1, before + size + 1))
    assert notes(dispatcher.engine) == [f"note {i}" for i in range(size)]


def test_events_appended_outside_this_hub_are_caught_up(
    dispatcher: Dispatcher, people: People
) -> None:
    referral_id = new_referral(dispatcher, people)
    before = dispatcher.sequence
    # another writer on the same database (`hubdesk init --admin` against a running hub)
    elsewhere = Dispatcher(dispatcher.engine).handle(note(people, referral_id, "From elsewhere"))
    assert elsewhere.published[0].sequence == before + 1
    outcomes = dispatcher.handle_batch(
        [note(people, referral_id, "Here"), note(people, referral_id, "And here")]
    )
    assert all(o.reply.ok for o in outcomes)
    assert sequences(outcomes) == [before + 2, before + 3]
    assert dispatcher.sequence_jumped  # the hub reloads what it serves
    assert notes(dispatcher.engine) == ["From elsewhere", "Here", "And here"]


def test_a_retry_the_handler_would_refuse_still_gets_its_first_reply(
    dispatcher: Dispatcher, people: People
) -> None:
    referral_id = new_referral(dispatcher, people)
    args = {"referral_id": referral_id, "version": 1}
    triage = envelope(people, "triage_referral", args)
    first = dispatcher.handle(triage)
    assert first.reply.ok
    # run again, triage would refuse (already triaged, version moved on): the retry is known
    again = dispatcher.handle_batch(
        [note(people, referral_id, "Meanwhile"), triage, note(people, referral_id, "After")]
    )
    assert again[1].reply == first.reply
    assert again[1].published == []
    assert [o.reply.ok for o in again] == [True, True, True]


def test_a_dropped_database_connection_is_made_again_unseen(
    dispatcher: Dispatcher, people: People, pg_admin: Engine | None
) -> None:
    if dispatcher.engine.dialect.name != "postgresql":
        pytest.skip("only a database server drops connections (PostgreSQL restart, failover)")
    assert pg_admin is not None
    referral_id = new_referral(dispatcher, people)  # the pool now holds a live connection
    database = dispatcher.engine.url.database
    with pg_admin.connect() as conn:
        dropped = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = :db AND pid <> pg_backend_pid()"
            ),
            {"db": database},
        ).scalar_one()
    assert dropped >= 1
    outcome = dispatcher.handle(note(people, referral_id, "After the restart"))
    assert outcome.reply.ok, outcome.reply.message
    assert notes(dispatcher.engine) == ["After the restart"]


@pytest.mark.parametrize(
    ("command", "extra", "status"),
    [
        ("triage_referral", {}, "triaged"),
        ("decline_referral", {"reason": "Known to the GP, no crisis"}, None),  # off the board
    ],
)
def test_after_a_spoilt_command_the_rest_see_what_committed_before_it(
    dispatcher: Dispatcher, people: People, command: str, extra: dict[str, Any], status: str | None
) -> None:
    """The commands before a spoilt one commit in a transaction of their own; those after
    it must build on that, not on the live map the hub has not been given yet."""
    referral_id = new_referral(dispatcher, people)
    dispatcher.live = {m.key: m for m in live_messages(dispatcher.engine, dispatcher.sequence, NOW)}
    refuse_a_note_in_the_database(dispatcher.engine)
    first = envelope(people, command, {"referral_id": referral_id, "version": 1, **extra})
    outcomes = dispatcher.handle_batch(
        [first, note(people, referral_id, REFUSED_TEXT), note(people, referral_id, "After")]
    )
    assert [o.reply.ok for o in outcomes] == [True, False, True]
    body = outcomes[2].published[-1].json()
    if status is None:  # a note must not bring a declined referral back onto the boards
        assert body is None
    else:
        assert body is not None
        assert (body["status"], body["version"]) == (status, 2)


def test_what_committed_is_kept_when_the_rest_of_the_batch_fails(
    people_engine: tuple[Engine, People],
) -> None:
    engine, people = people_engine
    dispatcher = Dispatcher(engine)
    referral_id = new_referral(dispatcher, people)
    before = dispatcher.sequence
    refuse_a_note_in_the_database(engine)
    outsider: list[sqlite3.Connection] = []

    @event.listens_for(SASession, "after_commit")
    def lock_after_first_commit(session: SASession) -> None:
        # another process (a backup, the sqlite3 shell) takes the write lock and keeps it
        if not outsider:
            other = sqlite3.connect(str(engine.url.database), isolation_level=None)
            other.execute("BEGIN IMMEDIATE")
            outsider.append(other)

    try:
        outcomes = dispatcher.handle_batch(
            [
                note(people, referral_id, "First"),
                note(people, referral_id, REFUSED_TEXT),
                note(people, referral_id, "Never"),
            ]
        )
    finally:
        event.remove(SASession, "after_commit", lock_after_first_commit)
        for other in outsider:
            other.execute("ROLLBACK")
            other.close()
    # the first committed: it is answered and published; the last could not be written
    assert outcomes[0].reply.ok
    assert [m.sequence for m in outcomes[0].published] == [before + 1]
    assert outcomes[2].reply.error_code == "internal"
    assert dispatcher.sequence == before + 1
    assert notes(engine) == ["First"]
