"""Tips: the list (`/tips?status=`, pending or scanned, with what the scan found) and adding one by pasting
a URL (`POST /tips`), for monitors; JSON twins `GET /api/tips`, `POST /api/tips`.

`cases.tips.add_tip` validates the URL as `pharmwatch tip add` does (private, loopback and reserved
addresses refused unless in `[crawl] allow_private`) and writes the audit event, the signed-in user as
who submitted it. The next scan crawls pending tips; "check now" (`POST /tips/{id}/check`, or the add
form's "add and check now") crawls one at once as a background job (`web.jobs`: `pharmwatch tip check`
in a child process); the page polls `GET /tips/{id}/check` (a small fragment, htmx) until the job has
finished, then shows the result: flagged or not, and the findings (`cases.tip_check.tip_result`). One
job per URL: more clicks, or another tip of the same URL, join the running one.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from cases.tip_check import tip_result
from cases.tips import TIP_STATUSES, TipError, TipRecord, add_tip, list_tips
from storage.audit import record_event
from storage.models import Tip
from web.app import envelope, error, is_api, page
from web.deps import DbSession, Monitor, Principal
from web.jobs import Job, JobRefused
from web.routes.case_actions import is_htmx

router = APIRouter()
DEFAULT_SOURCE = "monitor"


def _tips(db: Session, status: str) -> list[TipRecord]:
    try:
        return list_tips(db, status=status or None)
    except TipError as exc:
        raise HTTPException(400, str(exc)) from None


@router.get("/tips")
def tips_html(request: Request, db: DbSession, user: Monitor, status: str = "") -> Response:
    tips = _tips(db, status)
    checks = {tip.id: check_state(request, db, tip.id) for tip in tips}
    return page(request, "tips.html", {"tips": tips, "checks": checks, "statuses": TIP_STATUSES, "status": status,
                                       "done": request.query_params.get("done")}, user=user)


@router.get("/api/tips")
def tips_json(db: DbSession, user: Monitor, status: str = "") -> Response:
    return envelope([tip.to_json() for tip in _tips(db, status)])


def _add(request: Request, db: Session, user: Principal, url: str, source: str, reporter: str,
         note: str, check_now: bool = False) -> Response:
    config = request.app.state.config
    try:
        tip, created = add_tip(db, url, source=source.strip() or DEFAULT_SOURCE, submitted_by=user.name,
                               reporter=reporter or None, note=note or None, allow_private=config.allow_private,
                               timezone=config.timezone)
        db.commit()
    except TipError as exc:
        db.rollback()
        return error(request, 400, str(exc), user)
    if check_now and tip.status == "pending":
        try:
            job, started = _start(request, user, tip.id, tip.url)
        except JobRefused as exc:
            return error(request, 503, f"tip {tip.id} recorded, not checked: {exc}", user)
        if started:
            record_event(db, actor=user.name, action="tip_check_started", subject=f"tip:{tip.id}",
                         details={"job": job.id, "url": tip.url})
            db.commit()
    if is_api(request):
        return envelope({**tip.to_json(), "created": created}, 201 if created else 200)
    done = "added" if created else "already recorded"
    return RedirectResponse(f"/tips?done={done}", status_code=303)


@router.post("/tips")
def tip_add_form(request: Request, db: DbSession, user: Monitor, url: Annotated[str, Form(max_length=8192)],
                 source: Annotated[str, Form(max_length=100)] = DEFAULT_SOURCE,
                 reporter: Annotated[str, Form(max_length=200)] = "",
                 note: Annotated[str, Form(max_length=4000)] = "",
                 check: Annotated[str, Form(max_length=5)] = "") -> Response:
    return _add(request, db, user, url, source, reporter, note, check_now=check == "now")


class TipBody(BaseModel):
    url: str = Field(max_length=8192)
    source: str = Field(DEFAULT_SOURCE, max_length=100)
    reporter: str = Field("", max_length=200)
    note: str = Field("", max_length=4000)
    check_now: bool = Field(False, description="also check it now (GET /api/tips/{id}/check for the state)")


@router.post("/api/tips")
def tip_add_json(request: Request, db: DbSession, user: Monitor, body: TipBody) -> Response:
    return _add(request, db, user, body.url, body.source, body.reporter, body.note, check_now=body.check_now)


# --- check now ------------------------------------------------------------------------------------------
def check_key(url: str) -> str:
    return f"url:{url}"  # tips store the normalised URL: one job per page, whichever tip asked


def _tip(db: Session, tip_id: int) -> Tip:
    tip = db.get(Tip, tip_id)
    if tip is None:
        raise HTTPException(404, f"no tip {tip_id}")
    return tip


def check_state(request: Request, db: Session, tip_id: int) -> dict[str, Any]:
    """The check job of this tip's URL (running or last, in this process) and what the tip's crawl found."""
    tip = _tip(db, tip_id)
    job: Job | None = request.app.state.jobs.latest(check_key(tip.url))
    return {"tip_id": tip_id, "job": job, "result": tip_result(db, tip_id)}


def _start(request: Request, user: Principal, tip_id: int, url: str) -> tuple[Job, bool]:
    return request.app.state.jobs.start("tip_check", check_key(url), tip_id, ["tip", "check", str(tip_id),
                                        "--by", user.name], started_by=user.name)


def _refused(request: Request, db: Session, user: Principal, tip_id: int, status_code: int, why: str) -> Response:
    if is_htmx(request):  # htmx swaps nothing on an error status: the fragment says why instead
        return page(request, "tip_check.html", {**check_state(request, db, tip_id), "refused": why}, user=user)
    return error(request, status_code, why, user)


def _check_answer(request: Request, db: Session, user: Principal, tip_id: int, status_code: int = 200) -> Response:
    state = check_state(request, db, tip_id)
    if is_api(request):
        return envelope({"job": state["job"].to_json() if state["job"] else None,
                         "result": state["result"].to_json()}, status_code)
    return page(request, "tip_check.html", state, user=user)


def _check(request: Request, db: Session, user: Principal, tip_id: int) -> Response:
    tip = _tip(db, tip_id)
    running = request.app.state.jobs.running_for(check_key(tip.url))
    if tip.status != "pending" and running is None:
        return _refused(request, db, user, tip_id, 409, f"tip {tip_id} was checked already: its result is shown; "
                                                        "re-check its site's case, or add the URL again as a new tip")
    try:
        job, started = _start(request, user, tip_id, tip.url)
    except JobRefused as exc:
        return _refused(request, db, user, tip_id, 503, str(exc))
    if started:  # what it found is audited by the check itself; that it was asked for, here
        record_event(db, actor=user.name, action="tip_check_started", subject=f"tip:{tip_id}",
                     details={"job": job.id, "url": tip.url})
        db.commit()
    if is_api(request) or is_htmx(request):
        return _check_answer(request, db, user, tip_id, 202 if started else 200)
    return RedirectResponse(f"/tips#tip-{tip_id}", status_code=303)


@router.post("/tips/{tip_id}/check")
def tip_check_form(request: Request, db: DbSession, user: Monitor, tip_id: int) -> Response:
    return _check(request, db, user, tip_id)


@router.post("/api/tips/{tip_id}/check")
def tip_check_start_json(request: Request, db: DbSession, user: Monitor, tip_id: int) -> Response:
    return _check(request, db, user, tip_id)


@router.get("/tips/{tip_id}/check")
def tip_check_fragment(request: Request, db: DbSession, user: Monitor, tip_id: int) -> Response:
    return _check_answer(request, db, user, tip_id)


@router.get("/api/tips/{tip_id}/check")
def tip_check_json(request: Request, db: DbSession, user: Monitor, tip_id: int) -> Response:
    return _check_answer(request, db, user, tip_id)
