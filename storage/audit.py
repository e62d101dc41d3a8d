"""The audit log: append-only, hash-chained events (capture, case decisions, exports).

Each event's hash covers the previous event's hash and the event's own canonical JSON, so the
chain proves order and integrity; `verify_chain` recomputes it. Appends take the newest hash
inside the caller's transaction; on PostgreSQL concurrent writers serialise on the unique hash.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hashchain import GENESIS, link_hash
from storage.models import AuditEvent, utcnow


def event_hash(prev_hash: str, at: datetime, actor: str, action: str, subject: str, details: dict[str, Any]) -> str:
    return link_hash(prev_hash, {"at": at.isoformat(timespec="microseconds"), "actor": actor, "action": action,
                                 "subject": subject, "details": details})


def record_event(session: Session, *, actor: str, action: str, subject: str,
                 details: dict[str, Any] | None = None) -> AuditEvent:
    prev = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)) or GENESIS
    at = utcnow()
    details = details or {}
    event = AuditEvent(at=at, actor=actor, action=action, subject=subject, details=details, prev_hash=prev,
                       hash=event_hash(prev, at, actor, action, subject, details))
    session.add(event)
    session.flush()
    return event


def events_for(session: Session, subjects: list[str]) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.subject.in_(subjects)).order_by(AuditEvent.id)))


def verify_chain(session: Session) -> list[str]:
    """Problems found in the chain (empty when intact)."""
    problems, prev = [], GENESIS
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        expected = event_hash(prev, event.at, event.actor, event.action, event.subject, event.details)
        if event.prev_hash != prev or event.hash != expected:
            problems.append(f"audit event {event.id} ({event.action} {event.subject}) does not chain")
        prev = event.hash
    return problems
