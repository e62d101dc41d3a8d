"""Referrals: the list by status (`/referrals?status=`), one referral with its steps and its letter
(`/referrals/{id}`), the letter itself (`/referrals/{id}/letter`), the letter written as PDF and downloaded
(`POST /referrals/{id}/letter.pdf`: supervisors, audited), attaching an evidence package to a draft
(`POST /referrals/{id}/package`, as `referral attach`), and moving its status (sent →
acknowledged → closed, with the other side's reference: supervisors); JSON twins under /api/.

Reading and acting are `cases.referrals` (which writes the audit event, the signed-in user as actor). The
letter is our own template but carries crawled text (titles, excerpts, URLs), so it is served like a
captured page: `Content-Security-Policy: sandbox` and nothing loaded, framed by `<iframe sandbox>`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import referrals as book
from cases.evidence.report import render_pdf
from cases.referrals import AUTHORITIES, STEPS, ReferralError
from storage.audit import record_event
from storage.models import Case, Referral, Site
from web.app import envelope, error, is_api, page
from web.deps import DbSession, Monitor, Principal, Supervisor
from web.routes.captures import CAPTURED_PAGE_CSP
from web.routes.case_actions import case_package

router = APIRouter()
STATUSES = ("draft", "sent", "acknowledged", "closed")


def _referrals(db: Session, status: str) -> list[dict[str, Any]]:
    if status and status not in STATUSES:
        raise HTTPException(400, f"unknown referral status {status!r}; statuses: {', '.join(STATUSES)}")
    rows = [r for r in book.list_referrals(db) if not status or r["status"] == status]
    sites = dict(db.execute(select(Case.id, Site.domain).join(Site, Site.id == Case.site_id)
                            .where(Case.id.in_({r["case_id"] for r in rows}))).all())
    return [{**r, "site": sites.get(r["case_id"], ""), "authority_name": AUTHORITIES.get(r["authority"], "")}
            for r in rows]


def next_statuses(status: str) -> list[str]:
    return [step for step, before in STEPS.items() if status in before]


def _referral(db: Session, referral_id: int) -> dict[str, Any]:
    try:
        record = book.show_referral(db, referral_id)
    except ReferralError as exc:
        raise HTTPException(404, str(exc)) from None
    return {**record, "next": next_statuses(record["status"])}


@router.get("/referrals")
def referrals_html(request: Request, db: DbSession, user: Monitor, status: str = "") -> Response:
    return page(request, "referrals.html", {"referrals": _referrals(db, status), "statuses": STATUSES,
                                            "status": status}, user=user)


@router.get("/api/referrals")
def referrals_json(db: DbSession, user: Monitor, status: str = "") -> Response:
    return envelope(_referrals(db, status))


@router.get("/referrals/{referral_id}")
def referral_html(request: Request, db: DbSession, user: Monitor, referral_id: int) -> Response:
    record = _referral(db, referral_id)
    packages = ([{**p, "name": Path(p["file"]).name} for p in book.exported_packages(db, record["case_id"])]
                if user.can("supervisor") and record["status"] == "draft" else None)
    return page(request, "referral.html", {"r": record, "packages": packages,
                                           "done": request.query_params.get("done")}, user=user)


@router.get("/api/referrals/{referral_id}")
def referral_json(db: DbSession, user: Monitor, referral_id: int) -> Response:
    return envelope(_referral(db, referral_id))


@router.get("/referrals/{referral_id}/letter")
def referral_letter_page(request: Request, db: DbSession, user: Monitor, referral_id: int) -> Response:
    config = request.app.state.config
    try:
        html = book.referral_letter(db, referral_id, home=config.home or config.blob_dir.parent,
                               key_fingerprint=config.key_fingerprint)
    except ReferralError as exc:
        raise HTTPException(404, str(exc)) from None
    return Response(html.encode("utf-8"), media_type="text/html; charset=utf-8",
                    headers={"Content-Security-Policy": CAPTURED_PAGE_CSP, "X-Content-Type-Options": "nosniff",
                             "X-Frame-Options": "SAMEORIGIN", "Referrer-Policy": "no-referrer",
                             "Cross-Origin-Resource-Policy": "same-origin"})


def _letter_pdf(request: Request, db: Session, user: Principal, referral_id: int) -> Response:
    """The letter as PDF, as `pharmwatch referral letter -o letter.pdf` writes it (`cases.referrals.referral_letter`
    rendered by `cases.evidence.report.render_pdf`, which loads nothing from outside); audited: the letter
    names the case's site and its evidence, and the PDF is what leaves the office."""
    config = request.app.state.config
    try:
        html = book.referral_letter(db, referral_id, home=config.home or config.blob_dir.parent,
                                    key_fingerprint=config.key_fingerprint)
    except ReferralError as exc:
        return error(request, 404, str(exc), user)
    pdf = render_pdf(html, {})
    case_id = db.scalar(select(Referral.case_id).where(Referral.id == referral_id))
    record_event(db, actor=user.name, action="referral_letter_written", subject=f"case:{case_id}",
                 details={"referral": referral_id, "sha256": hashlib.sha256(pdf).hexdigest(), "bytes": len(pdf)})
    db.commit()
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="pharmwatch-referral-{referral_id}.pdf"',
        "X-Content-Type-Options": "nosniff"})


