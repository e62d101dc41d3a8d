"""Operator networks (串并案): flagged sites run by the same people, linked by the identifiers they share.

Owns the identifier index (`index_captures`: each captured page's contacts, analytics and ad-tracking ids,
QR-code targets in its screenshot, licence numbers, its template's and its icon's fingerprints, the domains
of its redirect chain and its server address, into `site_identifier`, scan by scan) and the networks built from it
(`build_networks`, `list_networks`, `network_detail`).

How sites link: every kind of identifier a pair of flagged sites shares adds its strength once (`STRENGTH`); a pair
whose strengths reach `LINK_AT` is linked, and linked sites form a network. A phone, WeChat/QQ id,
e-mail or analytics account links by itself, and so does a doorway domain redirecting to a shop; a
shared server address, page template or icon only adds weight (many unrelated shops sit on one host or use
one shop system with its default icon), a /24 even less. An identifier seen on more than `max_sites` sites (of all sites
ever captured, flagged or not) links nothing: a platform's own analytics id or a CDN address is no link.
The stop-list (`cases/network_stoplist.yaml`, reviewed data) names identifiers and address ranges that
never link. Networks keep their id as they grow; when a new link joins two, the older absorbs the newer
(`merged_into`), and both events are audited.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases.blacklist import BlacklistError, add_entry
from crawler.domains import site_of
from crawler.page_template import template_fingerprint
from crawler.qr_codes import qr_targets
from crawler.tracking_ids import tracking_ids
from rules.model import FLAGGING_SEVERITIES
from storage.audit import record_event
from storage.blobs import BlobStore
from storage.models import Capture, Finding, NetworkMember, OperatorNetwork, Site, SiteIdentifier, utcnow

#: How much one shared identifier of each kind says that two sites have one operator.
STRENGTH: Final[dict[str, float]] = {
    "phone": 1.0, "wechat": 1.0, "qq": 1.0, "email": 1.0,
    "baidu_tongji": 1.0, "cnzz": 1.0, "la51": 1.0, "google_analytics": 1.0, "google_tag": 1.0,
    "qr": 1.0,  # a QR code's target: a WeChat contact, a payment code, a landing page
    # A doorway domain redirecting to a shop on another domain: both carry `redirect:<the shop's domain>`.
    # Only whoever controls the doorway's server or DNS can point it at the shop, so it links by itself
    # (a marketplace or a parking service many domains point to is on the stop-list or too widespread).
    "redirect": 1.0,
    "tls": 0.8,  # one certificate served for several domains (shared hosts' default certificates spread too far)
    "licence": 0.6,  # one licence number shown on several domains: copied, often by one forger
    # The page template's structure (crawler.page_template): one seller's template, or a shop system's that
    # many unrelated sellers use (the spread rule stops the widespread ones, not the rare ones): only adds.
    "template": 0.4,
    # The site's icon (crawler/favicons.py, SHA-256 of its bytes): an operator reuses his logo across domains,
    # but a shop system's or CMS's default icon is on countless unrelated shops (the stop-list names the
    # known ones, the spread rule stops the rest): like a template, it only adds.
    "favicon": 0.4,
    "ip": 0.4, "ip24": 0.2,
}
#: A pair of sites whose shared identifiers add up to this is linked.
LINK_AT: Final = 1.0
#: An identifier on more sites than this links nothing (a platform's id, a CDN's address).
MAX_SITES: Final = 25
STOPLIST_PATH: Final = Path(__file__).resolve().parent / "network_stoplist.yaml"


@lru_cache(maxsize=1)
def stoplist() -> tuple[frozenset[str], tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]]:
    """(identifiers `kind:value` that never link, address ranges whose addresses never link)."""
    data = yaml.safe_load(STOPLIST_PATH.read_text(encoding="utf-8")) or {}
    return (frozenset(data.get("identifiers") or ()),
            tuple(ipaddress.ip_network(cidr) for cidr in data.get("networks") or ()))


def capture_identifiers(capture: Capture, html: str | None, screenshot: bytes | None = None) -> set[tuple[str, str]]:
    """(kind, value) of one captured page: contacts, licence numbers, its site's icon and the TLS
    certificate's fingerprint from its signals, tracking ids and the template's fingerprint from its HTML,
    QR-code targets from its screenshot, the other domains of its redirect chain, its server address and
    that address's /24."""
    signals = capture.signals or {}
    found: set[tuple[str, str]] = set()
    for lead in signals.get("contact_leads") or ():
        kind, _, value = str(lead).partition(":")
        if kind in STRENGTH and value:
            found.add((kind, value))
    icon = signals.get("favicon")
    if isinstance(icon, dict) and icon.get("sha256"):
        found.add(("favicon", str(icon["sha256"])))
    certificate = signals.get("tls_certificate")
    if isinstance(certificate, dict) and certificate.get("sha256"):
        found.add(("tls", str(certificate["sha256"])))
    for check in signals.get("licence_checks") or ():
        if isinstance(check, dict) and check.get("normalised"):
            found.add(("licence", str(check["normalised"])))
    if html:
        for tracked in tracking_ids(html):
            kind, _, value = tracked.partition(":")
            found.add((kind, value))
        template = template_fingerprint(html)
        if template:
            found.add(("template", template))
    if screenshot:
        found.update(("qr", target) for target in qr_targets(screenshot))
    found.update(("redirect", domain) for domain in redirect_chain(capture)[1:])
    if capture.server_ip:
        try:
            address = ipaddress.ip_address(capture.server_ip)
        except ValueError:
            address = None
        if address is not None and address.is_global:
            found.add(("ip", str(address)))
            if address.version == 4:
                found.add(("ip24", str(ipaddress.ip_network(f"{address}/24", strict=False))))
    return {(kind, value[:255]) for kind, value in found}


