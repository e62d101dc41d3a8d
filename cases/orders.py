"""Correction orders (责令改正) and sales suspensions: a deadline, then a re-check decides them.

An order belongs to a confirmed case and carries a deadline in the future. Once the deadline has
passed, `check_due_orders` (what the daily scheduled job and `pharmwatch order check --due` call)
re-checks each order's case (`cases.recheck`) and resolves the order: `complied` when the
violation is gone or the site closed, `not_complied` when it is still there or moved elsewhere.
A case closes only when its orders are resolved (`cases.lifecycle.unresolved_actions`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cases.lifecycle import get_case
from cases.recheck import RecheckResult, recheck_case
from rules import RuleSet
from storage.audit import record_event
from storage.db import transaction
from storage.models import CorrectionOrder, utcnow

KINDS = ("correct", "suspend_sales")
COMPLIED = ("violation_gone", "unreachable")


class OrderError(Exception):
    """An order that cannot be made as asked; the message says why."""


def create_order(session: Session, case_id: int, *, kind: str, deadline: date, actor: str, today: date,
                 product: str | None = None) -> CorrectionOrder:
    case = get_case(session, case_id)
    if case.status != "confirmed":
        raise OrderError(f"case {case_id} is {case.status}: only a confirmed case gets an order")
    if kind not in KINDS:
        raise OrderError(f"unknown order kind {kind!r}; kinds: {', '.join(KINDS)}")
    if kind == "suspend_sales" and not (product or "").strip():
        raise OrderError("a sales suspension names its product (--product)")
    if deadline <= today:
        raise OrderError(f"the deadline {deadline} is not after today ({today})")
    order = CorrectionOrder(case_id=case_id, kind=kind, product=(product or "").strip() or None, deadline=deadline,
                            created_by=actor)
    session.add(order)
    session.flush()
    record_event(session, actor=actor, action="order_created", subject=f"case:{case_id}",
                 details={"order": order.id, "kind": kind, "product": order.product, "deadline": deadline.isoformat()})
    return order


def list_orders(session: Session, *, case_id: int | None = None) -> list[dict[str, Any]]:
    """Orders (of one case, or all), newest first, as records."""
    query = select(CorrectionOrder).order_by(CorrectionOrder.id.desc())
    if case_id is not None:
        query = query.where(CorrectionOrder.case_id == case_id)
    return [{"id": o.id, "case_id": o.case_id, "kind": o.kind, "product": o.product, "deadline": o.deadline.isoformat(),
             "status": o.status, "resolution": o.resolution} for o in session.scalars(query)]


def due_orders(session: Session, today: date) -> list[CorrectionOrder]:
    """Open orders whose deadline has passed."""
    return list(session.scalars(select(CorrectionOrder).where(CorrectionOrder.status == "open",
                                                              CorrectionOrder.deadline < today)
                                .order_by(CorrectionOrder.id)))


def check_due_orders(sessions: sessionmaker[Session], today: date, crawl_settings: Mapping[str, Any], *,
                     actor: str, ruleset: RuleSet | None = None) -> list[tuple[int, str, RecheckResult]]:
    """Re-check the case of every due order (once per case) and resolve the orders; (order id, status, re-check)."""
    with sessions() as session:
        due = [(order.id, order.case_id) for order in due_orders(session, today)]
    results: dict[int, RecheckResult] = {}
    resolved = []
    for order_id, case_id in due:
        if case_id not in results:
            results[case_id] = recheck_case(sessions, case_id, crawl_settings, actor=actor, ruleset=ruleset)
        result = results[case_id]
        status = "complied" if result.outcome in COMPLIED else "not_complied"
        with transaction(sessions) as session:
            order = session.get_one(CorrectionOrder, order_id)
            order.status, order.resolved_at = status, utcnow()
            order.resolution = f"re-check run {result.run_id}: {result.outcome}"
            record_event(session, actor=actor, action=f"order_{status}", subject=f"case:{case_id}",
                         details={"order": order_id, "recheck_run": result.run_id, "outcome": result.outcome})
        resolved.append((order_id, status, result))
    return resolved
