"""The alert outbox: messages are stored (committed) before any send, then delivered per channel with retries.

Guarantee: **at-least-once**. Each delivery is claimed (`sending`, committed), sent, then recorded (`sent`,
or the error and a back-off, `failed` after `max_attempts`), each step its own commit. A channel that is
down loses nothing: the delivery waits and a restart resumes it. A process that dies after the receiver got
a message but before `sent` was recorded leaves the delivery in `sending`; once its lease has run out it is
sent again, so such a crash can cause **at most one duplicate**, carrying the same reference (e-mail
`Message-ID`, webhook `id` / `Idempotency-Key`) for the receiver to drop. Normal operation, failures
included, never sends a message twice to a channel: only a recorded failure is retried. The lease (a
`sending` row's `next_attempt_at`) also keeps two concurrent deliverers from sending the same row.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from alerts.channels import MESSAGE_KINDS, Channel, DeliveryError, Outgoing
from storage.models import AlertDelivery, AlertMessage, utcnow

STATES = ("pending", "sending", "sent", "failed")


class Destination(Protocol):
    """What enqueueing needs of a channel: its name and the kinds it takes."""

    name: str

    def takes(self, kind: str) -> bool: ...


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how soon a failed delivery is tried again ([alerts] settings)."""

    max_attempts: int = 8
    backoff_base_seconds: float = 60.0
    backoff_max_seconds: float = 6 * 3600.0
    # A claim older than this is taken for a dead process's; longer than any channel's timeout.
    lease_seconds: float = 300.0

    def backoff(self, attempts: int) -> timedelta:
        """Wait after the `attempts`-th failure: base, 2×base, 4×base, ... up to the cap."""
        return timedelta(seconds=min(self.backoff_base_seconds * 2 ** max(attempts - 1, 0), self.backoff_max_seconds))


@dataclass
class DeliverySummary:
    sent: int = 0
    retrying: int = 0  # failed this time, tried again later
    failed: int = 0  # failed this time and gave up (max_attempts)
    unconfigured: list[str] = field(default_factory=list)  # channels with due deliveries but no settings
    errors: list[str] = field(default_factory=list)  # "delivery N (channel): why", one per failed attempt

    @property
    def ok(self) -> bool:
        return not (self.retrying or self.failed)


def enqueue(session: Session, kind: str, subject: str, text: str, html: str | None = None, key: str | None = None,
            channels: Iterable[Destination] = ()) -> AlertMessage:
    """Store a message and one pending delivery per channel taking `kind`; the caller commits.

    With a `key` already stored (the digest of one day enqueued twice), the stored message is returned and
    nothing is added.
    """
    if kind not in MESSAGE_KINDS:
        raise ValueError(f"unknown message kind {kind!r}; known: {', '.join(MESSAGE_KINDS)}")
    key = key or f"{kind}:{uuid.uuid4()}"
    existing = session.scalar(select(AlertMessage).where(AlertMessage.message_key == key))
    if existing is not None:
        return existing
    message = AlertMessage(kind=kind, message_key=key, subject=subject, text=text, html=html, created_at=utcnow())
    message.deliveries = [AlertDelivery(channel=channel.name, next_attempt_at=message.created_at)
                          for channel in channels if channel.takes(kind)]
    try:
        with session.begin_nested():  # another process enqueued the same key meanwhile: theirs stands
            session.add(message)
    except IntegrityError:
        return session.scalars(select(AlertMessage).where(AlertMessage.message_key == key)).one()
    return message


