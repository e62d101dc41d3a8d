"""The dashboard (`/dashboard?from=&to=&by=`) and its JSON twin (`/api/dashboard`): the statistics report's
figures (`cases.stats.period_stats`, the same queries as `pharmwatch report stats`) with bar charts drawn on
the server as SVG (no script, nothing to vendor): flagged sites per period, findings by disease area and
by category, referrals by authority.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from cases.stats import TOTAL, PeriodStats, period_stats
from web.app import envelope, page
from web.deps import DbSession, Monitor

router = APIRouter()
MAX_DAYS = 3_700  # about ten years
DEFAULT_DAYS = 30
From = Annotated[date | None, Query(alias="from")]  # `from` is a Python keyword
To = Annotated[date | None, Query(alias="to")]


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    width: float  # share of the longest bar, 0..100


def bars(pairs: list[tuple[str, int]]) -> list[Bar]:
    top = max((value for _, value in pairs), default=0) or 1
    return [Bar(label, value, round(100 * value / top, 1)) for label, value in pairs]


def _stats(request: Request, db: DbSession, start: date | None, end: date | None, by: str) -> PeriodStats:
    config = request.app.state.config
    today = datetime.now(ZoneInfo(config.timezone)).date()
    end = end or today
    try:
        start = start or end - timedelta(days=DEFAULT_DAYS - 1)
        if (end - start).days >= MAX_DAYS:  # a page, not a batch job: years of daily periods would hang the server
            raise ValueError(f"the dashboard shows at most {MAX_DAYS} days; `pharmwatch report stats` takes any range")
        return period_stats(db, start, end, config.timezone, by, config.rule_diseases)
    except (ValueError, OverflowError) as exc:
        raise HTTPException(400, str(exc)) from None


def charts(stats: PeriodStats) -> dict[str, list[Bar]]:
    def totals(table: str, measure: str) -> list[tuple[str, int]]:
        rows = [(row.key or "", row.values[measure]) for row in stats.table(table).rows
                if row.period == TOTAL and row.key is not None]
        return sorted(rows, key=lambda pair: -pair[1])

    checks = stats.table("checks")
    return {
        "flagged_per_period": bars([(p.label, checks.value(p.label, "flagged_sites")) for p in stats.periods]),
        "by_disease": bars(totals("findings_by_disease", "areas")),
        "by_category": bars(totals("findings_by_category", "flagging_findings")),
        "referrals": bars(totals("referrals", "created")),
    }


@router.get("/dashboard")
def dashboard_html(request: Request, db: DbSession, user: Monitor, start: From = None, end: To = None,
                   by: str = "day") -> Response:
    stats = _stats(request, db, start, end, by)
    return page(request, "dashboard.html", {"stats": stats, "charts": charts(stats), "total": TOTAL}, user=user)


@router.get("/api/dashboard")
def dashboard_json(request: Request, db: DbSession, user: Monitor, start: From = None, end: To = None,
                   by: str = "day") -> Response:
    stats = _stats(request, db, start, end, by)
    return envelope({**stats.to_json(), "charts": {name: [bar.__dict__ for bar in chart]
                                                   for name, chart in charts(stats).items()}})
