"""Schedules (admin only): the scheduler's jobs and their run history (`/schedules`, `/api/schedules`), adding
an admin job and pausing, resuming or removing one (`POST /schedules`, `POST /schedules/{name}/{action}`, with
JSON twins under /api).

The scheduler lives above the web layer; this page goes through `WebConfig.schedules` (`web.schedule_desk`),
which `pharmwatch serve` binds to the same functions as `pharmwatch schedule ...`, so the rules (a settings
job is changed in the settings file, a cron must parse) and the audit events are the CLI's, with the
signed-in admin as the actor. Without it (an app built without settings) the page says so.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from web.app import envelope, error, is_api, page
from web.deps import Admin, DbSession, Principal
from web.schedule_desk import ScheduleDesk, ScheduleRefused

router = APIRouter()
HISTORY_LIMIT = 50
UNAVAILABLE = "The scheduler's settings are not available to this server (start it with `pharmwatch serve`)."


def _desk(request: Request) -> ScheduleDesk | None:
    return request.app.state.config.schedules


def schedules_view(request: Request, db: Session, job: str | None) -> dict[str, Any]:
    """The page's one context: jobs, their history (one job's with `job`), what an admin job may search."""
    desk = _desk(request)
    if desk is None:
        return {"available": False, "jobs": [], "history": [], "query_sets": [], "job": job}
    jobs = desk.jobs(db)
    db.commit()  # the settings file's jobs, synced as `schedule list` does
    return {"available": True, "jobs": jobs, "history": desk.history(db, job=job or None, limit=HISTORY_LIMIT),
            "query_sets": desk.query_sets(), "job": job}


@router.get("/schedules")
def schedules_html(request: Request, db: DbSession, user: Admin, job: str = "") -> Response:
    return page(request, "schedules.html", {**schedules_view(request, db, job),
                                            "done": request.query_params.get("done")}, user=user)


@router.get("/api/schedules")
def schedules_json(request: Request, db: DbSession, user: Admin, job: str = "") -> Response:
    return envelope(schedules_view(request, db, job))  # "available": false says there is no scheduler


def _change(request: Request, db: Session, user: Principal, change: Any, done: str) -> Response:
    desk = _desk(request)
    if desk is None:
        return error(request, 503, UNAVAILABLE, user)
    try:
        change(desk)
        db.commit()
    except ScheduleRefused as exc:
        db.rollback()
        return error(request, 400, str(exc), user)
    if is_api(request):
        return envelope({"done": done})
    return RedirectResponse(f"/schedules?done={done}", status_code=303)


def _words(text: str) -> list[str]:
    return [word for word in text.replace(",", " ").split() if word]


@router.post("/schedules")
def schedule_add_form(request: Request, db: DbSession, user: Admin, name: Annotated[str, Form(max_length=100)],
                      cron: Annotated[str, Form(max_length=200)],
                      query_sets: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies defaults)
                      sites: Annotated[str, Form(max_length=8000)] = "") -> Response:
    return _change(request, db, user, lambda desk: desk.add(db, name=name.strip(), cron=cron.strip(),
                   query_sets=query_sets, sites=_words(sites), by=user.name), "added")


class ScheduleBody(BaseModel):
    name: str = Field(max_length=100)
    cron: str = Field(max_length=200, description='5 fields (minute hour day month weekday), e.g. "0 3 * * 1"')
    query_sets: list[str] = Field(default_factory=list, description="search these query sets, or")
    sites: list[str] = Field(default_factory=list, description="crawl these site URLs")


@router.post("/api/schedules")
def schedule_add_json(request: Request, db: DbSession, user: Admin, body: ScheduleBody) -> Response:
    return _change(request, db, user, lambda desk: desk.add(db, name=body.name, cron=body.cron,
                   query_sets=body.query_sets, sites=body.sites, by=user.name), "added")


Action = Literal["pause", "resume", "remove"]
DONE = {"pause": "paused", "resume": "resumed", "remove": "removed"}


def _step(request: Request, db: Session, user: Principal, name: str, action: Action) -> Response:
    def change(desk: ScheduleDesk) -> None:
        if action == "remove":
            desk.remove(db, name, by=user.name)
        else:
            desk.set_paused(db, name, action == "pause", by=user.name)

    return _change(request, db, user, change, DONE[action])


@router.post("/schedules/{name}/{action}")
def schedule_step_form(request: Request, db: DbSession, user: Admin, name: str, action: Action) -> Response:
    return _step(request, db, user, name, action)


@router.post("/api/schedules/{name}/{action}")
def schedule_step_json(request: Request, db: DbSession, user: Admin, name: str, action: Action) -> Response:
    return _step(request, db, user, name, action)
