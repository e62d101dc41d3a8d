"""Lenient extraction of every identifier family from page text: `extract_identifiers()`, `parse_identifier()`.

Runs each family on the text normalised for identifiers (`rules.normalise`, purpose "identifiers"),
resolves overlapping matches by kind and maps offsets back to the text as given.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Collection, Iterator
from typing import Final

from rules.normalise import normalise
from rules.reference.identifiers.approvals import ad_approvals, device_numbers, drug_approvals, health_food_numbers
from rules.reference.identifiers.contacts import contact_leads
from rules.reference.identifiers.filings import icp_numbers, public_security_filings
from rules.reference.identifiers.identifier import KINDS, Candidate, Identifier
from rules.reference.identifiers.info_service import icp_given_as_certificate, info_service_certificates
from rules.reference.identifiers.trading import (
    device_trading_licences,
    drug_trading_licences,
    legacy_trading_certificates,
    platform_filings,
)

_EXTRACTORS: Final[tuple[Callable[[str], Iterator[Candidate]], ...]] = (
    info_service_certificates,
    icp_given_as_certificate,
    ad_approvals,
    drug_approvals,
    health_food_numbers,
    device_numbers,
    legacy_trading_certificates,
    drug_trading_licences,
    device_trading_licences,
    platform_filings,
    icp_numbers,
    public_security_filings,
    contact_leads,
)
#: The kinds each family yields, so that `extract_identifiers(kinds=...)` runs only the families it needs.
_YIELDS: Final[dict[Callable[[str], Iterator[Candidate]], frozenset[str]]] = {
    info_service_certificates: frozenset({"info_service_cert"}),
    icp_given_as_certificate: frozenset({"info_service_cert", "trading_cert_legacy"}),
    ad_approvals: frozenset({"ad_approval"}),
    drug_approvals: frozenset({"drug_approval"}),
    health_food_numbers: frozenset({"health_food"}),
    device_numbers: frozenset({"device"}),
    legacy_trading_certificates: frozenset({"trading_cert_legacy"}),
    drug_trading_licences: frozenset({"drug_trading_licence"}),
    device_trading_licences: frozenset({"device_trading_licence"}),
    platform_filings: frozenset({"platform_filing"}),
    icp_numbers: frozenset({"icp_filing", "icp_licence"}),
    public_security_filings: frozenset({"psb_filing"}),
    contact_leads: frozenset({"email", "wechat", "qq", "phone"}),
}
_PRIORITY: Final = {kind: i for i, kind in enumerate(KINDS)}
# Pairs allowed to overlap: an ICP number inside the brackets of a malformed certificate number, or
# given as a certificate's number (reported as both).
_NESTING: Final = frozenset({
    ("info_service_cert", "icp_filing"), ("info_service_cert", "icp_licence"),
    ("trading_cert_legacy", "icp_filing"), ("trading_cert_legacy", "icp_licence"),
})
# Quick pre-checks: a family of patterns runs only when its key characters occur at all.
_NEEDS: Final[dict[Callable[[str], Iterator[Candidate]], re.Pattern[str]]] = {
    info_service_certificates: re.compile(r"[\dXxO]{4}\s{0,3}-"),
    icp_given_as_certificate: re.compile(r"ICP|icp|Icp|B[12]\s{0,3}-"),
    ad_approvals: re.compile("广"),
    drug_approvals: re.compile(r"国\s{0,3}药|注册证"),
    health_food_numbers: re.compile(r"健|G\d|J\d"),
    device_numbers: re.compile("械"),
    legacy_trading_certificates: re.compile(r"[ABCabc]\s{0,3}\d{7}"),
    drug_trading_licences: re.compile(r"[A-Z]{2}\s{0,3}\d{7}"),
    device_trading_licences: re.compile("械"),
    platform_filings: re.compile("网"),
    icp_numbers: re.compile(r"ICP|icp|Icp|B[12]\s{0,3}-"),
    public_security_filings: re.compile("备"),
    contact_leads: re.compile(""),  # every page may carry a contact lead
}


def _overlaps(kept: list[Candidate], cand: Candidate) -> bool:
    for other in kept:
        if cand.start < other.end and other.start < cand.end:
            if (other.kind, cand.kind) in _NESTING or (cand.kind, other.kind) in _NESTING:
                continue
            return True
    return False


def extract_identifiers(text: str, kinds: Collection[str] | None = None) -> list[Identifier]:
    """Every licence, approval, filing number and contact lead in `text`, in order of position.

    Never raises on any string. Overlapping matches are resolved by kind (see `KINDS`): a number
    inside a longer, more specific one is not reported twice (the 11 digits inside 国械注准… are no
    phone number), except an ICP number written inside a certificate number's brackets. `kinds`
    (None = all) keeps only those kinds; the answer for them is the same as unfiltered, since only the
    families of those kinds and of the kinds preferred over them are run.
    """
    if not text:
        return []
    wanted: frozenset[str] | None = None
    needed: frozenset[str] = frozenset(KINDS)
    if kinds is not None:
        wanted = frozenset(kinds)
        # A match of a more preferred kind can hide one of ours, so those families run too.
        last = max((_PRIORITY[k] for k in wanted), default=-1)
        needed = frozenset(KINDS[: last + 1])
    norm = normalise(text, purpose="identifiers")
    candidates: list[Candidate] = []
    for extractor in _EXTRACTORS:
        if wanted is not None and not _YIELDS[extractor] & needed:
            continue
        if _NEEDS[extractor].search(norm.text) is None:
            continue
        candidates.extend(extractor(norm.text))
    candidates.sort(key=lambda c: (_PRIORITY[c.kind], c.start, -(c.end - c.start)))
    # Index kept spans by start for the overlap test; lists stay short (a page has few numbers).
    kept: list[Candidate] = []
    starts: list[int] = []
    for cand in candidates:
        lo = bisect_right(starts, cand.end)
        if _overlaps(kept[:lo], cand):
            continue
        kept.insert(lo, cand)
        starts.insert(lo, cand.start)
    kept.sort(key=lambda c: (c.start, _PRIORITY[c.kind]))
    out: list[Identifier] = []
    for cand in kept:
        if wanted is not None and cand.kind not in wanted:
            continue
        start, end = norm.to_original(cand.start, cand.end)
        raw = text[start:end]
        # Trailing/leading whitespace of the raw span is never part of the number.
        stripped = raw.strip()
        if stripped != raw:
            start += len(raw) - len(raw.lstrip())
            end = start + len(stripped)
            raw = stripped
        out.append(
            Identifier(
                kind=cand.kind,
                raw=raw,
                normalised=cand.normalised,
                start=start,
                end=end,
                status=cand.status,
                reason=cand.reason,
                parts=cand.parts,
                notes=tuple(cand.notes),
            )
        )
    return out


def parse_identifier(value: str, kind: str) -> Identifier | None:
    """The one identifier of `kind` that makes up all of `value` (surrounding spaces ignored), or None.

    Used to validate registry rows: a registry number must be exactly one number of its kind.
    """
    value = value.strip()
    found = [i for i in extract_identifiers(value) if i.kind == kind]
    if len(found) != 1:
        return None
    ident = found[0]
    rest = (value[: ident.start] + value[ident.end :]).strip(" :号")
    return ident if not rest else None
