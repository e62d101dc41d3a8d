"""The audit log: append-only, hash-chained events (capture, case decisions, exports).

Each event's hash covers the previous event's hash and the event's own canonical JSON, so the
chain proves order and integrity; `verify_chain` recomputes it. Appends take the newest hash
inside the caller's transaction; on PostgreSQL concurrent writers serialise on the unique hash.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hashchain import GENESIS, link_hash
from storage.models import AuditEvent, utcnow


def event_hash(prev_hash: str, at: datetime, actor: str, action: str, subject: str, details: dict[str, Any]) -> str:
    return link_hash(prev_hash, {"at": at.isoformat(timespec="microseconds"), "actor": actor, "action": action,
                                 "subject": subject, "details": details})


def record_event(session: Session, *, actor: str, action: str, subject: str,
                 details: dict[str, Any] | None = None) -> AuditEvent:
    event = AuditAppender(session).record(actor=actor, action=action, subject=subject, details=details)
    session.flush()
    return event


class AuditAppender:
    """Appends several events in one transaction with one read of the newest hash: each event chains to
    the one added before it (the store step writes a batch of pages' "captured" events this way). Events
    are inserted in the order they were added, so their ids follow the chain. The caller's transaction
    must be the only writer of the log while it is open, as for `record_event`."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.prev: str | None = None

    def record(self, *, actor: str, action: str, subject: str, details: dict[str, Any] | None = None) -> AuditEvent:
        if self.prev is None:
            self.prev = self.session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)) or GENESIS
        at = utcnow()
        details = details or {}
        event = AuditEvent(at=at, actor=actor, action=action, subject=subject, details=details,
                           prev_hash=self.prev, hash=event_hash(self.prev, at, actor, action, subject, details))
        self.session.add(event)
        self.prev = event.hash
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


def search_events(session: Session, *, actor: str | None = None, action: str | None = None,
                  subject: str | None = None, since: datetime | None = None, until: datetime | None = None,
                  offset: int = 0, limit: int = 100) -> tuple[int, list[AuditEvent]]:
    """Events matching every filter given, newest first: (how many match in all, the `limit` from `offset`).

    `actor` and `action` match exactly; `subject` matches a whole subject (`case:3`) or, ending in `:`,
    every subject of that kind (`case:`); [since, until) are naive UTC like the stored times.
    """
    conditions = []
    if actor:
        conditions.append(AuditEvent.actor == actor)
    if action:
        conditions.append(AuditEvent.action == action)
    if subject:
        conditions.append(AuditEvent.subject.startswith(subject, autoescape=True) if subject.endswith(":")
                          else AuditEvent.subject == subject)
    if since is not None:
        conditions.append(AuditEvent.at >= since)
    if until is not None:
        conditions.append(AuditEvent.at < until)
    total = session.scalar(select(func.count()).select_from(AuditEvent).where(*conditions)) or 0
    events = session.scalars(select(AuditEvent).where(*conditions).order_by(AuditEvent.id.desc())
                             .offset(offset).limit(limit))
    return total, list(events)


def audit_vocabulary(session: Session) -> tuple[list[str], list[str]]:
    """The distinct actors and actions in the log (the choices of a filter form)."""
    actors = session.scalars(select(AuditEvent.actor).distinct().order_by(AuditEvent.actor))
    actions = session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action))
    return list(actors), list(actions)
