"""The blacklist (重点监管名单): the list (`/blacklist`, `/api/blacklist`) for monitors; adding an entry and
lifting one with a reason (`POST /blacklist`, `POST /blacklist/{id}/lift` and their `/api/` twins) for
supervisors. `cases.blacklist` normalises the value and writes the audit event (the signed-in user as actor).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from cases.blacklist import KINDS, BlacklistError, add_entry, lift_entry, list_entries
from web.app import envelope, error, is_api, page
from web.deps import DbSession, Monitor, Principal, Supervisor

router = APIRouter()


@router.get("/blacklist")
def blacklist_html(request: Request, db: DbSession, user: Monitor, lifted: bool = False) -> Response:
    return page(request, "blacklist.html", {"entries": list_entries(db, include_lifted=lifted), "kinds": KINDS,
                                            "lifted": lifted, "done": request.query_params.get("done")}, user=user)


@router.get("/api/blacklist")
def blacklist_json(db: DbSession, user: Monitor, lifted: bool = False) -> Response:
    return envelope([entry.to_json() for entry in list_entries(db, include_lifted=lifted)])


def _add(request: Request, db: DbSession, user: Principal, kind: str, value: str, reason: str,
         case_id: int | None) -> Response:
    try:
        entry = add_entry(db, kind, value, reason=reason, actor=user.name, case_id=case_id)
        db.commit()
    except BlacklistError as exc:
        db.rollback()
        return error(request, 400, str(exc), user)
    if is_api(request):
        record = next(e for e in list_entries(db, include_lifted=True) if e.id == entry.id)
        return envelope(asdict(record))
    return RedirectResponse("/blacklist?done=added", status_code=303)


def _lift(request: Request, db: DbSession, user: Principal, entry_id: int, reason: str) -> Response:
    try:
        lift_entry(db, entry_id, reason=reason, actor=user.name)
        db.commit()
    except BlacklistError as exc:
        db.rollback()
        message = str(exc)
        status = 404 if message.startswith("no blacklist entry") else 409 if "lifted already" in message else 400
        return error(request, status, message, user)
    if is_api(request):
        record = next(e for e in list_entries(db, include_lifted=True) if e.id == entry_id)
        return envelope(asdict(record))
    return RedirectResponse("/blacklist?done=lifted", status_code=303)


@router.post("/blacklist")
def blacklist_add_form(request: Request, db: DbSession, user: Supervisor,
                       kind: Annotated[str, Form(max_length=20)], value: Annotated[str, Form(max_length=500)],
                       reason: Annotated[str, Form(max_length=2000)] = "",
                       case_id: Annotated[str, Form(max_length=12)] = "") -> Response:
    if case_id.strip() and not case_id.strip().isdigit():
        return error(request, 400, f"case {case_id!r} is not a case number", user)
    return _add(request, db, user, kind, value, reason, int(case_id) if case_id.strip() else None)


class EntryBody(BaseModel):
    kind: str = Field(max_length=20)
    value: str = Field(max_length=500)
    reason: str = Field("", max_length=2000)
    case_id: int | None = None


@router.post("/api/blacklist")
def blacklist_add_json(request: Request, db: DbSession, user: Supervisor, body: EntryBody) -> Response:
    return _add(request, db, user, body.kind, body.value, body.reason, body.case_id)


@router.post("/blacklist/{entry_id}/lift")
def blacklist_lift_form(request: Request, db: DbSession, user: Supervisor, entry_id: int,
                        reason: Annotated[str, Form(max_length=2000)] = "") -> Response:
    return _lift(request, db, user, entry_id, reason)


class LiftBody(BaseModel):
    reason: str = Field("", max_length=2000)


@router.post("/api/blacklist/{entry_id}/lift")
def blacklist_lift_json(request: Request, db: DbSession, user: Supervisor, entry_id: int,
                        body: LiftBody | None = None) -> Response:
    return _lift(request, db, user, entry_id, (body or LiftBody()).reason)