def deliver_pending(sessions: sessionmaker[Session], channels: Sequence[Channel], now: datetime | None = None, *,
                    policy: RetryPolicy | None = None, message_ids: Sequence[int] | None = None) -> DeliverySummary:
    """Send every delivery due at `now` (UTC; default the clock), oldest first, committing each step."""
    policy = policy or RetryPolicy()
    start, started = now or utcnow(), time.monotonic()
    by_name = {channel.name: channel for channel in channels}
    summary = DeliverySummary()
    with sessions() as session:
        query = select(AlertDelivery.id, AlertDelivery.channel).where(
            AlertDelivery.state.in_(("pending", "sending")), AlertDelivery.next_attempt_at <= start)
        if message_ids is not None:
            query = query.where(AlertDelivery.message_id.in_(message_ids))
        due = session.execute(query.order_by(AlertDelivery.next_attempt_at, AlertDelivery.id)).all()
    for delivery_id, channel_name in due:
        channel = by_name.get(channel_name)
        if channel is None:
            if channel_name not in summary.unconfigured:
                summary.unconfigured.append(channel_name)
            continue
        # Times advance with the real clock from the given `now`, so a slow run records true send times.
        _deliver_one(sessions, delivery_id, channel, lambda: start + timedelta(seconds=time.monotonic() - started),
                     policy, summary)
    return summary


def _deliver_one(sessions: sessionmaker[Session], delivery_id: int, channel: Channel,
                 clock: Callable[[], datetime], policy: RetryPolicy, summary: DeliverySummary) -> None:
    with sessions() as session, session.begin():
        delivery = session.get(AlertDelivery, delivery_id)
        if delivery is None:
            return
        claimed = session.execute(
            update(AlertDelivery)
            .where(AlertDelivery.id == delivery_id, AlertDelivery.state == delivery.state,
                   AlertDelivery.attempts == delivery.attempts,
                   AlertDelivery.next_attempt_at == delivery.next_attempt_at,
                   AlertDelivery.next_attempt_at <= clock())
            .values(state="sending", attempts=AlertDelivery.attempts + 1,
                    next_attempt_at=clock() + timedelta(seconds=policy.lease_seconds))
            .execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            return  # another deliverer took it (or it was sent) since we looked
        stored = delivery.message
        message = Outgoing(id=stored.id, kind=stored.kind, subject=stored.subject, text=stored.text,
                           html=stored.html, created_at=stored.created_at)
    # The claim is committed: from here a crash leaves `sending`, re-sent once the lease has run out.
    try:
        note, error = channel.send(message), None
    except DeliveryError as exc:
        note, error = None, str(exc)
    except Exception as exc:  # noqa: BLE001 - a channel's bug must not stop the other deliveries
        note, error = None, f"{type(exc).__name__}: {exc}"
    with sessions() as session, session.begin():
        delivery = session.get(AlertDelivery, delivery_id)
        assert delivery is not None
        if error is None:
            delivery.state, delivery.sent_at, delivery.last_error = "sent", clock(), note
            summary.sent += 1
            return
        delivery.last_error = error
        summary.errors.append(f"delivery {delivery.id} ({delivery.channel}): {error}")
        if delivery.attempts >= policy.max_attempts:
            delivery.state = "failed"
            summary.failed += 1
        else:
            delivery.state, delivery.next_attempt_at = "pending", clock() + policy.backoff(delivery.attempts)
            summary.retrying += 1


def retry_failed(session: Session, ids: Sequence[int] = (), now: datetime | None = None) -> list[AlertDelivery]:
    """Failed deliveries (these ids, or all) back to pending, due now, with a fresh count of attempts.

    Raises LookupError naming the ids that do not exist or have not failed; then nothing changes.
    """
    query = select(AlertDelivery).where(AlertDelivery.id.in_(ids)) if ids else \
        select(AlertDelivery).where(AlertDelivery.state == "failed")
    deliveries = list(session.scalars(query.order_by(AlertDelivery.id)))
    found = {d.id: d for d in deliveries}
    wrong = [f"{i} (no such delivery)" for i in ids if i not in found] + \
        [f"{d.id} ({d.state})" for d in deliveries if d.state != "failed"]
    if wrong:
        raise LookupError(f"only failed deliveries are retried: {', '.join(wrong)}")
    for delivery in deliveries:
        delivery.state, delivery.attempts, delivery.next_attempt_at = "pending", 0, now or utcnow()
    return deliveries


def list_deliveries(session: Session, state: str | None = None) -> list[AlertDelivery]:
    """Deliveries newest first, with their messages loaded."""
    query = select(AlertDelivery).join(AlertDelivery.message).order_by(AlertDelivery.id.desc())
    if state is not None:
        query = query.where(AlertDelivery.state == state)
    return list(session.scalars(query))
