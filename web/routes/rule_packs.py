"""Rule packs (admin only): `/rules` and `/api/rules`, from `web.rule_packs` (packs, versions, digests, rule
counts, the `rules lint` result, the second-opinion model against this checkout's corpus). Read-only:
packs are files under review; they are changed in the repository or the configured folders, not here."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from web.app import envelope, page
from web.deps import Admin
from web.rule_packs import rule_packs_view

router = APIRouter()


@router.get("/rules")
def rules_html(request: Request, user: Admin) -> Response:
    return page(request, "rules.html", {"view": rule_packs_view(request.app.state.config.rule_paths)}, user=user)


@router.get("/api/rules")
def rules_json(request: Request, user: Admin) -> Response:
    return envelope(rule_packs_view(request.app.state.config.rule_paths).to_json())
