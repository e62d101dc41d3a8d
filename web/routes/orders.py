"""Correction orders (`/orders`, `/api/orders`): every order with its state, the same rows as
`pharmwatch order list` (`cases.orders.list_orders`), each marked open, overdue (open past its deadline,
waiting for `order check-due`) or done (complied or not), and filtered by that state."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cases.orders import list_orders
from web.app import envelope, page
from web.deps import DbSession, Monitor

router = APIRouter()
STATES = ("open", "overdue", "done")
State = Literal["", "open", "overdue", "done"]


@dataclass
class OrdersPage:
    today: str  # the office's local day the states were judged on
    state: str  # the filter ("" for all)
    orders: list[dict[str, Any]] = field(default_factory=list)  # list_orders' records plus "state"
    counts: dict[str, int] = field(default_factory=dict)  # state → orders, before filtering

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def order_state(record: dict[str, Any], today: date) -> str:
    if record["status"] != "open":
        return "done"
    return "overdue" if date.fromisoformat(record["deadline"]) < today else "open"


def orders_page(request: Request, db: DbSession, state: str) -> OrdersPage:
    today = datetime.now(ZoneInfo(request.app.state.config.timezone)).date()
    records = [{**record, "state": order_state(record, today)} for record in list_orders(db)]
    return OrdersPage(today=today.isoformat(), state=state,
                      orders=[r for r in records if not state or r["state"] == state],
                      counts={s: sum(r["state"] == s for r in records) for s in STATES})


@router.get("/orders")
def orders_html(request: Request, db: DbSession, user: Monitor, state: State = "") -> Response:
    return page(request, "orders.html", {"page": orders_page(request, db, state), "states": STATES}, user=user)


@router.get("/api/orders")
def orders_json(request: Request, db: DbSession, user: Monitor, state: State = "") -> Response:
    return envelope(orders_page(request, db, state).to_json())