def redirect_chain(capture: Capture) -> list[str]:
    """The registrable domains a page's fetch went through, in order and each once: the page's own, every
    redirect hop's (`signals.redirect_hops`: a tracker, a cloaker, an ad's click server), the final one's.
    One domain when the page did not leave its own."""
    hops = (capture.signals or {}).get("redirect_hops") or []
    chain: list[str] = []
    for url in [capture.url, *(str(hop) for hop in hops), capture.final_url or capture.url]:
        domain = site_of(url)
        if domain and domain not in chain:
            chain.append(domain)
    return chain


def index_captures(session: Session, blob_dir: Path, *, scan_run_id: int | None = None) -> int:
    """Add the identifiers of a scan's pages (every scan's with None) to the index; the count of new rows.
    A page that redirected to another domain gives `redirect:<d>` for every domain it went through or
    landed on to its own site and, when the landing domain is a known site, to that site too, with the
    page's own domain and the hops (the doorway and the shop it leads to share `redirect:<shop>`; two shops
    reached through one tracker or one doorway share `redirect:<tracker>`)."""
    blobs = BlobStore(blob_dir)
    query = select(Capture).where(Capture.error.is_(None)).order_by(Capture.id)
    if scan_run_id is not None:
        query = query.where(Capture.scan_run_id == scan_run_id)
    known = {(row.site_id, row.kind, row.value): row for row in session.scalars(
        select(SiteIdentifier).where(SiteIdentifier.site_id.in_(query.with_only_columns(Capture.site_id))))}
    added = 0

    def note(site_id: int, kind: str, value: str, when: datetime) -> None:
        nonlocal added
        row = known.get((site_id, kind, value))
        if row is None:  # a redirect's target site: not among the scan's sites, so perhaps stored already
            row = session.scalar(select(SiteIdentifier).where(
                SiteIdentifier.site_id == site_id, SiteIdentifier.kind == kind, SiteIdentifier.value == value))
        if row is None:
            row = SiteIdentifier(site_id=site_id, kind=kind, value=value, first_seen=when, last_seen=when)
            session.add(row)
            added += 1
        else:
            row.first_seen = min(row.first_seen, when)
            row.last_seen = max(row.last_seen, when)
        known[(site_id, kind, value)] = row

    for capture in session.scalars(query):
        html = None
        if capture.body_sha256:
            path = blobs.path(capture.body_sha256, ".html")
            html = path.read_text(encoding="utf-8", errors="replace") if path.exists() else None
        screenshot = None
        if capture.screenshot_sha256:
            shot = blobs.path(capture.screenshot_sha256, ".png")
            screenshot = shot.read_bytes() if shot.exists() else None
        for kind, value in capture_identifiers(capture, html, screenshot):
            note(capture.site_id, kind, value, capture.fetched_at)
        chain = redirect_chain(capture)
        if len(chain) > 1:
            landing = session.scalar(select(Site.id).where(Site.domain == chain[-1]))
            if landing is not None and landing != capture.site_id:
                for domain in chain:
                    note(landing, "redirect", domain[:255], capture.fetched_at)
    session.flush()
    return added


