"""The disease areas of sites: what their flagging findings speak of (the daily list, the case list, the digest).

Owns `site_areas()`: one query for all the sites asked about, each finding's areas read by
`rules.reference.diseases.finding_areas` (its excerpt first, then its rule's only area).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from rules.model import FLAGGING_SEVERITIES
from rules.reference.diseases import finding_areas
from storage.models import Finding


def site_areas(session: Session, site_ids: Collection[int], rule_diseases: Mapping[str, Sequence[str]], *,
               start: datetime | None = None, end: datetime | None = None) -> dict[int, list[str]]:
    """Site id → the sorted areas of its flagging findings (made in [start, end) when given); sites without
    any are left out."""
    query = select(Finding.site_id, Finding.excerpt, Finding.rule_id).where(
        Finding.site_id.in_(list(site_ids)), Finding.severity.in_(FLAGGING_SEVERITIES))
    if start is not None:
        query = query.where(Finding.created_at >= start)
    if end is not None:
        query = query.where(Finding.created_at < end)
    areas: dict[int, set[str]] = defaultdict(set)
    for site_id, excerpt, rule_id in session.execute(query):
        areas[site_id].update(finding_areas(excerpt, rule_diseases.get(rule_id, ())))
    return {site_id: sorted(found) for site_id, found in areas.items()}
