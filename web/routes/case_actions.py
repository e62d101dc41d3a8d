"""The case page's heavier actions: referring a confirmed case (supervisor), downloading its signed evidence
package (supervisor), ordering a correction (supervisor) and re-checking it now in the background (monitor),
with their JSON twins.

Referring is `cases.referrals.create_referral` (audited there), optionally with an evidence package: one the
case exported before (chosen by its SHA-256 from the audit log, never by a path from the client) or a new
export kept in the data folder's exports/; the draft's letter is then previewed on the referral page,
sandboxed, and written as PDF there. A correction order (责令改正) or sales suspension is
`cases.orders.create_order`, as `pharmwatch order create`.
The evidence package is made by `pharmwatch evidence export` in a child process
(`WebConfig.cli`): the child opens the signing key, the web process never does, and the export is audited
exactly as the CLI's is (the signed-in user as exporter). A re-check runs `pharmwatch case recheck` as a
background job (`web.jobs`); the page polls a small status fragment (htmx) until it has finished.

`web.routes.cases` includes this router ahead of its generic `/cases/{id}/{action}` step route.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from cases import referrals as book
from cases.casebook import case_detail
from cases.lifecycle import CaseError
from cases.orders import KINDS as ORDER_KINDS
from cases.orders import OrderError, create_order, list_orders
from cases.referrals import AUTHORITIES, ReferralError
from storage.audit import record_event
from storage.models import Case, NetworkMember
from web.app import envelope, error, is_api, page
from web.deps import DbSession, Monitor, Principal, Supervisor
from web.jobs import Job, JobRefused

router = APIRouter()
EXPORT_TIMEOUT_SECONDS = 600  # a case of many captures makes a large package and a long PDF
DEFAULT_ORDER_DAYS = 15  # the deadline the order form proposes; the supervisor sets the real one


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
            "network_id": network, "referrals": book.list_referrals(db, case_id=case_id),
            "packages": [{**p, "name": Path(p["file"]).name} for p in book.exported_packages(db, case_id)]}


def case_package(request: Request, db: Session, user: Principal, case_id: int, choice: str) -> Path | Response | None:
    """The evidence package a referral travels with: none (""), a new export ("new", kept in the data
    folder's exports/), or one the case's audit log records as exported, named by its SHA-256 (a path never
    comes from the client)."""
    if not choice:
        return None
    if choice == "new":
        folder = exports_folder(request)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        exported = _run_export(request, user, case_id, folder / f"pharmwatch-case-{case_id}-{stamp}.wacz")
        return exported if isinstance(exported, Response) else exported[0]
    known = {p["sha256"]: Path(p["file"]) for p in book.exported_packages(db, case_id)}
    if choice not in known:
        return error(request, 409, f"case {case_id} has no exported package {choice[:80]!r} on this machine "
                                   "(export one, or choose another)", user)
    return known[choice]


def _refer(request: Request, db: Session, user: Principal, case_id: int, authority: str,
           whole_network: bool, package_choice: str = "") -> Response:
    case = _case(db, case_id)
    network_id = None
    if whole_network:
        network_id = referral_choices(db, case_id)["network_id"]
        if network_id is None:
            return error(request, 409, f"case {case_id}'s site is in no operator network", user)
    # What create_referral would refuse, refused before a package is exported for nothing.
    if case.status != "confirmed":
        return error(request, 409, f"case {case_id} is {case.status}: only a confirmed case is referred", user)
    if authority and authority not in AUTHORITIES:
        return error(request, 409, f"unknown authority {authority!r}; authorities: {', '.join(AUTHORITIES)}", user)
    package = case_package(request, db, user, case_id, package_choice)
    if isinstance(package, Response):
        return package
    db.expire_all()  # a new export was audited by the child process: read the log afresh
    try:
        referral = book.create_referral(db, case_id, actor=user.name, authority=authority or None,
                                        network_id=network_id, package=package)
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
                  network: Annotated[str, Form(max_length=5)] = "",
                  package: Annotated[str, Form(max_length=64)] = "") -> Response:
    return _refer(request, db, user, case_id, authority, network == "yes", package)


class ReferralBody(BaseModel):
    authority: str = Field("", max_length=40, description="empty: the first authority the findings suggest")
    network: bool = Field(False, description="refer the whole operator network the case's site is in")
    package: str = Field("", max_length=64, description='the evidence package it travels with: "" none, "new" '
                         "export one now, or the SHA-256 of one the case has exported (GET /api/cases/{id}/packages)")


@router.post("/api/cases/{case_id}/referral")
def referral_json(request: Request, db: DbSession, user: Supervisor, case_id: int,
                  body: ReferralBody | None = None) -> Response:
    body = body or ReferralBody()
    return _refer(request, db, user, case_id, body.authority, body.network, body.package)


@router.get("/api/cases/{case_id}/packages")
def packages_json(db: DbSession, user: Supervisor, case_id: int) -> Response:
    """The case's exported evidence packages still on this machine, newest first (what a referral can take)."""
    _case(db, case_id)
    return envelope(book.exported_packages(db, case_id))


# --- evidence package -----------------------------------------------------------------------------------
def exports_folder(request: Request) -> Path:
    """Where packages exported for a referral are kept (the download's temporary copy is not)."""
    config = request.app.state.config
    return (config.home or config.blob_dir.parent) / "exports"


def _run_export(request: Request, user: Principal, case_id: int, out: Path) -> tuple[Path, str] | Response:
    """`pharmwatch evidence export --case` into `out` in a child process (it opens the signing key; the web
    process never does); the package's path and the CLI's summary line, or the error saying why there is none."""
    command = request.app.state.config.cli
    if not command:
        return error(request, 503, "evidence export needs the pharmwatch command: start the UI with "
                                   "`pharmwatch serve`", user)
    try:
        done = subprocess.run([*command, "evidence", "export", "--case", str(case_id), "-o", str(out),
                               "--by", user.name], capture_output=True, text=True, timeout=EXPORT_TIMEOUT_SECONDS,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return error(request, 504, f"the export took longer than {EXPORT_TIMEOUT_SECONDS} s", user)
    if done.returncode != 0 or not out.is_file():
        reason = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        return error(request, 409, f"no evidence package: {reason.removeprefix('error: ')}", user)
    # The CLI's one line ("PATH: N bytes, sha256 …, signed by …") without the path.
    return out, " ".join(done.stdout.split()).removeprefix(f"{out}: ")[:300]


def _export(request: Request, db: Session, user: Principal, case_id: int) -> Response:
    _case(db, case_id)
    folder = Path(tempfile.mkdtemp(prefix="pharmwatch-export-"))
    exported = _run_export(request, user, case_id, folder / f"pharmwatch-case-{case_id}.wacz")
    if isinstance(exported, Response):
        shutil.rmtree(folder, ignore_errors=True)
        return exported
    out, summary = exported
    return FileResponse(out, media_type="application/zip", filename=out.name,
                        headers={"X-Evidence-Summary": summary.encode("ascii", "replace").decode()},
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))


@router.post("/cases/{case_id}/evidence")
def evidence_form(request: Request, db: DbSession, user: Supervisor, case_id: int) -> Response:
    return _export(request, db, user, case_id)


@router.post("/api/cases/{case_id}/evidence")
def evidence_json(request: Request, db: DbSession, user: Supervisor, case_id: int) -> Response:
    return _export(request, db, user, case_id)


# --- correction order -----------------------------------------------------------------------------------
def office_today(request: Request) -> date:
    return datetime.now(ZoneInfo(request.app.state.config.timezone)).date()


def _order(request: Request, db: Session, user: Principal, case_id: int, kind: str, deadline: str,
           product: str) -> Response:
    """`cases.orders.create_order` (as `pharmwatch order create`: audited there), the deadline judged against
    the office's today."""
    _case(db, case_id)
    try:
        day = date.fromisoformat(deadline.strip())
    except ValueError:
        return error(request, 400, f"deadline {deadline[:40]!r}: expected a day, YYYY-MM-DD", user)
    try:
        order = create_order(db, case_id, kind=kind, deadline=day, actor=user.name, today=office_today(request),
                             product=product or None)
        db.commit()
    except (OrderError, CaseError) as exc:
        db.rollback()
        return error(request, 409, str(exc), user)
    if is_api(request):
        return envelope(next(o for o in list_orders(db, case_id=case_id) if o["id"] == order.id), 201)
    return RedirectResponse(f"/cases/{case_id}?done=order#orders", status_code=303)


@router.post("/cases/{case_id}/order")
def order_form(request: Request, db: DbSession, user: Supervisor, case_id: int,
               kind: Annotated[str, Form(max_length=20)], deadline: Annotated[str, Form(max_length=20)],
               product: Annotated[str, Form(max_length=500)] = "") -> Response:
    return _order(request, db, user, case_id, kind, deadline, product)


class OrderBody(BaseModel):
    kind: str = Field(max_length=20, description="correct (责令改正) or suspend_sales")
    deadline: str = Field(max_length=20, description="YYYY-MM-DD, after today in the office's timezone")
    product: str = Field("", max_length=500, description="the product whose sales are suspended (suspend_sales)")


@router.post("/api/cases/{case_id}/order")
def order_json(request: Request, db: DbSession, user: Supervisor, case_id: int, body: OrderBody) -> Response:
    return _order(request, db, user, case_id, body.kind, body.deadline, body.product)


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
                              "case_referrals": book.list_referrals(db, case_id=case_id),
                              "case_orders": list_orders(db, case_id=case_id)}
    if user.can("supervisor"):
        extras["refer"] = referral_choices(db, case_id)
        today = office_today(request)
        extras["order_form"] = {"kinds": ORDER_KINDS, "min": (today + timedelta(days=1)).isoformat(),
                                "default": (today + timedelta(days=DEFAULT_ORDER_DAYS)).isoformat()}
    return extras
