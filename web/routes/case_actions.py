"""The case page's heavier actions: referring a confirmed case (supervisor), downloading its signed evidence
package (supervisor), and re-checking it now in the background (monitor), with their JSON twins.

Referring is `cases.referrals.create_referral` (audited there); the draft's letter is then previewed on the
referral page, sandboxed. The evidence package is made by `pharmwatch evidence export` in a child process
(`WebConfig.cli`): the child opens the signing key, the web process never does, and the export is audited
exactly as the CLI's is (the signed-in user as exporter). A re-check runs `pharmwatch case recheck` as a
background job (`web.jobs`); the page polls a small status fragment (htmx) until it has finished.

`web.routes.cases` includes this router ahead of its generic `/cases/{id}/{action}` step route.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from cases import referrals as book
from cases.casebook import case_detail
from cases.referrals import AUTHORITIES, ReferralError
from storage.audit import record_event
from storage.models import Case, NetworkMember
from web.app import envelope, error, is_api, page
from web.deps import DbSession, Monitor, Principal, Supervisor
from web.jobs import Job, JobRefused

router = APIRouter()
EXPORT_TIMEOUT_SECONDS = 600  # a case of many captures makes a large package and a long PDF


def _case(db: Session, case_id: int) -> Case:
    case = db.get(Case, case_id)
    if case is None:
        raise HTTPException(404, f"no case {case_id}")
    return case


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


# --- referral -------------------------------------------------------------------------------------------
def referral_choices(db: Session, case_id: int) -> dict[str, Any]:
    """What the case page's referral form offers: every authority, the suggested ones first (with why),
    the operator network that could be referred whole, and the case's referrals so far."""
    suggested = {s.authority: s.why for s in book.suggest_authorities(db, case_id)}
    order = [*suggested, *(a for a in AUTHORITIES if a not in suggested)]
    case = _case(db, case_id)
    network = db.scalar(select(NetworkMember.network_id).where(NetworkMember.site_id == case.site_id))
    return {"authorities": [{"code": a, "name": AUTHORITIES[a], "why": suggested.get(a)} for a in order],
            "network_id": network, "referrals": book.list_referrals(db, case_id=case_id)}


def _refer(request: Request, db: Session, user: Principal, case_id: int, authority: str,
           whole_network: bool) -> Response:
    _case(db, case_id)
    network_id = None
    if whole_network:
        network_id = referral_choices(db, case_id)["network_id"]
        if network_id is None:
            return error(request, 409, f"case {case_id}'s site is in no operator network", user)
    try:
        referral = book.create_referral(db, case_id, actor=user.name, authority=authority or None,
                                        network_id=network_id)
        db.commit()
    except ReferralError as exc:
        db.rollback()
        return error(request, 409, str(exc), user)
    if is_api(request):
        return envelope(book.show_referral(db, referral.id), 201)
    return RedirectResponse(f"/referrals/{referral.id}?done=created", status_code=303)


@router.post("/cases/{case_id}/referral")
def referral_form(request: Request, db: DbSession, user: Supervisor, case_id: int,
                  authority: Annotated[str, Form(max_length=40)] = "",
                  network: Annotated[str, Form(max_length=5)] = "") -> Response:
    return _refer(request, db, user, case_id, authority, network == "yes")


class ReferralBody(BaseModel):
    authority: str = Field("", max_length=40, description="empty: the first authority the findings suggest")
    network: bool = Field(False, description="refer the whole operator network the case's site is in")


@router.post("/api/cases/{case_id}/referral")
def referral_json(request: Request, db: DbSession, user: Supervisor, case_id: int,
                  body: ReferralBody | None = None) -> Response:
    body = body or ReferralBody()
    return _refer(request, db, user, case_id, body.authority, body.network)


# --- evidence package -----------------------------------------------------------------------------------
def _export(request: Request, db: Session, user: Principal, case_id: int) -> Response:
    _case(db, case_id)
    command = request.app.state.config.cli
    if not command:
        return error(request, 503, "evidence export needs the pharmwatch command: start the UI with "
                                   "`pharmwatch serve`", user)
    folder = Path(tempfile.mkdtemp(prefix="pharmwatch-export-"))
    out = folder / f"pharmwatch-case-{case_id}.wacz"
    try:
        done = subprocess.run([*command, "evidence", "export", "--case", str(case_id), "-o", str(out),
                               "--by", user.name], capture_output=True, text=True, timeout=EXPORT_TIMEOUT_SECONDS,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        shutil.rmtree(folder, ignore_errors=True)
        return error(request, 504, f"the export took longer than {EXPORT_TIMEOUT_SECONDS} s", user)
    if done.returncode != 0 or not out.is_file():
        shutil.rmtree(folder, ignore_errors=True)
        reason = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        return error(request, 409, f"no evidence package: {reason.removeprefix('error: ')}", user)
    # The CLI's one line ("PATH: N bytes, sha256 …, signed by …") without the temporary path.
    summary = " ".join(done.stdout.split()).removeprefix(f"{out}: ")[:300]
    return FileResponse(out, media_type="application/zip", filename=out.name,
                        headers={"X-Evidence-Summary": summary.encode("ascii", "replace").decode()},
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))


