"""Site-level reference signals: is the licence shown real, valid and for this site; are the product
numbers real and for these products; does the page carry ICP numbers; where is the server.

Owns `reference_signals()`. The rule engine overlays its result on the page signals
(`RuleSet.analyse(doc, signals=...)`). Tri-state signals are None when they could not be checked (no
number of that kind on the page, no registry, or a registry without data for that kind): a rule testing
`licence_valid: false` must never fire because nobody looked. Whether a certificate number is shown at
all (`shows_licence`) is a page signal (`rules.signals`), computed for every page from the same
recogniser (`extract_identifiers`); it is not redefined here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date
from typing import Final

from rules.normalise import normalise
from rules.reference.claims import Claims, find_claims
from rules.reference.hosting import server_country
from rules.reference.identifiers import Identifier, extract_identifiers
from rules.reference.lookup import BlacklistLookup, CertificateRecord, ProductRecord, RegistryLookup

#: Every key `reference_signals` returns, for documentation and rule validation.
SIGNAL_KEYS: Final[tuple[str, ...]] = (
    "identifiers",
    "licence_valid",
    "licence_unknown",
    "licence_domain_mismatch",
    "licence_expired_or_revoked",
    "licence_checks",
    "legacy_trading_certificate_shown_as_current",
    "approval_unknown",
    "approval_product_mismatch",
    "approval_expired_or_revoked",
    "approval_checks",
    "ad_approval_expired",
    "health_food_number_with_treatment_claim",
    "device_number_with_drug_claim",
    "ad_without_approval_number",
    "claim_terms",
    "icp_missing",
    "contact_leads",
    "blacklisted_operator",
    "blacklisted_identifiers",
    "server_country",
    "overseas_hosting",
)
#: Countries (and regions) that count as mainland China for hosting; HK, MO and TW are outside it.
MAINLAND: Final = frozenset({"CN"})

_HISTORY_BEFORE: Final = re.compile(
    r"(原(?:互联网|证书|交易|资格)|曾(?:持有|取得|获得)|旧证|历史|已取消|已注销|已废止|已失效|过期)[^\n]{0,20}$"
)
_HISTORY_AFTER: Final = re.compile(r"^[^\n]{0,6}(已取消|已注销|已废止|已失效|已过期|取消|注销|废止)")
# Dosage-form endings and brand marks stripped from a registered product name to get the name a page uses.
_FORM_SUFFIX: Final = re.compile(
    r"(缓释|控释|肠溶|分散|咀嚼|泡腾|口崩|口腔崩解|含|舌下|薄膜衣|糖衣)?"
    r"(片|胶囊|软胶囊|硬胶囊|胶丸|颗粒|颗粒剂|冲剂|丸|滴丸|水丸|蜜丸|浓缩丸|口服液|口服溶液|合剂|糖浆|酊|散|膏|软膏|乳膏|"
    r"凝胶|贴|贴剂|贴膏|膏药|注射液|注射剂|滴眼液|滴鼻液|喷雾剂|气雾剂|栓|混悬液|粉|茶|酒|液)$"
)
# Salt prefixes a page often drops (盐酸二甲双胍 → 二甲双胍, 苯磺酸氨氯地平 → 氨氯地平).
_SALT_PREFIX: Final = re.compile(
    r"^(盐酸|硫酸|磷酸|硝酸|马来酸|苯磺酸|甲磺酸|枸橼酸|富马酸|琥珀酸|酒石酸|醋酸|氢溴酸|乳酸|葡萄糖酸|门冬氨酸|赖氨酸)"
    r"(?=.{2})"
)
_BRACKETS: Final = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_SPACES: Final = re.compile(r"\s+")


def _norm_name(text: str) -> str:
    return _SPACES.sub("", normalise(text).text)


def product_name_variants(name: str) -> list[str]:
    """Forms of a registered product name a page may use: as registered, without bracketed parts,
    without the "X牌" brand prefix, without the dosage form (硝苯地平缓释片 → 硝苯地平), without a salt
    prefix (盐酸二甲双胍 → 二甲双胍). Two characters at least."""
    base = _norm_name(name)
    variants = [base]
    no_brackets = _BRACKETS.sub("", base)
    variants.append(no_brackets)
    if "牌" in no_brackets[1:-1]:
        variants.append(no_brackets.split("牌", 1)[1])
    for v in list(variants):
        core = _FORM_SUFFIX.sub("", v)
        if core != v:
            variants.append(core)
    for v in list(variants):
        plain = _SALT_PREFIX.sub("", v)
        if plain != v:
            variants.append(plain)
    out: list[str] = []
    for v in variants:
        if len(v) >= 2 and v not in out:
            out.append(v)
    return out


def host_matches(host: str, domains: Iterable[str]) -> bool:
    """True when `host` is one of `domains` or a subdomain of one (www. is ignored on both sides)."""
    h = host.strip().lower().rstrip(".")
    if ":" in h and not h.startswith("["):
        h = h.split(":", 1)[0]
    h = h.removeprefix("www.")
    for domain in domains:
        d = domain.strip().lower().rstrip(".").removeprefix("www.")
        if d and (h == d or h.endswith("." + d)):
            return True
    return False


def _in_date(record: CertificateRecord | ProductRecord, today: date) -> str | None:
    if record.valid_from and today < record.valid_from:
        return "not_yet_valid"
    if record.valid_to and today > record.valid_to:
        return "expired"
    return None


def _find_cert(registry: RegistryLookup, ident: Identifier) -> CertificateRecord | None:
    parts = ident.parts
    # OCR reads 0 as O: the number stays as read (malformed), but the look-up may try the digit.
    year, serial = parts.get("year", "").replace("O", "0"), parts.get("serial", "").replace("O", "0")
    if not (parts.get("province") and year.isdigit() and serial.isdigit()):
        return None
    types = [parts["type"]] if parts.get("type") else ["经营性", "非经营性"]
    # Without a type word ("（浙）-2017-0027") the registered number counts only if exactly one fits.
    found = [r for t in types if (r := registry.find_certificate(f"（{parts['province']}）-{t}-{year}-{serial}"))]
    return found[0] if len(found) == 1 else None


def _check_certificate(registry: RegistryLookup, ident: Identifier, host: str | None, today: date) -> dict[str, object]:
    check: dict[str, object] = {"number": ident.raw, "normalised": ident.normalised, "status": ident.status}
    record = _find_cert(registry, ident)
    if record is None:
        check["verdict"] = "unknown"
        return check
    check["registered"] = record.number
    check["holder"] = record.holder
    check["domains"] = list(record.domains)
    if record.status != "valid":
        check["verdict"] = record.status  # expired | revoked | cancelled | suspended
    elif dated := _in_date(record, today):
        check["verdict"] = dated
    elif host is not None and not host_matches(host, record.domains):
        check["verdict"] = "domain_mismatch"
    else:
        check["verdict"] = "valid"
    return check


_PRODUCT_FINDERS: Final[dict[str, Callable[[RegistryLookup], Callable[[str], ProductRecord | None]]]] = {
    "drug_approval": lambda r: r.find_drug_approval,
    "health_food": lambda r: r.find_health_food,
    "device": lambda r: r.find_device,
    "ad_approval": lambda r: r.find_ad_approval,
}


def _check_product(registry: RegistryLookup, ident: Identifier, page_names: str, today: date) -> dict[str, object]:
    check: dict[str, object] = {
        "kind": ident.kind,
        "number": ident.raw,
        "normalised": ident.normalised,
        "status": ident.status,
    }
    if ident.status == "malformed":
        check["verdict"] = "malformed"
        return check
    record = _PRODUCT_FINDERS[ident.kind](registry)(ident.normalised)
    if record is None:
        check["verdict"] = "unknown"
        return check
    check["product_name"] = record.product_name
    check["holder"] = record.holder
    if not any(v in page_names for v in product_name_variants(record.product_name)):
        check["verdict"] = "product_mismatch"
    elif record.status != "valid":
        check["verdict"] = record.status
    elif dated := _in_date(record, today):
        check["verdict"] = dated
    else:
        check["verdict"] = "valid"
    return check


def _impossible(ident: Identifier) -> bool:
    """A certificate "number" that cannot be one whatever a registry holds: an ICP number given instead."""
    return bool(ident.parts.get("icp"))


def _malformed_check(ident: Identifier) -> dict[str, object]:
    return {"number": ident.raw, "normalised": ident.normalised, "status": ident.status, "verdict": "malformed"}


def _shown_as_current(text: str, ident: Identifier) -> bool:
    before = text[max(0, ident.start - 40) : ident.start]
    after = text[ident.end : ident.end + 12]
    return not (_HISTORY_BEFORE.search(before) or _HISTORY_AFTER.search(after))


def _tri(flags: list[bool]) -> bool | None:
    return any(flags) if flags else None


def reference_signals(
    doc_text: str,
    *,
    host: str | None,
    server_ip: str | None,
    registry: RegistryLookup | None,
    today: date | None = None,
    is_ad: bool | None = None,
    treatment_claim: bool | None = None,
    drug_claim: bool | None = None,
    country_of: Callable[[str | None], str | None] = server_country,
    blacklist: BlacklistLookup | None = None,
) -> dict[str, object]:
    """The reference signals of one page (keys in `SIGNAL_KEYS`).

    `host`: the site's host name (licence domain check; None skips it). `server_ip`: the address the
    page was fetched from, as recorded at capture time. `registry`: None means nothing is looked up.
    `today` defaults to the current date. `is_ad`: the text is a paid ad (True) or certainly not one
    (False); None lets advertising language decide. `treatment_claim` / `drug_claim`: the caller's own
    verdict (e.g. from rule findings) instead of the short term lists in `rules.reference.claims`.
    `country_of`: IP → country (offline geoip2fast by default).
    """
    today = today or date.today()
    identifiers = extract_identifiers(doc_text)
    by_kind: dict[str, list[Identifier]] = {}
    for ident in identifiers:
        by_kind.setdefault(ident.kind, []).append(ident)
    claims: Claims = find_claims(doc_text)
    signals: dict[str, object] = {"identifiers": [i.to_dict() for i in identifiers]}

    # Information-service certificates (互联网药品信息服务资格证书), and any drug certificate whose "number"
    # is an ICP number: that one is invalid whatever a registry holds, so it is checked without one.
    # `shows_licence` itself is a page signal (rules.signals), computed from the same recogniser.
    certs = by_kind.get("info_service_cert", [])
    numbers = certs + [t for t in by_kind.get("trading_cert_legacy", []) if _impossible(t)]
    checks: list[dict[str, object]] = []
    covered = registry is not None and registry.covers("info_service_cert")
    if numbers and (covered or all(_impossible(n) for n in numbers)):
        checks = [
            _malformed_check(n) if _impossible(n) else _check_certificate(registry, n, host, today)  # type: ignore[arg-type]
            for n in numbers
        ]
        verdicts = [str(c["verdict"]) for c in checks]
        valid = "valid" in verdicts
        signals["licence_valid"] = valid
        signals["licence_unknown"] = all(v == "unknown" for v in verdicts)
        signals["licence_domain_mismatch"] = not valid and "domain_mismatch" in verdicts
        signals["licence_expired_or_revoked"] = not valid and any(
            v in ("expired", "not_yet_valid", "revoked", "cancelled", "suspended") for v in verdicts
        )
    else:
        for key in ("licence_valid", "licence_unknown", "licence_domain_mismatch", "licence_expired_or_revoked"):
            signals[key] = None
    signals["licence_checks"] = checks

    # A/B/C trading certificates were abolished in 2017: showing one as a credential is stale.
    trading = [t for t in by_kind.get("trading_cert_legacy", []) if not _impossible(t)]
    signals["legacy_trading_certificate_shown_as_current"] = any(_shown_as_current(doc_text, t) for t in trading)

    # Product numbers: real, and for the product this page names?
    page_names = _norm_name(doc_text)
    product_checks: list[dict[str, object]] = []
    if registry is not None:
        for kind in ("drug_approval", "health_food", "device", "ad_approval"):
            if registry.covers(kind):
                product_checks.extend(_check_product(registry, i, page_names, today) for i in by_kind.get(kind, []))
    signals["approval_checks"] = product_checks
    signals["approval_unknown"] = _tri([c["verdict"] in ("unknown", "malformed") for c in product_checks])
    signals["approval_product_mismatch"] = _tri([c["verdict"] == "product_mismatch" for c in product_checks])
    signals["approval_expired_or_revoked"] = _tri(
        [c["verdict"] in ("expired", "not_yet_valid", "revoked", "cancelled", "suspended") for c in product_checks]
    )
    # New-form ad approval numbers carry their expiry date (YYMMDD): checkable without a registry.
    signals["ad_approval_expired"] = any(
        i.parts.get("expires", "9999-12-31") < today.isoformat() for i in by_kind.get("ad_approval", [])
    )

    # Cross-category claims.
    treats = bool(claims.treatment) if treatment_claim is None else treatment_claim
    drug_like = bool(claims.drug) if drug_claim is None else drug_claim
    signals["health_food_number_with_treatment_claim"] = bool(by_kind.get("health_food")) and treats
    signals["device_number_with_drug_claim"] = bool(by_kind.get("device")) and drug_like
    # A product claiming to treat disease is advertised as a medicine, whatever it is called.
    regulated = bool(claims.product or claims.treatment) or any(
        by_kind.get(k) for k in ("drug_approval", "health_food", "device")
    )
    advert = bool(claims.promotion) if is_ad is None else is_ad
    signals["ad_without_approval_number"] = advert and regulated and not by_kind.get("ad_approval")
    signals["claim_terms"] = {
        "treatment": list(claims.treatment),
        "drug": list(claims.drug),
        "promotion": list(claims.promotion),
    }

    signals["icp_missing"] = not (by_kind.get("icp_filing") or by_kind.get("icp_licence"))
    signals["contact_leads"] = sorted(
        {f"{i.kind}:{i.normalised}" for i in identifiers if i.kind in ("phone", "wechat", "qq", "email")}
    )
    # An operator already on the blacklist shows up on a new site: the link is a finding by itself.
    listed = ({**blacklist.listed(signals["contact_leads"]), **blacklist.named_in(doc_text)}  # type: ignore[arg-type]
              if blacklist is not None else {})
    signals["blacklisted_identifiers"] = [f"{lead} (blacklist entry {entry})" for lead, entry in sorted(listed.items())]
    signals["blacklisted_operator"] = bool(listed) if blacklist is not None else None

    country = country_of(server_ip)
    signals["server_country"] = country
    signals["overseas_hosting"] = None if country is None else country not in MAINLAND
    return signals
