"""Ads and advertisers (`/ads`, `/api/ads`): who advertised on which queries, how often, saying what and
landing where, over all scans: `cases.advertisers.advertiser_history`, the same histories as
`pharmwatch report ads`, filtered as it is (advertiser name contains, landing domain)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from cases.advertisers import advertiser_history
from web.app import envelope, page
from web.deps import DbSession, Monitor

router = APIRouter()
Text = Annotated[str, Query(max_length=200)]


@router.get("/ads")
def ads_html(request: Request, db: DbSession, user: Monitor, advertiser: Text = "", domain: Text = "") -> Response:
    histories = advertiser_history(db, advertiser=advertiser.strip() or None, domain=domain.strip() or None)
    return page(request, "ads.html", {"histories": histories, "advertiser": advertiser, "domain": domain}, user=user)


@router.get("/api/ads")
def ads_json(db: DbSession, user: Monitor, advertiser: Text = "", domain: Text = "") -> Response:
    histories = advertiser_history(db, advertiser=advertiser.strip() or None, domain=domain.strip() or None)
    return envelope([h.to_json() for h in histories])
