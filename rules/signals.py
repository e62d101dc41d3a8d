"""Page-level signals computed from text alone, for rule conditions (`signals:` selections).

Owns `page_signals()`: does the page sell drugs (a price, a way to buy, and a drug word close
together), does it show an internet drug-information service certificate number
(互联网药品信息服务资格证书, domain.md §1.1, parsed leniently), which language it is in, and
whether it reads as a warning or enforcement report rather than an advert. Other parts of the
system (licence registry checks, hosting checks) add their own signals on top in `RuleSet.analyse`.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final

import ahocorasick

from rules.document import TextDocument
from rules.normalise import NormalisedText, normalise

#: How close (normalised characters) price, purchase and product words must be to count as an offer.
OFFER_WINDOW: Final = 200
#: Page parts that do not count for signals: a URL such as /order.html is not an offer.
IGNORED_SCOPES: Final = frozenset({"url"})

_PRICE_WORDS = (
    "价格",
    "售价",
    "优惠价",
    "特价",
    "现价",
    "原价",
    "零售价",
    "会员价",
    "到手价",
    "活动价",
    "单价",
    "批发价",
    "price",
    "prices",
    "our price",
    "per pill",
    "per tablet",
)
_BUY_WORDS = (
    "购买",
    "立即购买",
    "马上购买",
    "加入购物车",
    "购物车",
    "下单",
    "立即下单",
    "订购",
    "抢购",
    "马上抢",
    "去结算",
    "货到付款",
    "包邮",
    "拍下",
    "加微信",
    "加微",
    "微信下单",
    "咨询购买",
    "联系购买",
    "添加微信",
    "选购",
    "团购",
    "buy",
    "buy now",
    "order",
    "order now",
    "add to cart",
    "checkout",
    "purchase",
)
_PRODUCT_WORDS = (
    # Bare 药 is too loose (代替药物, 农药, 药妆) and bare 丸/胶囊 too (肉丸, 胶囊咖啡): drug forms and
    # named kinds of medicine only.
    "药品",
    "处方药",
    "非处方药",
    "中成药",
    "西药",
    "中药",
    "降压药",
    "降糖药",
    "壮阳药",
    "特效药",
    "神药",
    "感冒药",
    "消炎药",
    "止痛药",
    "安眠药",
    "减肥药",
    "进口药",
    "仿制药",
    "药丸",
    "药片",
    "药膏",
    "药酒",
    "胶囊",
    "颗粒剂",
    "冲剂",
    "口服液",
    "注射液",
    "软膏",
    "乳膏",
    "片剂",
    "滴丸",
    "蜜丸",
    "丸剂",
    "滴眼液",
    "贴剂",
    "糖浆",
    "国药准字",
    "用法用量",
    "药房",
    "药店",
    "大药房",
    "otc",
    "西地那非",
    "他达拉非",
    "伟哥",
    "万艾可",
    "希爱力",
    "格列本脲",
    "二甲双胍",
    "阿莫西林",
    "头孢",
    "胰岛素",
    "降糖",
    "降压",
    "壮阳",
    "疗程",
    "pill",
    "pills",
    "tablet",
    "tablets",
    "capsule",
    "capsules",
    "pharmacy",
    "drugstore",
    "mg",
    "rx",
    "prescription",
    "generic",
    "viagra",
    "cialis",
)
# Words containing a product word that are not medicines: a cosmetics or coffee shop sells no drugs.
_NOT_PRODUCT_WORDS = ("药妆", "农药", "兽药", "胶囊咖啡", "咖啡胶囊", "胶囊机", "胶囊酒店", "胶囊旅馆", "胶囊衣橱")
# Words that mark a page as a warning, a patient-education text or an enforcement report. Ads say
# 谨防假冒 too, so only phrases an advertiser has no reason to use are listed.
_WARNING_WORDS = (
    "虚假广告",
    "违法广告",
    "虚假宣传",
    "切勿轻信",
    "不要轻信",
    "切勿相信",
    "谨防上当",
    "谨防受骗",
    "谨防虚假",
    "依法查处",
    "立案调查",
    "行政处罚",
    "责令改正",
    "罚款",
    "曝光台",
    "提醒消费者",
    "提醒广大消费者",
    "市场监管局",
    "市场监督管理局",
    "药品监督管理局",
    "药监局",
    "消费警示",
    "消费提示",
    "以案说法",
    "典型案例",
    "warning signs",
    "red flags",
    "fake online pharmacy",
    "fake online pharmacies",
    "rogue pharmacy",
    "rogue pharmacies",
    "illegal online pharmacy",
    "illegal online pharmacies",
    "besaferx",
    "counterfeit medicines",
    "fda warns",
    "warning letter",
    "warning letters",
    "consumer alert",
)
# A dosage form behind a strength ("25mg*10片", "0.5g×24粒/盒") marks a medicine listing.
_SPEC_RE: Final = re.compile(
    r"\d+(\.\d+)?\s*(mg|g|毫克|克|μg|ug|iu|单位)\s*[*x×]\s*\d+\s*(片|粒|袋|支|丸|贴)"
    r"|\d+\s*(片|粒|丸|袋|支)\s*/\s*(盒|瓶|板)"
)
_CONTACT_RE: Final = re.compile(
    r"(微信|v信|vx|威信|薇信|wechat|weixin|qq|扣扣)\s*(号|号码)?\s*[:：]?\s*[a-z0-9][a-z0-9_-]{4,19}"
)
_PRICE_RE: Final = re.compile(r"[¥$€£]\s*\d|\d\s*(元|块钱|rmb|usd|美元)|(rmb|usd)\s*\d")
_PROVINCES: Final = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# Lenient form of `（浙）-经营性-2018-0010` and its real-world variants (domain.md §1.1).
_LICENCE_RE: Final = re.compile(
    rf"(?P<open>\()?\s*(?P<prov>[{_PROVINCES}])\s*(?P<close>\))?\s*[-—–]?\s*\(?\s*(?P<kind>非?经营性)?"
    r"\s*\)?\s*[-—–]?\s*(?P<year>(?:19|20)\d{2})\s*[-—–]\s*(?P<serial>\d{4})(?!\d)"
)
_LICENCE_CONTEXT_RE: Final = re.compile(r"资格证书|信息服务|证书编号|证书号")
_DRUG_APPROVAL_RE: Final = re.compile(r"国药(?:准|试)字\s*[hzsbtfj]\s*[cj]?\s*\d{8}")
_HEALTH_FOOD_RE: Final = re.compile(
    r"国食健注\s*[gj]\s*\d{8}|食健备\s*[gj]\s*\d{12}|国食健字\s*[gj]\s*\d{8}|卫进?食健字\s*\(\s*\d{4}\s*\)\s*第\s*\d{4}\s*号"
)
_CJK_RE: Final = re.compile("[\u3400-\u9fff]")
_LATIN_RE: Final = re.compile("[a-z]")


@lru_cache(maxsize=1)
def _automaton() -> ahocorasick.Automaton:
    from rules.normalise import normalise_term

    automaton = ahocorasick.Automaton()
    groups: dict[str, set[str]] = {}
    for kind, words in (
        ("price", _PRICE_WORDS),
        ("buy", _BUY_WORDS),
        ("product", _PRODUCT_WORDS),
        ("warning", _WARNING_WORDS),
        ("not_product", _NOT_PRODUCT_WORDS),
    ):
        for word in words:
            groups.setdefault(normalise_term(word), set()).add(kind)
    for key, kinds in groups.items():
        automaton.add_word(key, (len(key), frozenset(kinds)))
    automaton.make_automaton()
    return automaton


def _is_word_char(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


@dataclass
class _Positions:
    """Where each kind of signal word starts in the normalised text, in order."""

    price: list[int] = field(default_factory=list)
    buy: list[int] = field(default_factory=list)
    product: list[int] = field(default_factory=list)
    warning_terms: set[str] = field(default_factory=set)


class _Mask:
    """Normalised positions that fall in page parts signals ignore (the URL: "/order.html" is no offer)."""

    def __init__(self, norm: NormalisedText, doc: TextDocument | None):
        self.norm = norm
        self.ranges = sorted((s.start, s.end) for s in (doc.sections if doc else []) if s.scope in IGNORED_SCOPES)

    def hides(self, pos: int) -> bool:
        if not self.ranges or pos >= len(self.norm.starts):
            return False
        original = self.norm.starts[pos]
        return any(a <= original < b for a, b in self.ranges)


def _positions(norm: NormalisedText, mask: _Mask) -> _Positions:
    found = _Positions()
    not_product: list[tuple[int, int]] = []
    text = norm.text
    for last, (length, kinds) in _automaton().iter(text):
        start = last - length + 1
        # ASCII words need word boundaries ("mg" inside "img", "order" inside "border").
        if _is_word_char(text[start]) and start > 0 and _is_word_char(text[start - 1]):
            continue
        if _is_word_char(text[last]) and last + 1 < len(text) and _is_word_char(text[last + 1]):
            continue
        if mask.hides(start):
            continue
        for kind in kinds:
            if kind == "not_product":
                not_product.append((start, last + 1))
            elif kind == "warning":
                found.warning_terms.add(text[start : last + 1])
            else:
                getattr(found, kind).append(start)
    if not_product:
        # Drop 胶囊 inside 胶囊咖啡 and the like (the automaton reports both keys).
        found.product = [p for p in found.product if not any(a <= p < b for a, b in not_product)]
    found.price.extend(m.start() for m in _PRICE_RE.finditer(text) if not mask.hides(m.start()))
    found.price.sort()
    found.product.extend(m.start() for m in _SPEC_RE.finditer(text) if not mask.hides(m.start()))
    found.product.sort()
    return found


def _any_near(pos: int, others: list[int], window: int) -> bool:
    lo = bisect_left(others, pos - window)
    return lo < len(others) and others[lo] <= pos + window


def _sells(found: _Positions) -> bool:
    if not (found.price and found.buy and found.product):
        return False
    return any(_any_near(p, found.buy, OFFER_WINDOW) and _any_near(p, found.product, OFFER_WINDOW) for p in found.price)


def _licence_numbers(norm: NormalisedText, mask: _Mask) -> list[str]:
    numbers: list[str] = []
    for m in _LICENCE_RE.finditer(norm.text):
        if mask.hides(m.start()):
            continue
        bracketed = bool(m.group("open") or m.group("close"))
        context = _LICENCE_CONTEXT_RE.search(norm.text, max(0, m.start() - 40), m.start())
        # A bare "浙2017-0027" could be anything; accept it only with brackets, a type word or
        # the certificate's name just before it.
        if not (bracketed or m.group("kind") or context):
            continue
        start, end = norm.to_original(m.start(), m.end())
        raw = "".join(norm.original[start:end].split())
        if raw not in numbers:
            numbers.append(raw)
    return numbers


def _originals(norm: NormalisedText, mask: _Mask, matches: Iterable[re.Match[str]]) -> list[str]:
    out: list[str] = []
    for m in matches:
        if mask.hides(m.start()):
            continue
        start, end = norm.to_original(m.start(), m.end())
        raw = "".join(norm.original[start:end].split())
        if raw not in out:
            out.append(raw)
    return out


def signals_from_normalised(norm: NormalisedText, doc: TextDocument | None = None) -> dict[str, object]:
    """The signals of `doc`, whose text is already normalised as `norm` (the engine normalises once)."""
    mask = _Mask(norm, doc)
    found = _positions(norm, mask)
    licences = _licence_numbers(norm, mask)
    sells = _sells(found)
    cjk = len(_CJK_RE.findall(norm.text))
    latin = len(_LATIN_RE.findall(norm.text))
    has_contact = any(not mask.hides(m.start()) for m in _CONTACT_RE.finditer(norm.text))
    health_food = _originals(norm, mask, _HEALTH_FOOD_RE.finditer(norm.text))
    return {
        "sells_drugs": sells,
        "shows_licence": bool(licences),
        "licence_numbers": licences,
        # Chinese unless Latin letters outnumber Han characters ten to one (a Han character carries
        # about as much as an English word of five letters, so that is a mostly English page).
        "language": "zh" if cjk >= 2 and cjk * 10 >= latin else "en",
        "has_contact_handle": has_contact,
        # Two distinct warning/enforcement phrases on a page that neither sells nor gives a
        # contact handle: a news report, a regulator notice or patient education.
        "warning_context": len(found.warning_terms) >= 2 and not sells and not has_contact,
        "drug_approval_numbers": _originals(norm, mask, _DRUG_APPROVAL_RE.finditer(norm.text)),
        "health_food_numbers": health_food,
        "shows_health_food_number": bool(health_food),
    }


def page_signals(doc: TextDocument) -> dict[str, object]:
    """Signals for `doc`: sells_drugs, shows_licence, licence_numbers, language, and a few more.

    Keys beyond the four above: has_contact_handle (a WeChat/QQ handle is given),
    warning_context (the page reads as a warning or enforcement report), drug_approval_numbers
    (国药准字…), health_food_numbers (国食健注…, 食健备…) and shows_health_food_number. Numbers are
    returned as written in the original text, whitespace removed.
    """
    return signals_from_normalised(normalise(doc.text), doc)
