"""Evasive spellings of key terms and the canonical term each one stands for.

Owns `CURATED` (homophones and initials seen in real adverts, domain.md §2.8) and
`pinyin_variants()` (generated with pypinyin for every term of a selection with `pinyin: true`).
The engine rewrites every evasive spelling it finds to its canonical term before matching (see
`rules.normalise.rewrite`), so term lists, regexes and proximity rules all see 糖尿病 where the page
wrote tang尿病, 唐尿病 or TNB, and findings still point at what the page wrote.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from pypinyin import Style, lazy_pinyin, pinyin

from rules.normalise import has_cjk, normalise_term

#: Pinyin variants are generated only for terms of this many Han characters: one-character terms
#: would turn into bare syllables that occur everywhere, long phrases into noise.
PINYIN_MIN_HAN: Final = 2
PINYIN_MAX_HAN: Final = 6
#: Terms up to this many Han characters get every mix of pinyin and characters (tangniao病);
#: longer ones only one character at a time.
PINYIN_ALL_MIXES_MAX_HAN: Final = 4
#: A fully romanised term must be at least this long to be specific enough ("xueya" yes, "ya" no).
FULL_PINYIN_MIN_LEN: Final = 5

#: Homophones and initials that sellers use instead of the regulated word. Only spellings that are
#: not themselves ordinary words: 通风 (ventilation) is *not* listed for 痛风, 早谢 is not for 早泄.
#: Keys are written as they read after normalisation (lower case, simplified).
CURATED: Final[dict[str, str]] = {
    # diabetes
    "唐尿病": "糖尿病",
    "糖尿丙": "糖尿病",
    "tnb": "糖尿病",
    "唐友": "糖友",
    "降唐": "降糖",
    "血唐": "血糖",
    # hypertension
    "高血丫": "高血压",
    "高血鸭": "高血压",
    "高血押": "高血压",
    "高血呀": "高血压",
    "gxy": "高血压",
    "血丫": "血压",
    "降丫": "降压",
    # gout and rheumatism
    "痛疯": "痛风",
    "痛枫": "痛风",
    "疯湿": "风湿",
    "枫湿": "风湿",
    "类疯湿": "类风湿",
    # sexual function
    "阳萎": "阳痿",
    "羊痿": "阳痿",
    "阳委": "阳痿",
    "早泻": "早泄",
    "壮羊": "壮阳",
    "伟g": "伟哥",
    "威哥": "伟哥",
    "伟歌": "伟哥",
    # kidney
    "尿毒证": "尿毒症",
    "肾衰结": "肾衰竭",
}


def _is_syllable(reading: str) -> bool:
    return reading.isascii() and reading.isalpha()


def pinyin_variants(term: str) -> set[str]:
    """Evasive spellings of a normalised Chinese term: some characters (or all of it) in pinyin.

    降糖 → 降tang, jiang糖, (jiangtang); 高血压 → gao血压, 高xue压, 高xie压, gaoxue压, gaoxueya.
    Heteronyms give every reading, because an evader types whichever one the IME offered.
    """
    han_positions = [i for i, ch in enumerate(term) if has_cjk(ch)]
    if not PINYIN_MIN_HAN <= len(han_positions) <= PINYIN_MAX_HAN:
        return set()
    readings = {i: [r for r in pinyin(term[i], style=Style.NORMAL, heteronym=True)[0][:3] if _is_syllable(r)]
                for i in han_positions}
    variants: set[str] = set()
    if len(han_positions) <= PINYIN_ALL_MIXES_MAX_HAN:
        # Every non-empty subset of the characters written in pinyin, each with its readings.
        partial: list[str] = [""]
        for i, ch in enumerate(term):
            options = [ch, *readings.get(i, [])]
            partial = [p + o for p in partial for o in options]
        variants.update(partial)
    else:
        for i in han_positions:
            for reading in readings[i]:
                variants.add(term[:i] + reading + term[i + 1 :])
    full = "".join(lazy_pinyin(term, style=Style.NORMAL))
    if len(han_positions) == len(term) and _is_syllable(full):
        variants.add(full)
    # A fully romanised spelling is only specific enough when long ("xueya" yes, "tiao" no).
    variants = {v for v in variants if has_cjk(v) or len(v) >= FULL_PINYIN_MIN_LEN}
    variants.discard(term)
    return variants


def evasion_table(pinyin_terms: Iterable[str]) -> dict[str, str]:
    """Variant → canonical term, for the curated spellings and the pinyin of `pinyin_terms`.

    A variant that is itself one of the terms, or that two terms would claim, is dropped: rewriting
    must never turn one real term into another.
    """
    # A term that is itself a curated evasion (唐尿病) stands for its canonical term (糖尿病).
    curated = {normalise_term(v): c for v, c in CURATED.items()}
    canonical_terms = {curated.get(t, t) for t in map(normalise_term, pinyin_terms)}
    table: dict[str, str] = {}
    ambiguous: set[str] = set()
    for term in sorted(canonical_terms):
        for variant in pinyin_variants(term):
            if variant in table and table[variant] != term:
                ambiguous.add(variant)
            table.setdefault(variant, term)
    for variant in ambiguous | canonical_terms:
        table.pop(variant, None)
    table.update(curated)
    return table
