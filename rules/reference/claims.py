"""Small claim checks the reference signals need: treatment, drug and advertising claims, product words.

Owns `find_claims()`. A health food may not claim to treat disease (广告法 Art. 18) and a device must
not be passed off as a drug (Art. 17, 药品管理法 假药), so the cross-category signals need to know
whether a page makes such claims. The rule packs hold the full claim vocabulary; this is the short,
conservative list that turns "health-food number + treatment claim" into a signal. Text is normalised
like the rule engine's (NFKC, traditional → simplified, fillers between characters removed); a term just
after a negation (不/无/勿/非/没/禁) and the statutory disclaimers (本品不能代替药物…) do not count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from rules.normalise import normalise

#: Claims a health food may not make: treating or curing disease, replacing medicine.
TREATMENT_TERMS: Final[tuple[str, ...]] = (
    "治疗", "治愈", "根治", "痊愈", "治好", "主治", "药到病除", "包治", "疗效", "疗程", "停药", "适应症",
    "替代药物", "代替药物", "取代药物", "替代降糖药", "代替降糖药", "替代降压药", "代替降压药", "替代胰岛素",
    "告别胰岛素", "摆脱胰岛素", "逆转糖尿病", "修复胰岛", "除根", "断根", "特效药", "神药",
)  # fmt: skip
#: Claims that present a product as a medicine (a device or food "working like a drug").
DRUG_TERMS: Final[tuple[str, ...]] = (
    "治愈", "根治", "痊愈", "药到病除", "包治", "除根", "断根", "特效药", "神药", "药效", "药力", "口服", "内服",
    "服用", "药物成分", "中药成分", "祖传秘方", "秘方", "停药", "替代药物", "代替药物", "取代药物", "替代降糖药",
    "替代降压药", "代替降糖药", "代替降压药",
)  # fmt: skip
#: Advertising language: what makes a product page an advert that needs a 广审 number.
PROMOTION_TERMS: Final[tuple[str, ...]] = (
    "疗效显著", "见效快", "立竿见影", "神效", "特效", "根治", "治愈", "治愈率", "有效率", "药到病除", "无效退款",
    "不反弹", "永不复发", "无副作用", "无毒副作用", "纯天然", "祖传秘方", "秘方", "包治", "100%有效", "彻底告别",
    "专家推荐", "权威推荐", "天见效", "一个疗程", "康复停药",
)  # fmt: skip
#: Words naming a product whose adverts need review: drugs, health foods, devices, FSMP.
PRODUCT_TERMS: Final[tuple[str, ...]] = (
    "药品", "处方药", "非处方药", "中成药", "中药", "西药", "降糖药", "降压药", "特效药", "神药", "胶囊", "片剂",
    "颗粒", "冲剂", "口服液", "药丸", "丸剂", "药膏", "药酒", "贴剂", "保健食品", "保健品", "蓝帽子", "医疗器械",
    "治疗仪", "理疗仪", "特医食品", "特殊医学用途配方食品",
)  # fmt: skip
_DISCLAIMERS: Final = re.compile(
    r"不能代替药物治疗疾病|不能代替药物|不能替代药物|不是药物|不具有(疾病)?治疗作用|不以治疗疾病为目的"
    r"|不能治疗疾病|不可代替药物|并非药物|不能代替药品|不能替代药品"
)
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