def captured_sites(session: Session, scan_run_id: int) -> list[int]:
    """The sites a scan captured: whose links that scan can have changed."""
    return list(session.scalars(select(Capture.site_id).where(Capture.scan_run_id == scan_run_id).distinct()))


@dataclass(frozen=True)
class NetworkChange:
    created: list[int] = field(default_factory=list)
    grown: list[int] = field(default_factory=list)
    merged: list[tuple[int, int]] = field(default_factory=list)  # (absorbed, into)


def linking(session: Session, max_sites: int = MAX_SITES,
            site_ids: Iterable[int] | None = None) -> dict[tuple[str, str], set[int]]:
    """Identifiers that link: shared by two or more flagged sites, on at most `max_sites` sites in all,
    not on the stop-list; each with the flagged sites that show it. With `site_ids`, only the identifiers
    those sites show (what a scan of them can change: the cost follows the scan, not the index)."""
    if site_ids is None:
        rows = session.execute(select(SiteIdentifier.kind, SiteIdentifier.value, SiteIdentifier.site_id)).all()
    else:
        keys = session.execute(select(SiteIdentifier.kind, SiteIdentifier.value).distinct()
                               .where(SiteIdentifier.site_id.in_(list(site_ids)))).all()
        rows = _sites_showing(session, keys)
    by_identifier: dict[tuple[str, str], set[int]] = defaultdict(set)
    for kind, value, site_id in rows:
        by_identifier[(kind, value)].add(site_id)
    # Spread counts every site (flagged or not): a platform's id is on thousands of clean shops too.
    candidates = {key: sites for key, sites in by_identifier.items()
                  if 2 <= len(sites) <= max_sites and not _stopped(*key)}
    flagged = _flagged(session, {site for sites in candidates.values() for site in sites})
    shared = {key: sites & flagged for key, sites in candidates.items()}
    return {key: sites for key, sites in shared.items() if len(sites) >= 2}


def _sites_showing(session: Session, keys: Iterable[tuple[str, str]]) -> list[tuple[str, str, int]]:
    """(kind, value, site) of every site showing one of `keys`, by the (kind, value) index."""
    by_kind: dict[str, list[str]] = defaultdict(list)
    for kind, value in keys:
        by_kind[kind].append(value)
    rows: list[tuple[str, str, int]] = []
    for kind, values in by_kind.items():
        for start in range(0, len(values), 500):  # bound the IN list
            rows += session.execute(select(SiteIdentifier.kind, SiteIdentifier.value, SiteIdentifier.site_id).where(
                SiteIdentifier.kind == kind, SiteIdentifier.value.in_(values[start:start + 500]))).all()
    return rows


def _flagged(session: Session, site_ids: set[int]) -> set[int]:
    ordered, out = sorted(site_ids), set()
    for start in range(0, len(ordered), 500):
        out.update(session.scalars(select(Finding.site_id).distinct().where(
            Finding.site_id.in_(ordered[start:start + 500]), Finding.severity.in_(FLAGGING_SEVERITIES))))
    return out


