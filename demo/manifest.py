"""Loader for ``demo/manifest.yaml``: the one description of the demo web's fixture sites and of what a
correct analysis finds on each. Tests, benchmarks and the end-to-end scan read it through here, so they
agree on field names, defaults and allowed values."""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

MANIFEST_PATH = Path(__file__).with_name("manifest.yaml")

CATEGORIES = frozenset({
    "disease_cure_claim", "forbidden_ad_claim", "non_drug_as_drug", "illegal_additive",
    "banned_online_sale", "prescription_without_rx", "unlicensed_sale", "rogue_pharmacy",
    "forged_or_invalid_licence", "counterfeit_brand", "off_platform_sale",
})
DISEASES = frozenset({"diabetes", "hypertension", "kidney", "rheumatism", "gout", "sexual_dysfunction"})
EXPECTED = frozenset({"flagged", "not_flagged"})

_REQUIRED = ("domain", "start_url", "kind", "expected", "expected_categories", "diseases",
             "evidence_phrase", "needs_js", "encoding")
_OPTIONAL = ("evidence_url", "needs_ocr")


@dataclass(frozen=True)
class DemoSite:
    """One fixture site and its expected verdict."""

    domain: str
    start_url: str
    kind: str
    expected: str  # "flagged" | "not_flagged"
    expected_categories: tuple[str, ...]
    diseases: tuple[str, ...]
    evidence_phrase: str
    evidence_url: str  # page holding evidence_phrase; start_url unless the manifest says otherwise
    needs_js: bool
    encoding: str
    #: The evidence exists only in images: `check` and a scan with OCR on (the demo's) find it.
    needs_ocr: bool = False

    @property
    def flagged(self) -> bool:
        return self.expected == "flagged"


class ManifestError(ValueError):
    """The manifest does not match its schema."""


def load_manifest(path: Path = MANIFEST_PATH) -> list[DemoSite]:
    """All fixture sites, in manifest order; raises ManifestError on any schema violation."""
    document = _read(path)
    entries = document.get("sites")
    if not isinstance(entries, list) or not entries:
        raise ManifestError(f"{path}: 'sites' must be a non-empty list")
    sites = [_parse_site(entry, index) for index, entry in enumerate(entries)]
    domains = [site.domain for site in sites]
    duplicates = sorted({d for d in domains if domains.count(d) > 1})
    if duplicates:
        raise ManifestError(f"{path}: duplicate domains {duplicates}")
    return sites


def load_search_engine_host(path: Path = MANIFEST_PATH) -> str:
    """Host name of the mock search engine (``search_engine.host``)."""
    engine = _read(path).get("search_engine") or {}
    host = engine.get("host") if isinstance(engine, dict) else None
    if not isinstance(host, str) or not host:
        raise ManifestError(f"{path}: 'search_engine.host' is missing")
    return host


def load_networks(path: Path = MANIFEST_PATH) -> tuple[list[list[str]], list[str]]:
    """(the operator networks a correct build finds, as sorted domain lists; the decoy sites it must not link)."""
    document = _read(path)
    networks, decoys = document.get("networks") or [], document.get("network_decoys") or []
    if not all(isinstance(n, list) and all(isinstance(d, str) for d in n) for n in networks) or not all(
            isinstance(d, str) for d in decoys):
        raise ManifestError(f"{path}: 'networks' must be lists of domains and 'network_decoys' a list of domains")
    return sorted(sorted(n) for n in networks), list(decoys)


def _read(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise ManifestError(f"{path}: top level must be a mapping")
    return document


def _parse_site(entry: Any, index: int) -> DemoSite:
    where = f"sites[{index}]"
    if not isinstance(entry, dict):
        raise ManifestError(f"{where}: must be a mapping")
    missing = [key for key in _REQUIRED if key not in entry]
    unknown = sorted(set(entry) - set(_REQUIRED) - set(_OPTIONAL))
    if missing or unknown:
        raise ManifestError(f"{where}: missing {missing}, unknown {unknown}")
    site = DemoSite(
        domain=str(entry["domain"]),
        start_url=str(entry["start_url"]),
        kind=str(entry["kind"]),
        expected=str(entry["expected"]),
        expected_categories=tuple(entry["expected_categories"] or ()),
        diseases=tuple(entry["diseases"] or ()),
        evidence_phrase=str(entry["evidence_phrase"]),
        evidence_url=str(entry.get("evidence_url") or entry["start_url"]),
        needs_js=entry["needs_js"],
        encoding=str(entry["encoding"]),
        needs_ocr=entry.get("needs_ocr", False),
    )
    _validate(site, f"{where} ({site.domain})")
    return site


def _validate(site: DemoSite, where: str) -> None:
    problems = []
    prefix = f"http://{site.domain}/"
    if not site.start_url.startswith(prefix):
        problems.append(f"start_url must start with {prefix}")
    if not site.evidence_url.startswith(prefix):
        problems.append(f"evidence_url must start with {prefix}")
    if site.expected not in EXPECTED:
        problems.append(f"expected must be one of {sorted(EXPECTED)}")
    if bad := sorted(set(site.expected_categories) - CATEGORIES):
        problems.append(f"unknown categories {bad}")
    if bad := sorted(set(site.diseases) - DISEASES):
        problems.append(f"unknown diseases {bad}")
    if site.expected == "not_flagged" and site.expected_categories:
        problems.append("a not_flagged site cannot expect categories")
    if not isinstance(site.needs_js, bool):
        problems.append("needs_js must be true or false")
    if not isinstance(site.needs_ocr, bool):
        problems.append("needs_ocr must be true or false")
    if not site.evidence_phrase:
        problems.append("evidence_phrase is empty")
    try:
        codecs.lookup(site.encoding)
    except LookupError:
        problems.append(f"unknown encoding {site.encoding!r}")
    if problems:
        raise ManifestError(f"{where}: " + "; ".join(problems))
