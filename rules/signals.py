"""Page-level signals computed from text alone, for rule conditions (`signals:` selections).

Owns `page_signals()` and `PAGE_SIGNAL_KEYS`: does the page sell drugs (a price, a way to buy, and a
drug word close together), does it show an internet drug-information service certificate number
(互联网药品信息服务资格证书, domain.md §1.1), which language it is in, and whether it reads as a
warning or enforcement report rather than an advert. The words these signals look for are reviewed
data in `rules/reference/signal_words.yaml` (checked by `rules lint`); number formats (prices, dosage
specifications, trading licence and approval numbers) are grammar and stay here.

`shows_licence` / `licence_numbers` have one definition: the identifier extractor's certificate
recogniser (`rules.reference.identifiers`, the numbers the reference checks look up), outside the page
parts signals ignore. The reference signals do not redefine it, so a rule sees the same value with or
without registry checks. Other parts of the system (licence registry checks, hosting checks) add
their own signals on top in `RuleSet.analyse`.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Final

from rules.document import TextDocument
from rules.normalise import NormalisedText, normalise
from rules.reference.identifiers import extract_identifiers
from rules.vocabulary import SIGNAL_WORDS_PATH, load_vocabulary

if TYPE_CHECKING:
    from rules.matcher import ScanResult, TermMatcher

#: How close (normalised characters) price, purchase and product words must be to count as an offer.
OFFER_WINDOW: Final = 200
#: Page parts that do not count for signals: a URL such as /order.html is not an offer.
IGNORED_SCOPES: Final = frozenset({"url"})

#: The reviewed signal words (rules/reference/signal_words.yaml); loading it refuses a broken file.
VOCABULARY: Final = load_vocabulary(SIGNAL_WORDS_PATH)

# A dosage form behind a strength ("25mg*10片", "0.5g×24粒/盒") marks a medicine listing.
# Sachets (袋) are left out: "5g*30袋" is as often tea or salt as a medicine. Both patterns start
# with a digit; `_SPEC_HINT_RE` finds their rare middle part first, and they run only just before it.
_SPEC_RE: Final = re.compile(
    r"\d+(\.\d+)?\s*(mg|g|毫克|克|μg|ug|iu|单位)\s*[*x×]\s*\d+\s*(片|粒|支|丸|贴)"
    r"|\d+\s*(片|粒|丸|支)\s*/\s*(盒|瓶|板)"
)
_SPEC_HINT_RE: Final = re.compile(r"[*x×]\s*\d+\s*[片粒支丸贴]|[片粒丸支]\s*/\s*[盒瓶板]")
# The labels are vocabulary; what may follow them (号码, a colon, a 5-20 character handle) is grammar.
_CONTACT_RE: Final = re.compile(
    "(" + "|".join(re.escape(label) for label in VOCABULARY.terms("contact_labels")) + ")"
    r"\s*(号|号码)?\s*[:：]?\s*[a-z0-9][a-z0-9_-]{4,19}"
)
_PRICE_RE: Final = re.compile(r"[¥$€£]\s*\d|\d\s*(元|块钱|rmb|usd|美元)|(rmb|usd)\s*\d")
_PRICE_HINT_RE: Final = re.compile(r"[¥$€£]|元|块钱|rmb|usd")
_PROVINCES: Final = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# 药品经营许可证 (drug-trading licence) numbers: province + two letters + seven digits (浙AA5710123).
# 药品经营许可证: province, two class letters, then 7 digits (before 2024) or 9 (SAMR Order 84, 2024).
_TRADING_LICENCE_RE: Final = re.compile(
    rf"药品经营许可证[^\n\d]{{0,8}}?([{_PROVINCES}][a-z]{{2}}(?:\d{{9}}|\d{{7}}))(?!\d)"
)
_DRUG_APPROVAL_RE: Final = re.compile(r"国药(?:准|试)字\s*[hzsbtfj]\s*[cj]?\s*\d{8}")
_HEALTH_FOOD_RE: Final = re.compile(
    r"国食健注\s*[gj]\s*\d{8}|食健备\s*[gj]\s*\d{12}|国食健字\s*[gj]\s*\d{8}|卫进?食健字\s*\(\s*\d{4}\s*\)\s*第\s*\d{4}\s*号"
)
_CJK_RE: Final = re.compile("[\u3400-\u9fff]+")
_LATIN_RE: Final = re.compile("[a-z]+")


#: Every key `signals_from_normalised` (and so `page_signals`) returns, in that order; rules may test them.
PAGE_SIGNAL_KEYS: Final[tuple[str, ...]] = (
    "sells_drugs",
    "shows_licence",
    "licence_numbers",
    "language",
    "has_contact_handle",
    "warning_context",
    "drug_approval_numbers",
    "health_food_numbers",
    "shows_health_food_number",
    "trading_licence_numbers",
    "shows_trading_licence",
)

#: Signal words by kind; `register_signal_words` adds them to a matcher (the engine's own, so the
#: page is scanned once for rule terms and signal words together).
SIGNAL_WORDS: Final[dict[str, tuple[str, ...]]] = {
    kind: VOCABULARY.terms(kind)
    for kind in ("price", "buy", "product", "weak_product", "health_food", "warning", "not_product")
}


def register_signal_words(matcher: TermMatcher) -> None:
    for kind, words in SIGNAL_WORDS.items():
        for word in words:
            matcher.add_signal_word(word, kind)


@lru_cache(maxsize=1)
def _own_matcher() -> TermMatcher:
    from rules.matcher import TermMatcher

    matcher = TermMatcher()
    register_signal_words(matcher)
    matcher.build()
    return matcher


@dataclass
class _Positions:
    """Where each kind of signal word starts in the normalised text, in order."""

    price: list[int] = field(default_factory=list)
    buy: list[int] = field(default_factory=list)
    product: list[int] = field(default_factory=list)
    weak_product: list[int] = field(default_factory=list)
    health_food: list[int] = field(default_factory=list)
    warning_terms: set[str] = field(default_factory=set)


class _Mask:
    """Normalised positions that fall in page parts signals ignore (the URL: "/order.html" is no offer)."""

    def __init__(self, norm: NormalisedText, doc: TextDocument | None):
        self.norm = norm
        self.ranges = sorted((s.start, s.end) for s in (doc.sections if doc else []) if s.scope in IGNORED_SCOPES)

    def hides(self, pos: int) -> bool:
        if not self.ranges or pos >= len(self.norm.text):
            return False
        return self.hides_original(self.norm.orig_start(pos))

    def hides_original(self, original: int) -> bool:
        """Does position `original` of the text as given fall in an ignored part?"""
        return any(a <= original < b for a, b in self.ranges)


def _positions(norm: NormalisedText, mask: _Mask, scan: ScanResult, matcher: TermMatcher) -> _Positions:
    found = _Positions()
    not_product: list[tuple[int, int]] = []
    text = norm.text
    hides = mask.hides if mask.ranges else None
    kinds_of = matcher.signal_kinds
    # The scan already applied word boundaries ("mg" inside "img", "order" inside "border").
    for key_id in kinds_of.keys() & scan.clean.keys():
        spans = scan.clean[key_id]
        if hides is not None:
            spans = [span for span in spans if not hides(span[0])]
        if not spans:
            continue
        for kind in kinds_of[key_id]:
            if kind == "not_product":
                not_product.extend(spans)
            elif kind == "warning":
                found.warning_terms.add(text[spans[0][0] : spans[0][1]])
            else:
                getattr(found, kind).extend(start for start, _ in spans)
    if not found.health_food or found.product:
        # Generic dosage forms count unless the page sells health foods and names no medicine.
        found.product.extend(found.weak_product)
    if not_product:
        # Drop 胶囊 inside 胶囊咖啡 and the like (the automaton reports both keys).
        covered = {p for a, b in not_product for p in range(a, b)}
        found.product = [p for p in found.product if p not in covered]
    # The regexes are only needed when the page could be an offer at all (it has a buy word).
    if found.buy and (not found.health_food or found.product):
        specs = _near_hints(_SPEC_RE, _SPEC_HINT_RE, text, 16)
        found.product.extend(p for p in specs if hides is None or not hides(p))
        if found.product:
            prices = _near_hints(_PRICE_RE, _PRICE_HINT_RE, text, 8)
            found.price.extend(p for p in prices if hides is None or not hides(p))
    found.price.sort()
    found.buy.sort()
    found.product.sort()
    return found


def _near_hints(pattern: re.Pattern[str], hint: re.Pattern[str], text: str, reach: int) -> list[int]:
    """Starts of `pattern` matches, searched only from `reach` characters before each `hint` match."""
    starts: list[int] = []
    end = 0
    for h in hint.finditer(text):
        lo = max(end, h.start() - reach)
        m = pattern.search(text, lo, h.end() + reach)
        if m is not None and m.start() <= h.start():
            starts.append(m.start())
            end = m.end()
    return starts


def _any_near(pos: int, others: list[int], window: int) -> bool:
    lo = bisect_left(others, pos - window)
    return lo < len(others) and others[lo] <= pos + window


def _sells(found: _Positions) -> bool:
    if not (found.price and found.buy and found.product):
        return False
    return any(_any_near(p, found.buy, OFFER_WINDOW) and _any_near(p, found.product, OFFER_WINDOW) for p in found.price)


# On the engine's normalised (NFKC, lower-case) text; the extractor also reads X and O as digits.
_FOUR_DIGITS_RE: Final = re.compile(r"[\dxo]{4}")


def _licence_numbers(norm: NormalisedText, mask: _Mask) -> list[str]:
    """Information-service certificate numbers as written (whitespace removed), outside hidden parts.

    The one recogniser of these numbers is the identifier extractor's (`rules.reference.identifiers`),
    so `shows_licence` means the same here and in the reference checks, which look the numbers up.
    """
    numbers: list[str] = []
    # Every certificate number holds four digits in a row (the year); most pages hold none, and the
    # extractor's own normalisation of the whole page is the expensive part, so look first.
    if _FOUR_DIGITS_RE.search(norm.text) is None:
        return numbers
    for ident in extract_identifiers(norm.original, kinds=("info_service_cert",)):
        if mask.hides_original(ident.start):
            continue
        raw = "".join(ident.raw.split())
        if raw not in numbers:
            numbers.append(raw)
    return numbers


def _originals(norm: NormalisedText, mask: _Mask, matches: Iterable[re.Match[str]], group: int = 0) -> list[str]:
    out: list[str] = []
    for m in matches:
        if mask.hides(m.start()):
            continue
        start, end = norm.to_original(m.start(group), m.end(group))
        raw = "".join(norm.original[start:end].split())
        if raw not in out:
            out.append(raw)
    return out


def signals_from_normalised(
    norm: NormalisedText,
    doc: TextDocument | None = None,
    *,
    scan: ScanResult | None = None,
    matcher: TermMatcher | None = None,
) -> dict[str, object]:
    """The signals of `doc`, whose text is already normalised as `norm` (the engine normalises once).

    `scan` and `matcher`: the engine's scan of `norm.text` by a matcher holding the signal words
    (see `register_signal_words`); without them the text is scanned here.
    """
    if scan is None or matcher is None:
        matcher = _own_matcher()
        scan = matcher.scan(norm.text)
    mask = _Mask(norm, doc)
    found = _positions(norm, mask, scan, matcher)
    licences = _licence_numbers(norm, mask)
    sells = _sells(found)
    latin = sum(map(len, _LATIN_RE.findall(norm.text)))
    # Chinese needs at least 2 Han characters and a tenth as many as Latin letters: stop counting there.
    needed = max(2, -(-latin // 10))
    cjk = 0
    for m in _CJK_RE.finditer(norm.text):
        cjk += m.end() - m.start()
        if cjk >= needed:
            break
    has_contact = any(not mask.hides(m.start()) for m in _CONTACT_RE.finditer(norm.text))
    health_food = _originals(norm, mask, _HEALTH_FOOD_RE.finditer(norm.text))
    trading: list[str] = []
    if "药品经营许可证" in norm.text:
        trading = _originals(norm, mask, _TRADING_LICENCE_RE.finditer(norm.text), group=1)
    return {
        "sells_drugs": sells,
        "shows_licence": bool(licences),
        "licence_numbers": licences,
        # Chinese unless Latin letters outnumber Han characters ten to one (a Han character carries
        # about as much as an English word of five letters, so that is a mostly English page).
        "language": "zh" if cjk >= needed else "en",
        "has_contact_handle": has_contact,
        # Two distinct warning/enforcement phrases on a page that neither sells nor gives a
        # contact handle: a news report, a regulator notice or patient education.
        "warning_context": len(found.warning_terms) >= 2 and not sells and not has_contact,
        "drug_approval_numbers": _originals(norm, mask, _DRUG_APPROVAL_RE.finditer(norm.text)),
        "health_food_numbers": health_food,
        "shows_health_food_number": bool(health_food),
        "trading_licence_numbers": trading,
        "shows_trading_licence": bool(trading),
    }


def page_signals(doc: TextDocument) -> dict[str, object]:
    """Signals for `doc`: sells_drugs, shows_licence, licence_numbers, language, and a few more.

    Keys beyond the four above: has_contact_handle (a WeChat/QQ handle is given),
    shows_trading_licence / trading_licence_numbers (a 药品经营许可证 number is shown),
    warning_context (the page reads as a warning or enforcement report), drug_approval_numbers
    (国药准字…), health_food_numbers (国食健注…, 食健备…) and shows_health_food_number. Numbers are
    returned as written in the original text, whitespace removed.
    """
    return signals_from_normalised(normalise(doc.text), doc)