def _stopped(kind: str, value: str) -> bool:
    identifiers, ranges = stoplist()
    if f"{kind}:{value}" in identifiers:
        return True
    if kind in ("ip", "ip24"):
        try:
            network = ipaddress.ip_network(value, strict=False)
        except ValueError:  # not an address: nothing to compare with the ranges
            return False
        return any(network.version == r.version and network.subnet_of(r) for r in ranges)  # type: ignore[arg-type]
    return False


def groups(links: dict[tuple[str, str], set[int]]) -> list[set[int]]:
    """Sites joined by pairs whose shared kinds of identifier add up to LINK_AT (connected groups of two or more)."""
    # Each kind counts once per pair: two template values (a page's plain and rendered copies) or two server
    # addresses of one host are one piece of evidence, not two.
    pair_kinds: dict[tuple[int, int], set[str]] = defaultdict(set)
    for (kind, _), sites in links.items():
        ordered = sorted(sites)
        for i, first in enumerate(ordered):
            for second in ordered[i + 1:]:
                pair_kinds[(first, second)].add(kind)
    pair_weight = {pair: sum(STRENGTH.get(kind, 0.0) for kind in kinds) for pair, kinds in pair_kinds.items()}
    parent: dict[int, int] = {}

    def root(site: int) -> int:
        parent.setdefault(site, site)
        while parent[site] != site:
            parent[site] = parent[parent[site]]
            site = parent[site]
        return site

    for (first, second), weight in pair_weight.items():
        if weight >= LINK_AT - 1e-9:
            parent[root(first)] = root(second)
    members: dict[int, set[int]] = defaultdict(set)
    for site in parent:
        members[root(site)].add(site)
    return [sites for sites in members.values() if len(sites) >= 2]


def build_networks(session: Session, *, max_sites: int = MAX_SITES, actor: str = "crawler",
                   site_ids: Iterable[int] | None = None) -> NetworkChange:
    """Bring the stored networks in line with the links of the index (only those of `site_ids`, the sites a
    scan captured, when given); ids are kept, merges recorded. A site whose links went away stays in its
    network (the record of a past link is evidence too)."""
    change = NetworkChange()
    found = groups(linking(session, max_sites, site_ids))
    members = {site for sites in found for site in sites}
    current = {m.site_id: m for m in session.scalars(select(NetworkMember).where(NetworkMember.site_id.in_(members)))}
    for sites in found:
        networks = sorted({current[s].network_id for s in sites if s in current})
        if not networks:
            network = OperatorNetwork()
            session.add(network)
            session.flush()
            target = network.id
            change.created.append(target)
            record_event(session, actor=actor, action="network_created", subject=f"network:{target}",
                         details={"sites": _domains(session, sites)})
        else:
            target = networks[0]
            for absorbed in networks[1:]:
                for member in session.scalars(select(NetworkMember).where(NetworkMember.network_id == absorbed)):
                    member.network_id = target
                session.get_one(OperatorNetwork, absorbed).merged_into = target
                change.merged.append((absorbed, target))
                record_event(session, actor=actor, action="network_merged", subject=f"network:{absorbed}",
                             details={"into": target})
        new_sites = [s for s in sites if s not in current]
        for site_id in new_sites:
            current[site_id] = NetworkMember(network_id=target, site_id=site_id)
            session.add(current[site_id])
        if new_sites or len(networks) > 1:
            session.get_one(OperatorNetwork, target).updated_at = utcnow()
            if networks:
                change.grown.append(target)
                record_event(session, actor=actor, action="network_grown", subject=f"network:{target}",
                             details={"added": _domains(session, new_sites)})
    session.flush()
    return change


def _domains(session: Session, site_ids: Iterable[int]) -> list[str]:
    return sorted(session.scalars(select(Site.domain).where(Site.id.in_(list(site_ids)))))


