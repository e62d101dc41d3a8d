"""Small claim checks the reference signals need: treatment, drug and advertising claims, product words.

Owns `find_claims()`. A health food may not claim to treat disease (广告法 Art. 18) and a device must
not be passed off as a drug (Art. 17, 药品管理法 假药), so the cross-category signals need to know
whether a page makes such claims. The rule packs hold the full claim vocabulary; this is the short,
conservative list that turns "health-food number + treatment claim" into a signal. The terms are reviewed
data in `rules/reference/claim_terms.yaml` (checked by `rules lint`); the grammar around them stays here.
Text is normalised like the rule engine's (NFKC, traditional → simplified, fillers between characters
removed); a term just after a negation (不/无/勿/非/没/禁), in quotation marks, or inside a statutory
disclaimer (本品不能代替药物…) does not count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from rules.normalise import normalise
from rules.vocabulary import CLAIM_TERMS_PATH, load_vocabulary

#: The reviewed claim vocabulary (rules/reference/claim_terms.yaml); loading it refuses a broken file.
VOCABULARY: Final = load_vocabulary(CLAIM_TERMS_PATH)
#: Claims a health food may not make: treating or curing disease, replacing medicine.
TREATMENT_TERMS: Final[tuple[str, ...]] = VOCABULARY.terms("treatment")
#: Claims that present a product as a medicine (a device or food "working like a drug").
DRUG_TERMS: Final[tuple[str, ...]] = VOCABULARY.terms("drug")
#: Advertising language: what makes a product page an advert that needs a 广审 number.
PROMOTION_TERMS: Final[tuple[str, ...]] = VOCABULARY.terms("promotion")
#: Words naming a product whose adverts need review: drugs, health foods, devices, FSMP.
PRODUCT_TERMS: Final[tuple[str, ...]] = VOCABULARY.terms("product")
#: Statutory disclaimers (本品不能代替药物…): removed before claims are searched.
DISCLAIMER_TERMS: Final[tuple[str, ...]] = VOCABULARY.terms("disclaimers")
_NEGATION: Final = re.compile(r"[不无勿非没禁忌][^,.;!?,。;!?]{0,2}$")
# Quotation marks around a claim mean someone is quoting it (“根治糖尿病”等虚假宣传), not claiming it.
_OPEN_QUOTES: Final = '“「『《"'
_CLOSE_QUOTES: Final = '”」』》"'


def _pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)))


_TREATMENT_RE: Final = _pattern(TREATMENT_TERMS)
_DRUG_RE: Final = _pattern(DRUG_TERMS)
_PROMOTION_RE: Final = _pattern(PROMOTION_TERMS)
_PRODUCT_RE: Final = _pattern(PRODUCT_TERMS)
# Longest first, so that 不能代替药物治疗疾病 is removed whole rather than leaving 治疗疾病 behind.
_DISCLAIMERS: Final = _pattern(DISCLAIMER_TERMS)


@dataclass(frozen=True)
class Claims:
    """The claim terms found on a page (each listed once, in order of first appearance)."""

    treatment: tuple[str, ...]
    drug: tuple[str, ...]
    promotion: tuple[str, ...]
    product: tuple[str, ...]


def _quoted(text: str, start: int) -> bool:
    before = text[max(0, start - 30) : start]
    opened = max(before.rfind(q) for q in _OPEN_QUOTES)
    if opened < 0:
        return False
    if before[opened] == '"':
        return before.count('"') % 2 == 1  # straight quotes: inside when an odd number came before
    return max(before.rfind(q) for q in _CLOSE_QUOTES if q != '"') < opened


def _found(pattern: re.Pattern[str], text: str) -> tuple[str, ...]:
    out: list[str] = []
    for m in pattern.finditer(text):
        if _NEGATION.search(text, max(0, m.start() - 3), m.start()) or _quoted(text, m.start()):
            continue
        if m.group() not in out:
            out.append(m.group())
    return tuple(out)


def find_claims(text: str) -> Claims:
    """Treatment, drug-like, advertising claims and product words in `text` (see the term lists)."""
    norm = _DISCLAIMERS.sub("。", normalise(text).text)
    return Claims(
        treatment=_found(_TREATMENT_RE, norm),
        drug=_found(_DRUG_RE, norm),
        promotion=_found(_PROMOTION_RE, norm),
        product=_found(_PRODUCT_RE, norm),
    )
