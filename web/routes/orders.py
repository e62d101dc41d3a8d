"""Correction orders (`/orders`, `/api/orders`): every order with its state, the same rows as
`pharmwatch order list` (`cases.orders.list_orders`), each marked open, overdue (open past its deadline,
waiting for `order check-due`) or done (complied or not), and filtered by that state; and deciding the
overdue ones now (`POST /orders/check-due`, supervisors): `pharmwatch order check-due` as a background job
(`web.jobs`: it re-checks each due order's site, a crawl), whose state the page shows. Orders are made from
the case page (`web.routes.case_actions`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from cases.orders import list_orders
from storage.audit import record_event
from web.app import envelope, error, is_api, page
from web.deps import DbSession, Monitor, Principal, Supervisor
from web.jobs import JobRefused

router = APIRouter()
STATES = ("open", "overdue", "done")
State = Literal["", "open", "overdue", "done"]
CHECK_DUE_KEY = "orders:due"  # one check-due job at a time, whoever starts it


@dataclass
class OrdersPage:
    today: str  # the office's local day the states were judged on
    state: str  # the filter ("" for all)
    orders: list[dict[str, Any]] = field(default_factory=list)  # list_orders' records plus "state"
    counts: dict[str, int] = field(default_factory=dict)  # state → orders, before filtering
    check_due: dict[str, Any] | None = None  # the running or last `order check-due` job of this server

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def order_state(record: dict[str, Any], today: date) -> str:
    if record["status"] != "open":
        return "done"
    return "overdue" if date.fromisoformat(record["deadline"]) < today else "open"


def orders_page(request: Request, db: DbSession, state: str) -> OrdersPage:
    today = datetime.now(ZoneInfo(request.app.state.config.timezone)).date()
    records = [{**record, "state": order_state(record, today)} for record in list_orders(db)]
    result = OrdersPage(today=today.isoformat(), state=state,
                      orders=[r for r in records if not state or r["state"] == state],
                      counts={s: sum(r["state"] == s for r in records) for s in STATES})
    job = request.app.state.jobs.latest(CHECK_DUE_KEY)
    result.check_due = job.to_json() if job is not None else None
    return result


@router.get("/orders")
def orders_html(request: Request, db: DbSession, user: Monitor, state: State = "") -> Response:
    return page(request, "orders.html", {"page": orders_page(request, db, state), "states": STATES}, user=user)


@router.get("/api/orders")
def orders_json(request: Request, db: DbSession, user: Monitor, state: State = "") -> Response:
    return envelope(orders_page(request, db, state).to_json())


def _check_due(request: Request, db: DbSession, user: Principal) -> Response:
    try:
        job, started = request.app.state.jobs.start("order_check_due", CHECK_DUE_KEY, 0,
                                                     ["order", "check-due", "--by", user.name], started_by=user.name)
    except JobRefused as exc:
        return error(request, 503, str(exc), user)
    if started:  # each order's outcome is audited by check-due itself; that it was asked for, here
        record_event(db, actor=user.name, action="orders_check_due_started", subject="orders:due",
                     details={"job": job.id})
        db.commit()
    if is_api(request):
        return envelope(job.to_json(), 202 if started else 200)
    return RedirectResponse("/orders?state=overdue", status_code=303)


@router.post("/orders/check-due")
def check_due_form(request: Request, db: DbSession, user: Supervisor) -> Response:
    return _check_due(request, db, user)


@router.post("/api/orders/check-due")
def check_due_json(request: Request, db: DbSession, user: Supervisor) -> Response:
    """Start `pharmwatch order check-due` (re-check the site of every overdue order, then resolve it); the job's
    state is `check_due` in GET /api/orders."""
    return _check_due(request, db, user)