@router.post("/cases/{case_id}/evidence")
def evidence_form(request: Request, db: DbSession, user: Supervisor, case_id: int) -> Response:
    return _export(request, db, user, case_id)


@router.post("/api/cases/{case_id}/evidence")
def evidence_json(request: Request, db: DbSession, user: Supervisor, case_id: int) -> Response:
    return _export(request, db, user, case_id)


# --- re-check now ---------------------------------------------------------------------------------------
def recheck_key(case_id: int) -> str:
    return f"case:{case_id}"


def recheck_state(request: Request, db: Session, case_id: int) -> dict[str, Any]:
    """The running or last re-check job of this process, and the last re-check the case records."""
    job: Job | None = request.app.state.jobs.latest(recheck_key(case_id))
    rechecks = [d for d in case_detail(db, case_id).decisions if d["action"] == "recheck"]
    last = None
    if rechecks:
        outcome, _, detail = (rechecks[-1]["reason"] or "").partition(": ")
        last = {"at": rechecks[-1]["at"], "actor": rechecks[-1]["actor"], "outcome": outcome, "detail": detail}
    return {"case_id": case_id, "job": job, "last": last, "closed": _case(db, case_id).status == "closed"}


def _recheck_answer(request: Request, db: Session, user: Principal, case_id: int, status_code: int = 200) -> Response:
    state = recheck_state(request, db, case_id)
    if is_api(request):
        return envelope({"job": state["job"].to_json() if state["job"] else None, "last_recheck": state["last"]},
                        status_code)
    return page(request, "case_recheck.html", state, user=user)


def _start_recheck(request: Request, db: Session, user: Principal, case_id: int) -> Response:
    if _case(db, case_id).status == "closed":
        return error(request, 409, f"case {case_id} is closed: reopen it to re-check it", user)
    try:
        job, started = request.app.state.jobs.start("case_recheck", recheck_key(case_id), case_id,
                                                     ["case", "recheck", str(case_id), "--by", user.name],
                                                     started_by=user.name)
    except JobRefused as exc:
        if is_htmx(request):  # htmx swaps nothing on an error status: the fragment says why instead
            return page(request, "case_recheck.html", {**recheck_state(request, db, case_id), "refused": str(exc)},
                        user=user)
        return error(request, 503, str(exc), user)
    if started:  # the outcome is audited by the re-check itself; that it was asked for, here
        record_event(db, actor=user.name, action="case_recheck_started", subject=f"case:{case_id}",
                     details={"job": job.id})
        db.commit()
    if is_api(request) or is_htmx(request):
        return _recheck_answer(request, db, user, case_id, 202 if started else 200)
    return RedirectResponse(f"/cases/{case_id}#recheck", status_code=303)


@router.post("/cases/{case_id}/recheck")
def recheck_form(request: Request, db: DbSession, user: Monitor, case_id: int) -> Response:
    return _start_recheck(request, db, user, case_id)


@router.post("/api/cases/{case_id}/recheck")
def recheck_start_json(request: Request, db: DbSession, user: Monitor, case_id: int) -> Response:
    return _start_recheck(request, db, user, case_id)


@router.get("/cases/{case_id}/recheck")
def recheck_fragment(request: Request, db: DbSession, user: Monitor, case_id: int) -> Response:
    _case(db, case_id)
    return _recheck_answer(request, db, user, case_id)


@router.get("/api/cases/{case_id}/recheck")
def recheck_status_json(request: Request, db: DbSession, user: Monitor, case_id: int) -> Response:
    _case(db, case_id)
    return _recheck_answer(request, db, user, case_id)


def case_page_extras(request: Request, db: Session, case_id: int, user: Principal) -> dict[str, Any]:
    """What the case page shows of these actions (the referral form only to supervisors)."""
    extras: dict[str, Any] = {"recheck": recheck_state(request, db, case_id),
                              "case_referrals": book.list_referrals(db, case_id=case_id)}
    if user.can("supervisor"):
        extras["refer"] = referral_choices(db, case_id)
    return extras