@router.post("/referrals/{referral_id}/letter.pdf")
def referral_letter_pdf_form(request: Request, db: DbSession, user: Supervisor, referral_id: int) -> Response:
    return _letter_pdf(request, db, user, referral_id)


@router.post("/api/referrals/{referral_id}/letter.pdf")
def referral_letter_pdf_json(request: Request, db: DbSession, user: Supervisor, referral_id: int) -> Response:
    return _letter_pdf(request, db, user, referral_id)


def _attach(request: Request, db: Session, user: Principal, referral_id: int, choice: str) -> Response:
    """`cases.referrals.attach_package` (as `pharmwatch referral attach`) with a package chosen as on the case
    page: one the case exported (by SHA-256) or a new export."""
    case_id = db.scalar(select(Referral.case_id).where(Referral.id == referral_id))
    if case_id is None:
        return error(request, 404, f"no referral {referral_id}", user)
    if db.scalar(select(Referral.status).where(Referral.id == referral_id)) != "draft":  # before any export
        return error(request, 409, f"referral {referral_id} is sent: a package is attached while it is a draft", user)
    if not choice:
        return error(request, 400, "choose a package: one the case exported, or a new export", user)
    package = case_package(request, db, user, case_id, choice)
    if isinstance(package, Response):
        return package
    db.expire_all()  # a new export was audited by the child process
    try:
        book.attach_package(db, referral_id, package, actor=user.name)
        db.commit()
    except ReferralError as exc:
        db.rollback()
        return error(request, 409, str(exc), user)
    if is_api(request):
        return envelope(_referral(db, referral_id))
    return RedirectResponse(f"/referrals/{referral_id}?done=package", status_code=303)


@router.post("/referrals/{referral_id}/package")
def referral_package_form(request: Request, db: DbSession, user: Supervisor, referral_id: int,
                          package: Annotated[str, Form(max_length=64)] = "") -> Response:
    return _attach(request, db, user, referral_id, package)


class PackageBody(BaseModel):
    package: str = Field(max_length=64, description='"new" to export one now, or the SHA-256 of one the case '
                                                    "exported (GET /api/cases/{id}/packages)")


@router.post("/api/referrals/{referral_id}/package")
def referral_package_json(request: Request, db: DbSession, user: Supervisor, referral_id: int,
                          body: PackageBody) -> Response:
    return _attach(request, db, user, referral_id, body.package)


def _move(request: Request, db: Session, user: Principal, referral_id: int, status: str,
          their_reference: str) -> Response:
    try:
        book.update_referral(db, referral_id, status, actor=user.name, their_reference=their_reference or None)
        db.commit()
    except ReferralError as exc:
        db.rollback()
        return error(request, 404 if str(exc).startswith("no referral") else 409, str(exc), user)
    if is_api(request):
        return envelope(_referral(db, referral_id))
    return RedirectResponse(f"/referrals/{referral_id}?done={status}", status_code=303)


@router.post("/referrals/{referral_id}/status")
def referral_status_form(request: Request, db: DbSession, user: Supervisor, referral_id: int,
                         status: Annotated[str, Form(max_length=20)],
                         their_reference: Annotated[str, Form(max_length=200)] = "") -> Response:
    return _move(request, db, user, referral_id, status, their_reference)


class StatusBody(BaseModel):
    status: str = Field(max_length=20)
    their_reference: str = Field("", max_length=200)


@router.post("/api/referrals/{referral_id}/status")
def referral_status_json(request: Request, db: DbSession, user: Supervisor, referral_id: int,
                         body: StatusBody) -> Response:
    return _move(request, db, user, referral_id, body.status, body.their_reference)
