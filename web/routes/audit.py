"""The audit log (`/audit`, `/api/audit`), for supervisors: every recorded event, newest first, filtered by
actor, action, object (a whole subject such as `case:3`, or a kind such as `case:`) and a range of local
days, in pages of PAGE_SIZE. The query is `storage.audit.search_events` (filtered and paged in SQL)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from cases.daily import day_bounds
from storage.audit import audit_vocabulary, search_events
from web.app import envelope, page
from web.deps import DbSession, Supervisor

router = APIRouter()
PAGE_SIZE = 100
Text = Annotated[str, Query(max_length=100)]
PageNo = Annotated[int, Query(ge=1, le=1_000_000)]
# Days as text: the filter form sends an empty field for "no bound".
Day = Annotated[str, Query(alias="from", max_length=10)]
Until = Annotated[str, Query(alias="to", max_length=10)]


@dataclass
class AuditFilters:
    actor: str = ""
    action: str = ""
    subject: str = ""
    since: str = ""  # a local day (YYYY-MM-DD), inclusive
    until: str = ""  # a local day, inclusive


@dataclass
class AuditRecord:
    id: int
    at: str  # ISO 8601, UTC
    actor: str
    action: str
    subject: str
    details: dict[str, Any]
    hash: str


@dataclass
class AuditPage:
    filters: AuditFilters
    events: list[AuditRecord] = field(default_factory=list)
    total: int = 0  # events matching the filters, on all pages
    page: int = 1
    pages: int = 1
    actors: list[str] = field(default_factory=list)  # choices of the filter form
    actions: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def audit_page(request: Request, db: DbSession, filters: AuditFilters, page_no: int) -> AuditPage:
    zone = request.app.state.config.timezone
    since = day_bounds(date.fromisoformat(filters.since), zone)[0] if filters.since else None
    until = day_bounds(date.fromisoformat(filters.until), zone)[1] if filters.until else None
    if since and until and since >= until:
        raise HTTPException(400, f"the range {filters.since} .. {filters.until} is empty: 'from' is after 'to'")
    kwargs: dict[str, Any] = {"actor": filters.actor, "action": filters.action, "subject": filters.subject,
                              "since": since, "until": until, "limit": PAGE_SIZE}
    total, events = search_events(db, **kwargs, offset=(page_no - 1) * PAGE_SIZE)
    result = AuditPage(filters=filters, total=total, pages=max(1, -(-total // PAGE_SIZE)), page=page_no)
    if page_no > result.pages:  # past the end (the log is newest first): the last page
        result.page = result.pages
        _, events = search_events(db, **kwargs, offset=(result.page - 1) * PAGE_SIZE)
    result.events = [AuditRecord(e.id, e.at.replace(tzinfo=UTC).isoformat(timespec="seconds"), e.actor, e.action,
                                 e.subject, e.details, e.hash) for e in events]
    result.actors, result.actions = audit_vocabulary(db)
    return result


def _day(value: str, name: str) -> str:
    """A local day as the form sends it: empty (no bound) or YYYY-MM-DD."""
    if not value.strip():
        return ""
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise HTTPException(400, f"{name}: {value!r} is not a date (YYYY-MM-DD)") from None


def _filters(actor: str, action: str, subject: str, since: str, until: str) -> AuditFilters:
    return AuditFilters(actor.strip(), action.strip(), subject.strip(), _day(since, "from"), _day(until, "to"))


@router.get("/audit")
def audit_html(request: Request, db: DbSession, user: Supervisor, actor: Text = "", action: Text = "",
               subject: Text = "", since: Day = "", until: Until = "", page_no: PageNo = 1) -> Response:
    data = audit_page(request, db, _filters(actor, action, subject, since, until), page_no)
    # Details as readable JSON text (Chinese as is); the template escapes it like any crawled text.
    return page(request, "audit.html", {"page": data, "as_text": lambda d: json.dumps(d, ensure_ascii=False)},
                user=user)


@router.get("/api/audit")
def audit_json(request: Request, db: DbSession, user: Supervisor, actor: Text = "", action: Text = "",
               subject: Text = "", since: Day = "", until: Until = "", page_no: PageNo = 1) -> Response:
    return envelope(audit_page(request, db, _filters(actor, action, subject, since, until), page_no).to_json())
