"""Tips: the list (`/tips?status=`, pending or scanned, with what the scan found) and adding one by pasting
a URL (`POST /tips`), for monitors; JSON twins `GET /api/tips`, `POST /api/tips`.

`cases.tips.add_tip` validates the URL as `pharmwatch tip add` does (private, loopback and reserved
addresses refused unless in `[crawl] allow_private`) and writes the audit event, the signed-in user as
who submitted it. The next scan crawls pending tips; checking one at once is a later step.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from cases.tips import TIP_STATUSES, TipError, TipRecord, add_tip, list_tips
from web.app import envelope, error, is_api, page
from web.deps import DbSession, Monitor, Principal

router = APIRouter()
DEFAULT_SOURCE = "monitor"


def _tips(db: Session, status: str) -> list[TipRecord]:
    try:
        return list_tips(db, status=status or None)
    except TipError as exc:
        raise HTTPException(400, str(exc)) from None


@router.get("/tips")
def tips_html(request: Request, db: DbSession, user: Monitor, status: str = "") -> Response:
    return page(request, "tips.html", {"tips": _tips(db, status), "statuses": TIP_STATUSES, "status": status,
                                       "done": request.query_params.get("done")}, user=user)


@router.get("/api/tips")
def tips_json(db: DbSession, user: Monitor, status: str = "") -> Response:
    return envelope([tip.to_json() for tip in _tips(db, status)])


def _add(request: Request, db: Session, user: Principal, url: str, source: str, reporter: str,
         note: str) -> Response:
    config = request.app.state.config
    try:
        tip, created = add_tip(db, url, source=source.strip() or DEFAULT_SOURCE, submitted_by=user.name,
                               reporter=reporter or None, note=note or None, allow_private=config.allow_private,
                               timezone=config.timezone)
        db.commit()
    except TipError as exc:
        db.rollback()
        return error(request, 400, str(exc), user)
    if is_api(request):
        return envelope({**tip.to_json(), "created": created}, 201 if created else 200)
    return RedirectResponse(f"/tips?done={'added' if created else 'already recorded'}", status_code=303)


@router.post("/tips")
def tip_add_form(request: Request, db: DbSession, user: Monitor, url: Annotated[str, Form(max_length=8192)],
                 source: Annotated[str, Form(max_length=100)] = DEFAULT_SOURCE,
                 reporter: Annotated[str, Form(max_length=200)] = "",
                 note: Annotated[str, Form(max_length=4000)] = "") -> Response:
    return _add(request, db, user, url, source, reporter, note)


class TipBody(BaseModel):
    url: str = Field(max_length=8192)
    source: str = Field(DEFAULT_SOURCE, max_length=100)
    reporter: str = Field("", max_length=200)
    note: str = Field("", max_length=4000)


@router.post("/api/tips")
def tip_add_json(request: Request, db: DbSession, user: Monitor, body: TipBody) -> Response:
    return _add(request, db, user, body.url, body.source, body.reporter, body.note)
