"""Referrals: a confirmed case sent to the authority that can act on it, with a letter and its evidence.

Authorities: police (illegal additives, controlled or fake drugs), telecom authority (close a
domestic unlicensed site), trademark authority (counterfeit brands), higher drug authority
(overseas hosting), market regulator, and the platform or search engine (paid ads, listings).
`suggest_authorities` derives them from the case's findings and signals; the supervisor can
choose another. A referral moves `draft → sent → acknowledged → closed` (the other side's
reference kept), every step audited; a confirmed case closes only when its referrals are closed.

The letter is HTML (and PDF, WeasyPrint) from a Jinja2 template with autoescape: the bundled
`cases/templates/referral_letter.html`, or the office's own copy at
`$PHARMWATCH_HOME/templates/referral_letter.html`, editable without touching code.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.lifecycle import flagging_findings, get_case
from cases.networks import network_detail
from storage.audit import events_for, record_event
from storage.models import Capture, Case, NetworkMember, Referral, SerpObservation, utcnow

AUTHORITIES: dict[str, str] = {
    "police": "公安机关",
    "telecom": "通信管理部门",
    "trademark": "商标（知识产权）主管部门",
    "higher_authority": "上级药品监督管理部门",
    "market_regulator": "市场监督管理部门",
    "platform": "平台/搜索引擎运营者",
}
STEPS: dict[str, tuple[str, ...]] = {"sent": ("draft",), "acknowledged": ("sent",), "closed": ("sent", "acknowledged")}
BUNDLED_TEMPLATE = Path(__file__).with_name("templates") / "referral_letter.html"
_POLICE_CATEGORIES = ("illegal_additive", "banned_online_sale", "rogue_pharmacy")


class ReferralError(Exception):
    """A referral that cannot be made or changed as asked; the message says why."""


@dataclass(frozen=True)
class Suggestion:
    authority: str
    why: str


def suggest_authorities(session: Session, case_id: int) -> list[Suggestion]:
    """Where the case should go, from what its findings and captures show (most specific first)."""
    case = get_case(session, case_id)
    findings = flagging_findings(session, case)
    categories = {f.category for f in findings}
    overseas = any((c.signals or {}).get("overseas_hosting") for c in session.scalars(
        select(Capture).where(Capture.site_id == case.site_id)))
    on_ads = any(f.serp_observation_id for f in findings) or session.scalar(
        select(SerpObservation.id).where(SerpObservation.site_id == case.site_id, SerpObservation.is_ad.is_(True))
        .limit(1)) is not None
    out: list[Suggestion] = []
    if categories & set(_POLICE_CATEGORIES):
        out.append(Suggestion("police", "illegal additives, controlled or banned drugs: "
                              + ", ".join(sorted(categories & set(_POLICE_CATEGORIES)))))
    if "counterfeit_brand" in categories:
        out.append(Suggestion("trademark", "counterfeit brand-name drugs"))
    if overseas:
        out.append(Suggestion("higher_authority", "the site is hosted outside mainland China"))
    elif categories:
        out.append(Suggestion("telecom", "a domestic site selling or advertising drugs unlawfully: close it"))
    if on_ads:
        out.append(Suggestion("platform", "paid search ads lead to the site: remove them"))
    if not out:
        out.append(Suggestion("market_regulator", "false medical advertising"))
    return out


def create_referral(session: Session, case_id: int, *, actor: str, authority: str | None = None,
                    package: Path | None = None, network_id: int | None = None) -> Referral:
    """Refer a confirmed case; with `network_id`, the whole operator network its site belongs to (the letter
    then lists every site of the network and every identifier that ties them)."""
    case = get_case(session, case_id)
    if case.status != "confirmed":
        raise ReferralError(f"case {case_id} is {case.status}: only a confirmed case is referred")
    if network_id is not None:
        member = session.scalar(select(NetworkMember.network_id).where(NetworkMember.site_id == case.site_id))
        if member != network_id:
            raise ReferralError(f"case {case_id}'s site {case.site.domain} is not in operator network {network_id}"
                                + (f" (it is in network {member})" if member else ""))
    suggestions = suggest_authorities(session, case_id)
    if authority is None:
        chosen = suggestions[0]
    elif authority not in AUTHORITIES:
        raise ReferralError(f"unknown authority {authority!r}; authorities: {', '.join(AUTHORITIES)}")
    else:
        chosen = next((s for s in suggestions if s.authority == authority),
                      Suggestion(authority, f"chosen by {actor} (suggested: "
                                            f"{', '.join(s.authority for s in suggestions)})"))
    digest = _package_digest(package) if package is not None else None
    referral = Referral(case_id=case_id, authority=chosen.authority, why=chosen.why, created_by=actor,
                        package_sha256=digest, network_id=network_id)
    session.add(referral)
    session.flush()
    record_event(session, actor=actor, action="referral_created", subject=f"case:{case_id}",
                 details={"referral": referral.id, "authority": chosen.authority, "why": chosen.why,
                          "package_sha256": digest, "network": network_id})
    return referral


def _package_digest(package: Path) -> str:
    try:
        with package.open("rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    except OSError as exc:
        raise ReferralError(f"{package}: cannot read the evidence package: {exc.strerror or exc}") from None


def attach_package(session: Session, referral_id: int, package: Path, *, actor: str) -> Referral:
    """Attach (or replace) the evidence package of a draft referral: its SHA-256 goes in the letter. Once sent,
    the letter and its package are what the other side holds, so they stay as they are."""
    referral = session.get(Referral, referral_id)
    if referral is None:
        raise ReferralError(f"no referral {referral_id}")
    if referral.status != "draft":
        raise ReferralError(f"referral {referral_id} is {referral.status}: a package is attached while it is a draft")
    before, referral.package_sha256 = referral.package_sha256, _package_digest(package)
    referral.updated_at = utcnow()
    record_event(session, actor=actor, action="referral_package_attached", subject=f"case:{referral.case_id}",
                 details={"referral": referral.id, "package_sha256": referral.package_sha256, "replaced": before})
    session.flush()
    return referral


def exported_packages(session: Session, case_id: int) -> list[dict[str, Any]]:
    """The case's evidence packages still on this machine, newest first: every `exported` audit event of the
    case whose file is still there ({"file", "sha256", "at", "actor"}). A referral may travel with one
    (`create_referral(package=...)`, which hashes the file again)."""
    found = []
    for event in reversed(events_for(session, [f"case:{case_id}"])):
        file, digest = event.details.get("file"), event.details.get("sha256")
        if event.action == "exported" and isinstance(file, str) and isinstance(digest, str) and Path(file).is_file():
            found.append({"file": file, "sha256": digest, "at": event.at.isoformat(timespec="seconds"),
                          "actor": event.actor})
    return found


def update_referral(session: Session, referral_id: int, status: str, *, actor: str,
                    their_reference: str | None = None) -> Referral:
    referral = session.get(Referral, referral_id)
    if referral is None:
        raise ReferralError(f"no referral {referral_id}")
    if status not in STEPS:
        raise ReferralError(f"unknown status {status!r}; statuses: {', '.join(STEPS)}")
    if referral.status not in STEPS[status]:
        raise ReferralError(f"referral {referral_id} is {referral.status}: cannot mark it {status} "
                            f"(needs {' or '.join(STEPS[status])})")
    before = referral.status
    referral.status, referral.updated_at = status, utcnow()
    if their_reference:
        referral.their_reference = their_reference.strip()
    record_event(session, actor=actor, action=f"referral_{status}", subject=f"case:{referral.case_id}",
                 details={"referral": referral.id, "from": before, "their_reference": referral.their_reference})
    session.flush()
    return referral


def list_referrals(session: Session, *, case_id: int | None = None) -> list[dict[str, Any]]:
    """Referrals (of one case, or all), newest first, as records."""
    query = select(Referral).order_by(Referral.id.desc())
    if case_id is not None:
        query = query.where(Referral.case_id == case_id)
    return [{"id": r.id, "case_id": r.case_id, "authority": r.authority, "status": r.status, "why": r.why,
             "their_reference": r.their_reference, "package_sha256": r.package_sha256, "network_id": r.network_id,
             "created_by": r.created_by, "created_at": r.created_at.isoformat(timespec="seconds")}
            for r in session.scalars(query)]


def show_referral(session: Session, referral_id: int) -> dict[str, Any]:
    """One referral as a record, with its site and every step taken (from the audit log: who, when, status)."""
    referral = session.get(Referral, referral_id)
    if referral is None:
        raise ReferralError(f"no referral {referral_id}")
    record = next(r for r in list_referrals(session, case_id=referral.case_id) if r["id"] == referral_id)
    record["site"] = session.get_one(Case, referral.case_id).site.domain
    record["authority_name"] = AUTHORITIES.get(referral.authority, referral.authority)
    record["steps"] = [
        {"at": event.at.isoformat(timespec="seconds"), "actor": event.actor,
         "action": event.action.removeprefix("referral_"), "their_reference": event.details.get("their_reference")}
        for event in events_for(session, [f"case:{referral.case_id}"])
        if event.action.startswith("referral_") and event.details.get("referral") == referral_id]
    return record


def referral_letter(session: Session, referral_id: int, *, home: Path, key_fingerprint: str | None) -> str:
    """The letter as HTML (every crawled value escaped by the template's autoescape)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    referral = session.get(Referral, referral_id)
    if referral is None:
        raise ReferralError(f"no referral {referral_id}")
    case = get_case(session, referral.case_id)
    findings = flagging_findings(session, case)
    captures = {c.id: c for c in session.scalars(select(Capture).where(Capture.site_id == case.site_id))}
    identifiers = sorted({lead for c in captures.values() for lead in (c.signals or {}).get("contact_leads", [])})
    own = home / "templates" / BUNDLED_TEMPLATE.name
    template_path = own if own.is_file() else BUNDLED_TEMPLATE
    env = Environment(loader=FileSystemLoader(str(template_path.parent)), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined)
    context: dict[str, Any] = {
        "referral": referral, "authority": AUTHORITIES[referral.authority], "case": case, "site": case.site.domain,
        "identifiers": identifiers, "key_fingerprint": key_fingerprint,
        "findings": [{"title": f.title, "severity": f.severity, "legal_basis": list(f.legal_basis),
                      "excerpt": f.excerpt,
                      "url": captures[f.capture_id].url if f.capture_id in captures else None,
                      "fetched_at": (captures[f.capture_id].fetched_at.replace(tzinfo=UTC).isoformat(timespec="seconds")
                                     if f.capture_id in captures else None),
                      "sha256": captures[f.capture_id].body_sha256 if f.capture_id in captures else None}
                     for f in findings],
        "legal_basis": sorted({basis for f in findings for basis in f.legal_basis}),
        "today": utcnow().date().isoformat(),
        "network": network_detail(session, referral.network_id).to_json() if referral.network_id else None,
    }
    return env.get_template(template_path.name).render(**context)
