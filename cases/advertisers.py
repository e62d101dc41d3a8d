"""Advertiser history: who advertised on which queries, how often, saying what, landing where.

Built from every stored SerpObservation of a paid ad, so it spans all scans. An advertiser is
named by the engine's advertiser line; ads that show none are grouped by their landing site.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Finding, SerpObservation, Site


@dataclass
class AdText:
    title: str
    snippet: str
    times: int


@dataclass
class AdvertiserHistory:
    advertiser: str  # the engine's advertiser line, or "(site) <domain>" when the ad shows none
    first_seen: str
    last_seen: str
    times_seen: int
    engines: list[str]
    queries: dict[str, int]  # query → times seen
    landing_sites: list[str]
    texts: list[AdText]
    rules_hit: list[str] = field(default_factory=list)  # rules the ad copy itself triggered

    def to_json(self) -> dict:
        return asdict(self)


def advertiser_history(session: Session, *, advertiser: str | None = None,
                       domain: str | None = None) -> list[AdvertiserHistory]:
    query = (select(SerpObservation, Site.domain).outerjoin(Site, SerpObservation.site_id == Site.id)
             .where(SerpObservation.is_ad.is_(True)).order_by(SerpObservation.observed_at))
    if advertiser:
        query = query.where(SerpObservation.advertiser.contains(advertiser))
    if domain:
        query = query.where(Site.domain == domain)
    groups: dict[str, list[tuple[SerpObservation, str | None]]] = {}
    for observation, site_domain in session.execute(query).all():
        key = observation.advertiser or f"(site) {site_domain or observation.url}"
        groups.setdefault(key, []).append((observation, site_domain))
    histories = []
    for name, rows in groups.items():
        observations = [o for o, _ in rows]
        texts = Counter((o.title, o.snippet) for o in observations)
        rules = session.scalars(select(Finding.rule_id).distinct().where(
            Finding.serp_observation_id.in_([o.id for o in observations]))).all()
        histories.append(AdvertiserHistory(
            advertiser=name,
            first_seen=observations[0].observed_at.replace(tzinfo=UTC).isoformat(timespec="seconds"),
            last_seen=observations[-1].observed_at.replace(tzinfo=UTC).isoformat(timespec="seconds"),
            times_seen=len(observations),
            engines=sorted({o.engine for o in observations}),
            queries=dict(Counter(o.query for o in observations).most_common()),
            landing_sites=sorted({d for _, d in rows if d}),
            texts=[AdText(title, snippet, times) for (title, snippet), times in texts.most_common()],
            rules_hit=sorted(rules),
        ))
    histories.sort(key=lambda h: (-len(h.rules_hit), -h.times_seen, h.advertiser))
    return histories
