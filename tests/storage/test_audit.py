"""The audit log is append-only and hash-chained: any edit or removal breaks the chain."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, select, update

from storage import db
from storage.audit import GENESIS, record_event, verify_chain
from storage.models import AuditEvent
from tests.databases import database_url


def sessions(tmp_path: Path):  # type: ignore[no-untyped-def]
    url = database_url(tmp_path)
    db.upgrade(url)
    return db.session_factory(db.make_engine(url))


def test_events_chain_from_the_genesis_hash(tmp_path: Path) -> None:
    factory = sessions(tmp_path)
    with db.transaction(factory) as session:
        first = record_event(session, actor="crawler", action="captured", subject="capture:1", details={"u": "x"})
        second = record_event(session, actor="监测员", action="case_opened", subject="case:1")
        assert first.prev_hash == GENESIS and second.prev_hash == first.hash
    with factory() as session:
        assert verify_chain(session) == []


def test_changing_or_removing_a_past_event_is_detected(tmp_path: Path) -> None:
    factory = sessions(tmp_path)
    with db.transaction(factory) as session:
        for i in range(3):
            record_event(session, actor="crawler", action="captured", subject=f"capture:{i}")
    with db.transaction(factory) as session:
        session.execute(update(AuditEvent).where(AuditEvent.id == 2).values(actor="someone else"))
    with factory() as session:
        assert verify_chain(session) == ["audit event 2 (captured capture:1) does not chain"]
    with db.transaction(factory) as session:
        session.execute(delete(AuditEvent).where(AuditEvent.id == 2))
    with factory() as session:
        problems = verify_chain(session)
        assert problems and "audit event 3" in problems[0]
        assert session.scalar(select(AuditEvent.id).where(AuditEvent.id == 2)) is None
