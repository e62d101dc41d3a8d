"""The one-pass literal matcher: every term of every rule in a single Aho-Corasick automaton.

Owns term keys (normalised terms plus generated pinyin evasions such as tang尿病, 降tang) and the
scan that yields, per match, the selections that use the term. Word-boundary checks keep ASCII
terms from matching inside longer words ("cure" in "secure", "7天" in "17天").
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import ahocorasick
from pypinyin import Style, lazy_pinyin, pinyin

from rules.normalise import has_cjk, normalise_term

#: Pinyin variants are generated only for terms of this many Han characters: one-character terms
#: would turn into bare syllables that occur everywhere, long phrases into noise.
PINYIN_MIN_HAN = 2
PINYIN_MAX_HAN = 6
#: A fully romanised term must be at least this long to be specific enough ("xueya" yes, "ya" no).
FULL_PINYIN_MIN_LEN = 5


@dataclass(frozen=True)
class TermRef:
    """One use of a key: which selection, which of its terms (for `min_distinct`), prefix or not."""

    selection_uid: int
    term_index: int
    prefix: bool


@dataclass
class _Key:
    refs: list[TermRef] = field(default_factory=list)


def _kind(ch: str) -> int:
    """0 = not an ASCII word character, 1 = ASCII letter, 2 = ASCII digit."""
    if "a" <= ch <= "z" or "A" <= ch <= "Z":
        return 1
    if "0" <= ch <= "9":
        return 2
    return 0


def pinyin_variants(term: str) -> set[str]:
    """Evasive spellings of a normalised Chinese term: one character in pinyin, or all of it.

    降糖 → 降tang, jiang糖, (jiangtang); 高血压 → gao血压, 高xue压, 高xie压, 高血ya, gaoxueya.
    Heteronyms give every reading, because an evader types whichever one the IME offered.
    """
    han_positions = [i for i, ch in enumerate(term) if has_cjk(ch)]
    if not PINYIN_MIN_HAN <= len(han_positions) <= PINYIN_MAX_HAN:
        return set()
    variants: set[str] = set()
    for i in han_positions:
        readings = pinyin(term[i], style=Style.NORMAL, heteronym=True)[0]
        for reading in readings[:3]:
            if reading.isascii() and reading.isalpha():
                variants.add(term[:i] + reading + term[i + 1 :])
    if len(han_positions) == len(term):
        full = "".join(lazy_pinyin(term, style=Style.NORMAL))
        if full.isascii() and full.isalpha() and len(full) >= FULL_PINYIN_MIN_LEN:
            variants.add(full)
    variants.discard(term)
    return variants


class TermMatcher:
    """Collects terms at load time, then scans normalised text in one pass."""

    def __init__(self) -> None:
        self._keys: dict[str, _Key] = {}
        self._automaton: ahocorasick.Automaton | None = None

    def add(self, term: str, selection_uid: int, term_index: int, *, pinyin_evasions: bool = False) -> str:
        """Register `term` for a selection and return its normalised key. Raises ValueError if empty.

        A term ending in `*` after a letter (`cure*`) matches as a prefix (cures, cured).
        """
        prefix = len(term) > 1 and term.endswith("*") and _kind(term[-2]) == 1
        key = normalise_term(term[:-1] if prefix else term)
        if not key:
            raise ValueError(f"term {term!r} is empty after normalisation")
        ref = TermRef(selection_uid, term_index, prefix)
        keys = [key]
        if pinyin_evasions:
            keys.extend(sorted(pinyin_variants(key)))
        for k in keys:
            self._keys.setdefault(k, _Key()).refs.append(ref)
        self._automaton = None
        return key

    @property
    def key_count(self) -> int:
        return len(self._keys)

    def build(self) -> None:
        automaton = ahocorasick.Automaton()
        for key, entry in self._keys.items():
            automaton.add_word(key, (len(key), tuple(entry.refs)))
        if self._keys:
            automaton.make_automaton()
        self._automaton = automaton

    def scan(self, text: str) -> Iterator[tuple[int, int, tuple[TermRef, ...]]]:
        """Yield `(start, end, refs)` for every key occurrence in normalised `text`."""
        if self._automaton is None:
            self.build()
        automaton = self._automaton
        assert automaton is not None
        if not self._keys:
            return
        n = len(text)
        for last, (length, refs) in automaton.iter(text):
            start = last - length + 1
            end = last + 1
            # A key starting with a letter must not continue a word; same for digits ("17天").
            first_kind = _kind(text[start])
            if first_kind and start > 0 and _kind(text[start - 1]) == first_kind:
                continue
            last_kind = _kind(text[last])
            blocked_end = bool(last_kind) and end < n and _kind(text[end]) == last_kind
            if blocked_end:
                refs = tuple(r for r in refs if r.prefix)
                if not refs:
                    continue
            yield start, end, refs
