"""One scheduler per database: the claim row (host, pid, since, heartbeat) and its protocol.

`claim` inserts the single row, or takes it over when it is stale: its heartbeat is older than
`stale_after`, or it names a process on this host that no longer exists. Both go through one
compare-and-swap statement (an UPDATE matching the old holder exactly, or an INSERT on the
primary key), so of two schedulers starting together exactly one wins, on SQLite and PostgreSQL
alike. A takeover is written to the audit log. `heartbeat` renews the claim and tells its holder
when someone else took it, so a scheduler that lost its claim stops instead of running beside
the new one.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storage.audit import record_event
from storage.db import transaction
from storage.models import SchedulerClaim, utcnow

CLAIM_ID = 1


class SchedulerAlreadyRunning(Exception):
    """Another live scheduler holds this database's claim; the message names it."""


class ClaimLost(Exception):
    """This scheduler's claim was taken over (it looked stale to another scheduler)."""


@dataclass(frozen=True)
class Holder:
    host: str
    pid: int
    since: datetime  # UTC

    def describe(self) -> str:
        return f"host {self.host}, pid {self.pid}, since {self.since.isoformat(timespec='seconds')} UTC"


def this_process(now: datetime | None = None) -> Holder:
    return Holder(socket.gethostname(), os.getpid(), now or utcnow())


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stale_reason(row: SchedulerClaim, *, now: datetime, stale_after: timedelta) -> str | None:
    """Why a claim no longer stands for a live scheduler, or None while it does."""
    if row.host == socket.gethostname() and not pid_alive(row.pid):
        return f"process {row.pid} on this host is gone"
    if now - row.heartbeat_at > stale_after:
        return (f"no heartbeat for {int((now - row.heartbeat_at).total_seconds())} s "
                f"(stale after {int(stale_after.total_seconds())} s)")
    return None


def claim(sessions: sessionmaker[Session], me: Holder, *, stale_after: timedelta) -> str | None:
    """Take the claim for `me`; returns why a previous holder's claim was taken over (None: it was free).

    Raises SchedulerAlreadyRunning naming the holder while its claim stands.
    """
    now = utcnow()
    with transaction(sessions) as session:
        row = session.get(SchedulerClaim, CLAIM_ID)
        if row is None:
            try:
                with session.begin_nested():
                    session.execute(insert(SchedulerClaim).values(
                        id=CLAIM_ID, host=me.host, pid=me.pid, since=me.since, heartbeat_at=now))
                return None
            except IntegrityError:
                row = session.get(SchedulerClaim, CLAIM_ID, populate_existing=True)
                if row is None:  # inserted and released meanwhile: let the caller retry
                    raise SchedulerAlreadyRunning("another scheduler was starting at the same moment; "
                                                  "try again") from None
        held = Holder(row.host, row.pid, row.since)
        if held == me:
            return None
        reason = stale_reason(row, now=now, stale_after=stale_after)
        if reason is None:
            raise SchedulerAlreadyRunning(
                f"another scheduler holds this database: {held.describe()}, last heartbeat "
                f"{int((now - row.heartbeat_at).total_seconds())} s ago; stop it first "
                f"(its claim is taken over once it has sent no heartbeat for {int(stale_after.total_seconds())} s)")
        swapped = session.execute(
            update(SchedulerClaim)
            .where(SchedulerClaim.id == CLAIM_ID, SchedulerClaim.host == row.host, SchedulerClaim.pid == row.pid,
                   SchedulerClaim.since == row.since, SchedulerClaim.heartbeat_at == row.heartbeat_at)
            .values(host=me.host, pid=me.pid, since=me.since, heartbeat_at=now)
            .execution_options(synchronize_session=False))
        if swapped.rowcount != 1:  # type: ignore[attr-defined]
            raise SchedulerAlreadyRunning("another scheduler took over the stale claim at the same moment")
        record_event(session, actor="scheduler", action="scheduler_takeover", subject="scheduler",
                     details={"previous": {"host": held.host, "pid": held.pid,
                                           "since": held.since.isoformat(timespec="seconds"),
                                           "heartbeat_at": row.heartbeat_at.isoformat(timespec="seconds")},
                              "new": {"host": me.host, "pid": me.pid}, "reason": reason})
        return f"took over the claim of {held.describe()}: {reason}"


def heartbeat(sessions: sessionmaker[Session], me: Holder) -> None:
    """Renew the claim; raises ClaimLost when another scheduler holds it now."""
    with transaction(sessions) as session:
        renewed = session.execute(
            update(SchedulerClaim)
            .where(SchedulerClaim.id == CLAIM_ID, SchedulerClaim.host == me.host, SchedulerClaim.pid == me.pid,
                   SchedulerClaim.since == me.since)
            .values(heartbeat_at=utcnow()).execution_options(synchronize_session=False))
        if renewed.rowcount != 1:  # type: ignore[attr-defined]
            row = session.get(SchedulerClaim, CLAIM_ID)
            now_held = Holder(row.host, row.pid, row.since).describe() if row else "nobody"
            raise ClaimLost(f"this scheduler's claim was taken over (now held by {now_held}); stopping")


def release(sessions: sessionmaker[Session], me: Holder) -> None:
    """Give the claim up (a clean stop), if still ours."""
    with transaction(sessions) as session:
        session.execute(delete(SchedulerClaim).where(
            SchedulerClaim.id == CLAIM_ID, SchedulerClaim.host == me.host, SchedulerClaim.pid == me.pid,
            SchedulerClaim.since == me.since))


def current_holder(session: Session) -> tuple[Holder, datetime] | None:
    """The claim's holder and its last heartbeat, if any (for `schedule list`)."""
    row = session.scalar(select(SchedulerClaim).where(SchedulerClaim.id == CLAIM_ID))
    return (Holder(row.host, row.pid, row.since), row.heartbeat_at) if row else None