@dataclass
class NetworkSummary:
    id: int
    sites: list[str]
    identifiers: int  # linking identifiers among its sites
    created_at: str
    updated_at: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class NetworkDetail:
    network: NetworkSummary
    links: list[dict[str, Any]]  # {kind, value, strength, sites, first_seen}
    merged_from: list[int]

    def to_json(self) -> dict[str, Any]:
        return {**self.network.to_json(), "links": self.links, "merged_from": self.merged_from}


def network_detail(session: Session, network_id: int, *, max_sites: int = MAX_SITES,
                   links_now: dict[tuple[str, str], set[int]] | None = None) -> NetworkDetail:
    """A network's sites and the identifiers that tie them (with when each was first seen among them)."""
    network = session.get(OperatorNetwork, network_id)
    if network is None:
        raise LookupError(f"no network {network_id}")
    if network.merged_into is not None:
        raise LookupError(f"network {network_id} was merged into network {network.merged_into}")
    members = {m.site_id for m in session.scalars(select(NetworkMember).where(NetworkMember.network_id == network_id))}
    domains = {site_id: domain for site_id, domain in
               session.execute(select(Site.id, Site.domain).where(Site.id.in_(members)))}
    links = []
    for (kind, value), sites in sorted((links_now if links_now is not None else linking(session, max_sites)).items()):
        inside = sites & members
        if len(inside) < 2:
            continue
        first = session.scalar(select(func.min(SiteIdentifier.first_seen)).where(
            SiteIdentifier.kind == kind, SiteIdentifier.value == value, SiteIdentifier.site_id.in_(inside)))
        links.append({"kind": kind, "value": value, "strength": STRENGTH.get(kind, 0.0),
                      "sites": sorted(domains[s] for s in inside), "first_seen": _iso(first)})
    merged_from = list(session.scalars(select(OperatorNetwork.id).where(OperatorNetwork.merged_into == network_id)
                                       .order_by(OperatorNetwork.id)))
    summary = NetworkSummary(network_id, sorted(domains.values()), len(links), _iso(network.created_at),
                             _iso(network.updated_at))
    return NetworkDetail(summary, links, merged_from)


def list_networks(session: Session, *, max_sites: int = MAX_SITES) -> list[NetworkSummary]:
    """Active networks (not merged away), newest activity first."""
    links_now = linking(session, max_sites)
    return [network_detail(session, network_id, links_now=links_now).network
            for network_id in session.scalars(select(OperatorNetwork.id).where(OperatorNetwork.merged_into.is_(None))
                                              .order_by(OperatorNetwork.updated_at.desc(), OperatorNetwork.id.desc()))]


def _iso(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else ""


#: Identifier kinds that are also blacklist kinds (cases.blacklist.KINDS): an operator's contacts.
BLACKLISTABLE: Final = ("phone", "wechat", "qq", "email")


def blacklist_network(session: Session, network_id: int, *, reason: str, actor: str) -> tuple[list[int], list[str]]:
    """Put a whole network on the blacklist in one act: every site, and every contact (phone, WeChat, QQ,
    e-mail) shown on its sites. Returns (the new entries' ids, what was skipped and why: already listed,
    not a value the extractors recognise). The next scans flag any page showing one of them."""
    detail = network_detail(session, network_id)
    site_ids = session.scalars(select(NetworkMember.site_id).where(NetworkMember.network_id == network_id))
    contacts = session.execute(select(SiteIdentifier.kind, SiteIdentifier.value).distinct().where(
        SiteIdentifier.site_id.in_(list(site_ids)), SiteIdentifier.kind.in_(BLACKLISTABLE))
        .order_by(SiteIdentifier.kind, SiteIdentifier.value)).all()
    why = f"{reason} (operator network {network_id})"
    added, skipped = [], []
    for kind, value in [*(("site", domain) for domain in detail.network.sites), *contacts]:
        try:
            added.append(add_entry(session, kind, value, reason=why, actor=actor).id)
        except BlacklistError as exc:
            skipped.append(f"{kind} {value}: {exc}")
    record_event(session, actor=actor, action="network_blacklisted", subject=f"network:{network_id}",
                 details={"entries": added, "skipped": skipped, "reason": reason})
    return added, skipped
