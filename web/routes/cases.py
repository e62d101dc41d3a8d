"""Cases: the list (`/cases`, in pages cut in SQL), one case in full (`/cases/{id}`) with its lifecycle steps as
POST forms, and their JSON twins (`/api/cases`, `/api/cases/{id}`, `POST /api/cases/{id}/{action}`).

Reading is `cases.casebook`, acting is `cases.lifecycle` (which records the decision and the audit
event); this adds the role each step needs and the excerpt split into plain and matched segments
(the template escapes both; the match is wrapped in <mark> by the template, never by string building).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from cases.casebook import CaseDetail, CasesPage, case_detail, cases_page
from cases.lifecycle import REASON_REQUIRED, STATUSES, CaseError, act, assign
from storage.blobs import BlobStore
from storage.models import Capture, UserAccount
from web.app import envelope, error, is_api, page
from web.deps import DbSession, Forbidden, Monitor, Principal
from web.routes import case_actions

router = APIRouter()
PAGE_SIZE = 50  # cases a page, as the daily list
# Referral, evidence export and re-check now come first: the step route below takes any /cases/{id}/{action}.
router.include_router(case_actions.router)
# The role each step needs: monitors review, decide and hand out work; closing and reopening a
# decided case are a supervisor's.
ACTION_ROLES = {"review": "monitor", "confirm": "monitor", "dismiss": "monitor", "assign": "monitor",
                "close": "supervisor", "reopen": "supervisor"}


@dataclass
class CasePage:
    detail: CaseDetail
    actions: list[str]  # steps this user may take now
    excerpts: dict[int, list[tuple[str, bool]]] = field(default_factory=dict)  # finding id → (text, matched)
    shots: dict[int, bool] = field(default_factory=dict)  # capture id → has a screenshot
    pages: dict[int, bool] = field(default_factory=dict)  # capture id → has a stored body
    users: list[str] = field(default_factory=list)  # who a case can be assigned to

    def to_json(self) -> dict[str, Any]:
        return {**self.detail.to_json(), "your_actions": self.actions}


def highlighted(excerpt: str, phrases: list[str]) -> list[tuple[str, bool]]:
    """The excerpt as (text, matched) segments: every occurrence of a matched phrase is a matched segment."""
    phrases = sorted({p for p in phrases if p}, key=len, reverse=True)
    segments: list[tuple[str, bool]] = []
    i = plain = 0
    while i < len(excerpt):
        hit = next((p for p in phrases if excerpt.startswith(p, i)), None)
        if hit is None:
            i += 1
            continue
        if plain < i:
            segments.append((excerpt[plain:i], False))
        segments.append((hit, True))
        i = plain = i + len(hit)
    if plain < len(excerpt):
        segments.append((excerpt[plain:], False))
    return segments


def _matched_phrases(db: Session, blobs: BlobStore, capture_id: int | None, spans: list[Any]) -> list[str]:
    """The matched text of a finding's spans, read from its capture's stored text (spans are offsets there)."""
    if capture_id is None or not spans:
        return []
    sha = db.scalar(select(Capture.text_sha256).where(Capture.id == capture_id))
    if not sha or not blobs.path(sha, ".txt").exists():
        return []
    text = blobs.get(sha, ".txt").decode("utf-8", "replace")
    return [" ".join(text[a:b].split()) for a, b in (tuple(s) for s in spans) if 0 <= a < b <= len(text)]


def case_page(request: Request, db: Session, case_id: int, user: Principal) -> CasePage:
    from storage.models import Finding

    detail = case_detail(db, case_id)
    blobs = BlobStore(request.app.state.config.blob_dir)
    actions = [a for a in detail.allowed_actions if user.can(ACTION_ROLES.get(a, "admin"))]
    result = CasePage(detail, actions)
    for finding in detail.findings:
        spans = db.scalar(select(Finding.spans).where(Finding.id == finding["id"])) or []
        result.excerpts[finding["id"]] = highlighted(
            finding["excerpt"], _matched_phrases(db, blobs, finding["capture_id"], spans))
    for capture in db.scalars(select(Capture).where(Capture.id.in_([c["id"] for c in detail.captures]))):
        result.shots[capture.id] = bool(capture.screenshot_sha256)
        result.pages[capture.id] = bool(capture.body_sha256)
    result.users = list(db.scalars(select(UserAccount.name).where(UserAccount.disabled.is_(False))
                                   .order_by(UserAccount.name)))
    return result


def _case_or_404(request: Request, db: Session, case_id: int, user: Principal) -> CasePage:
    try:
        return case_page(request, db, case_id, user)
    except CaseError as exc:
        raise HTTPException(404, str(exc)) from None


def _cases(request: Request, db: Session, status: str, assignee: str, page_no: int) -> CasesPage:
    try:
        return cases_page(db, status=status or None, assignee=assignee or None, page=page_no, page_size=PAGE_SIZE,
                          rule_diseases=request.app.state.config.rule_diseases)
    except CaseError as exc:
        raise HTTPException(400, str(exc)) from None


@router.get("/cases")
def cases_html(request: Request, db: DbSession, user: Monitor, status: str = "", assignee: str = "",
               page_no: int = 1) -> Response:
    listed = _cases(request, db, status, assignee, page_no)
    return page(request, "cases.html", {"listed": listed, "cases": listed.cases, "statuses": STATUSES,
                                        "status": status, "assignee": assignee}, user=user)


@router.get("/api/cases")
def cases_json(request: Request, db: DbSession, user: Monitor, status: str = "", assignee: str = "",
               page_no: int = 1) -> Response:
    """One page of cases (`page_no`, PAGE_SIZE a page), newest first, with the total and the page count."""
    return envelope(_cases(request, db, status, assignee, page_no).to_json())


@router.get("/cases/{case_id}")
def case_html(request: Request, db: DbSession, user: Monitor, case_id: int) -> Response:
    c = _case_or_404(request, db, case_id, user)
    return page(request, "case.html", {"c": c, "reason_required": REASON_REQUIRED,
                                       "done": request.query_params.get("done"),
                                       **case_actions.case_page_extras(request, db, case_id, user)}, user=user)


@router.get("/api/cases/{case_id}")
def case_json(request: Request, db: DbSession, user: Monitor, case_id: int) -> Response:
    return envelope(_case_or_404(request, db, case_id, user).to_json())


def _step(request: Request, db: Session, user: Principal, case_id: int, action: str, reason: str,
          assignee: str) -> Response:
    if action not in ACTION_ROLES:
        raise HTTPException(404, f"no action {action!r}; actions: {', '.join(ACTION_ROLES)}")
    if not user.can(ACTION_ROLES[action]):
        raise Forbidden()
    try:
        if action == "assign":
            if assignee and not db.scalar(select(UserAccount.id).where(UserAccount.name == assignee,
                                                                      UserAccount.disabled.is_(False))):
                raise CaseError(f"no active user {assignee!r} to assign the case to")
            step = assign(db, case_id, assignee, actor=user.name)
        else:
            step = act(db, case_id, action, actor=user.name, reason=reason)
        db.commit()
    except CaseError as exc:
        db.rollback()
        status = 404 if str(exc).startswith("no case") else 409
        return error(request, status, str(exc), user)
    except StaleDataError:
        db.rollback()
        return error(request, 409, f"case {case_id} was changed by someone else meanwhile: reload it", user)
    if is_api(request):
        return envelope(asdict(step))
    return RedirectResponse(f"/cases/{case_id}?done={action}", status_code=303)


@router.post("/cases/{case_id}/{action}")
def case_step_form(request: Request, db: DbSession, user: Monitor, case_id: int, action: str,
                   reason: Annotated[str, Form(max_length=2000)] = "",
                   assignee: Annotated[str, Form(max_length=100)] = "") -> Response:
    return _step(request, db, user, case_id, action, reason, assignee)


class StepBody(BaseModel):
    reason: str = Field("", max_length=2000)
    assignee: str = Field("", max_length=100)


@router.post("/api/cases/{case_id}/{action}")
def case_step_json(request: Request, db: DbSession, user: Monitor, case_id: int, action: str,
                   body: StepBody | None = None) -> Response:
    body = body or StepBody()
    return _step(request, db, user, case_id, action, body.reason, body.assignee)
