"""Text normalisation that defeats common evasions, with a map back to the original offsets.

Owns `normalise()`, `NormalisedText` and `rewrite()`. For rule terms (the default) the steps, in
order: per-character NFKC + case folding (full-width → half-width, ① → 1, ㎎ → mg), removal of
zero-width/format characters, traditional → simplified Chinese (OpenCC `t2s`), and removal of
filler symbols or spaces placed between two CJK characters (根.治.糖.尿.病, 降 糖, 根*治). `rewrite()`
then replaces evasive spellings (tang尿病, 高血丫, TNB; see `rules.evasions`) by the canonical term.
Every normalised character remembers the original characters it came from, so a match is reported
in the page as captured. For identifiers (`purpose="identifiers"`, licence and approval numbers) see
`_identifier_char`: case, spaces and separators stay, because number formats are read from them.

Speed: every step is a C-level pass (regex, `str.translate`-like substitution, OpenCC) that only
does work where there is something to change; the offset map is a short list of segments, not an
array per character, so plain text costs almost nothing beyond one scan per step.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final, Literal

import opencc

# CJK Unified Ideographs, Extension A and the compatibility block (NFKC folds most of the latter).
CJK_CLASS: Final = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RE: Final = re.compile(f"[{CJK_CLASS}]")

# Symbols that evaders put between characters. Sentence and list punctuation (。，、！？；：),
# brackets and Chinese quotation marks (“” ‘’) are deliberately absent: they separate words, and
# removing them would fuse neighbours ("痛、风湿" must not become "痛风湿"); quotation marks also tell
# a quoted claim (“根治糖尿病”等虚假宣传) from an advert's own words. ASCII quotes stay fillers.
_FILLER_CLASS: Final = (
    # After folding, every whitespace character except the line break has become a plain space.
    r"[ .*·•・‧∙⋅#@$%^&_~|/\\\-+='\"`～〜‐‑‒–—―"
    r"\u2600-\u27bf\u2b00-\u2bff\U0001f300-\U0001faff]"  # dingbats, stars, hearts, emoji
)
# At most three filler characters: longer gaps are real separations, not a trick. A single class
# (not an alternation) lets the regex engine skip quickly to the next filler character.
_FILLER_RUN_RE: Final = re.compile(f"(?<=[{CJK_CLASS}])({_FILLER_CLASS}{{1,3}})(?=[{CJK_CLASS}])")
# Cheap pre-check: no filler character next to a CJK character means nothing to remove.
_FILLER_NEXT_TO_CJK_RE: Final = re.compile(f"[{CJK_CLASS}]{_FILLER_CLASS}")

# Sentence ends after normalisation (full-width ！？； have become ASCII). A line break ends a
# sentence too: `TextDocument.from_parts` joins page parts with one.
_SENTENCE_END_RE: Final = re.compile(r"[。!?;\n]|\.(?=\s|$)")

_ASTRAL_RE: Final = re.compile("[\U00010000-\U0010ffff]")
_CORNER_QUOTES: Final = {"「": "“", "」": "”", "『": "‘", "』": "’", "﹁": "“", "﹂": "”", "﹃": "‘", "﹄": "’"}

_CHAR_CACHE: dict[str, str] = {}
_CONVERTER_LOCK = threading.Lock()
_converter: opencc.OpenCC | None = None
_TABLES_LOCK = threading.Lock()
_tables: _Tables | None = None


def t2s(text: str) -> str:
    """OpenCC traditional → simplified conversion (may change length; see `_to_simplified`)."""
    global _converter
    if _converter is None:
        with _CONVERTER_LOCK:
            if _converter is None:
                _converter = opencc.OpenCC("t2s")
    return _converter.convert(text)


#: Han variant characters folded to the form the rules are written in (one character each, so
#: offsets stay exact). Only variants OpenCC t2s does not convert are listed.
_HAN_VARIANTS: Final = {"傚": "效"}


#: Letters of other scripts (and accented Latin letters) that look like a plain Latin letter, for
#: reading Latin words written with lookalikes (vіagra with a Cyrillic і, xаnаx, cіаlіs with Greek ο ...).
#: Not applied by `normalise()` (Greek and Cyrillic text must stay as written): `rules.obfuscation`
#: folds Latin-looking words with it, so a match still points at what the page wrote.
LATIN_LOOKALIKES: Final[dict[str, str]] = {
    **dict.fromkeys("аạąàáâãäåāă", "a"),  # Cyrillic а, accented Latin
    **dict.fromkeys("αά", "a"),  # Greek alpha
    **dict.fromkeys("вβ", "b"),
    **dict.fromkeys("сςçćč", "c"),
    **dict.fromkeys("еёєèéêëēėęěε", "e"),
    **dict.fromkeys("һн", "h"),
    **dict.fromkeys("іїìíîïīįıιίϊ", "i"),
    **dict.fromkeys("јϳ", "j"),
    **dict.fromkeys("кκ", "k"),
    **dict.fromkeys("ӏł", "l"),
    **dict.fromkeys("м", "m"),
    **dict.fromkeys("ñńňη", "n"),
    **dict.fromkeys("оοόòóôõöøōőσ", "o"),
    **dict.fromkeys("рρ", "p"),
    **dict.fromkeys("ѕśšş", "s"),
    **dict.fromkeys("тτ", "t"),
    **dict.fromkeys("ùúûüūůυύµμ", "u"),  # µ and Greek mu read as u
    **dict.fromkeys("νѵ", "v"),
    **dict.fromkeys("ԝω", "w"),
    **dict.fromkeys("хχ", "x"),
    **dict.fromkeys("уýÿγ", "y"),
    **dict.fromkeys("źżž", "z"),
}


def _map_char(ch: str) -> str:
    """NFKC + casefold one character; '' for characters that only hide things."""
    cached = _CHAR_CACHE.get(ch)
    if cached is not None:
        return cached
    category = unicodedata.category(ch)
    if ch == "\n":
        out = "\n"
    elif ch == "\r":
        out = "\n"
    elif category == "Cs":  # a lone surrogate: cannot be encoded for OpenCC
        out = "\ufffd"
    elif category == "Cf" or "\ufe00" <= ch <= "\ufe0f":  # zero-width, BOM, variation selectors
        out = ""
    elif category == "Cc":
        out = " "
    elif ch in _HAN_VARIANTS:
        # Variant characters OpenCC leaves alone but that real pages use for the common form
        # (療傚 for 疗效 on a traditional-character case report).
        out = _HAN_VARIANTS[ch]
    elif ch in _CORNER_QUOTES:
        # Traditional-Chinese pages quote with corner brackets (「根治」); fold them to “” ‘’ so a
        # quoted claim reads the same on both kinds of page.
        out = _CORNER_QUOTES[ch]
    else:
        out = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", ch).casefold())
        if out.isspace():
            out = " "
        elif out and any(unicodedata.category(c) in ("Cs", "Cc", "Cf") for c in out):
            out = " "
    if len(_CHAR_CACHE) < 200_000:  # bounded: hostile pages may use many distinct code points
        _CHAR_CACHE[ch] = out
    return out


def _char_class(code_points: list[int]) -> str:
    """A regex character class body for sorted code points, as ranges."""
    parts: list[str] = []
    i = 0
    while i < len(code_points):
        j = i
        while j + 1 < len(code_points) and code_points[j + 1] == code_points[j] + 1:
            j += 1
        lo, hi = chr(code_points[i]), chr(code_points[j])
        parts.append(re.escape(lo) if i == j else f"{re.escape(lo)}-{re.escape(hi)}")
        i = j + 1
    return "".join(parts)


@dataclass(frozen=True)
class _Tables:
    """Per-character facts computed once from `_map_char` and OpenCC (about 0.2 s, on first use)."""

    fold: dict[str, str]  # characters that map to one different character
    fold_re: re.Pattern[str]  # runs of A-Z, or one character of `fold`
    lower_unsafe_re: re.Pattern[str]  # characters for which str.lower() is not the fold
    special_re: re.Pattern[str]  # characters that vanish or expand (and every astral character)
    trad_re: re.Pattern[str]  # basic-plane characters OpenCC t2s changes on their own
    trad_astral: frozenset[str]  # the same beyond the basic plane (a regex class with them is slow)


def _build_tables() -> _Tables:
    fold: dict[str, str] = {}
    special: list[int] = []
    for cp in range(0x10000):
        ch = chr(cp)
        out = _map_char(ch)
        if out == ch:
            continue
        if len(out) == 1:
            if not "A" <= ch <= "Z":
                fold[ch] = out
        else:
            special.append(cp)
    fold_re = re.compile(f"[A-Z]+|[{_char_class(sorted(map(ord, fold)))}]")
    # str.lower() is a fast C pass; it may replace the fold for case wherever, character by
    # character, lowering then folding gives the fold (false for Σ, whose lower case depends on
    # its neighbours, and for characters whose lower case is longer).
    unsafe = [
        cp
        for cp in range(0x10000)
        if (low := chr(cp).lower()) != chr(cp)
        and (len(low) != 1 or _map_char(low) != _map_char(chr(cp)) or chr(cp) == "Σ")
    ]
    special_re = re.compile(f"[{_char_class(special)}\U00010000-\U0010ffff]")
    ideographs = [*range(0x3400, 0xA000), *range(0xF900, 0xFB00), *range(0x20000, 0x323B0)]
    han = [cp for cp in ideographs if unicodedata.category(chr(cp)) == "Lo"]
    converted = t2s("\n".join(map(chr, han))).split("\n")
    trad = [cp for cp, conv in zip(han, converted, strict=False) if conv != chr(cp)]
    return _Tables(
        fold=fold,
        fold_re=fold_re,
        lower_unsafe_re=re.compile(f"[{_char_class(unsafe)}]"),
        special_re=special_re,
        trad_re=re.compile(f"[{_char_class([cp for cp in trad if cp < 0x10000])}]"),
        trad_astral=frozenset(chr(cp) for cp in trad if cp >= 0x10000),
    )


def _get_tables() -> _Tables:
    global _tables
    if _tables is None:
        with _TABLES_LOCK:
            if _tables is None:
                _tables = _build_tables()
    return _tables


@dataclass
class NormalisedText:
    """Normalised text plus, for each of its characters, the original span it came from.

    The map is a list of segments starting at normalised offsets `seg_norm`: a linear segment
    (`seg_width` 0) maps character i of the segment to original character `seg_orig + i`; a block
    segment (`seg_width` w > 0: an expansion such as ㎎ → mg, or a rewritten evasion) maps each of
    its characters to the whole original span `[seg_orig, seg_orig + w)`.
    """

    original: str
    text: str
    seg_norm: list[int] = field(default_factory=lambda: [0])
    seg_orig: list[int] = field(default_factory=lambda: [0])
    seg_width: list[int] = field(default_factory=lambda: [0])
    _sentence_ends: list[int] | None = field(default=None, repr=False)
    _arrays: tuple[array, array] | None = field(default=None, repr=False)

    def orig_start(self, pos: int) -> int:
        k = bisect_right(self.seg_norm, pos) - 1
        return self.seg_orig[k] + (pos - self.seg_norm[k] if self.seg_width[k] == 0 else 0)

    def orig_end(self, pos: int) -> int:
        """End (exclusive) in the original text of normalised character `pos`."""
        k = bisect_right(self.seg_norm, pos) - 1
        width = self.seg_width[k]
        return self.seg_orig[k] + (pos - self.seg_norm[k] + 1 if width == 0 else width)

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a normalised span `[start, end)` to the original text."""
        if end <= start:
            pos = self.orig_start(start) if start < len(self.text) else len(self.original)
            return (pos, pos)
        return (self.orig_start(start), self.orig_end(end - 1))

    def _materialise(self) -> tuple[array, array]:
        if self._arrays is None:
            starts, ends = array("q"), array("q")
            bounds = [*self.seg_norm[1:], len(self.text)]
            for n0, n1, o, w in zip(self.seg_norm, bounds, self.seg_orig, self.seg_width, strict=True):
                if w == 0:
                    starts.extend(range(o, o + n1 - n0))
                    ends.extend(range(o + 1, o + 1 + n1 - n0))
                else:
                    starts.extend([o] * (n1 - n0))
                    ends.extend([o + w] * (n1 - n0))
            self._arrays = (starts, ends)
        return self._arrays

    @property
    def starts(self) -> array:
        """Original start of every normalised character (built on demand; prefer `orig_start`)."""
        return self._materialise()[0]

    @property
    def ends(self) -> array:
        """Original end of every normalised character (built on demand; prefer `orig_end`)."""
        return self._materialise()[1]

    def sentence_of(self, pos: int) -> int:
        """An id that is equal for two positions exactly when no sentence end lies between them."""
        return bisect_left(self.sentence_ends, pos)

    @property
    def sentence_ends(self) -> list[int]:
        """Positions of the sentence ends, sorted: `sentence_of(pos)` is `bisect_left(sentence_ends, pos)`."""
        if self._sentence_ends is None:
            self._sentence_ends = [m.start() for m in _SENTENCE_END_RE.finditer(self.text)]
        return self._sentence_ends

    def sentence_bounds(self, sentence: int) -> tuple[int, int]:
        """`[lo, hi)`: the positions whose `sentence_of` is `sentence` (a sentence end belongs to the
        sentence it ends)."""
        ends = self.sentence_ends
        lo = ends[sentence - 1] + 1 if sentence > 0 else 0
        hi = ends[sentence] + 1 if sentence < len(ends) else len(self.text)
        return (lo, hi)


class _Segments:
    """Builds a segment list, merging a linear segment into the previous one when it continues it."""

    def __init__(self) -> None:
        self.norm: list[int] = []
        self.orig: list[int] = []
        self.width: list[int] = []

    def add(self, n: int, o: int, w: int) -> None:
        if self.norm:
            if self.norm[-1] == n:  # the previous segment turned out empty
                self.norm.pop()
                self.orig.pop()
                self.width.pop()
            elif w == 0 and self.width[-1] == 0 and o - self.orig[-1] == n - self.norm[-1]:
                return
        self.norm.append(n)
        self.orig.append(o)
        self.width.append(w)

    def done(self) -> tuple[list[int], list[int], list[int]]:
        if not self.norm:
            return ([0], [0], [0])
        return (self.norm, self.orig, self.width)


def rewrite(norm: NormalisedText, edits: list[tuple[int, int, str]]) -> NormalisedText:
    """Replace normalised spans `[a, b)` by new text, keeping the map to the original exact.

    `edits` are sorted and do not overlap. Each replacement maps, as a whole, to the original span
    of what it replaced (an empty replacement deletes). Other characters keep their mapping.
    """
    if not edits:
        return norm
    text = norm.text
    segs = _Segments()
    pieces: list[str] = []
    ns, os_, ws = norm.seg_norm, norm.seg_orig, norm.seg_width

    def copy(lo: int, hi: int, shift: int) -> None:
        k = bisect_right(ns, lo) - 1
        while k < len(ns) and ns[k] < hi:
            seg_lo = max(lo, ns[k])
            segs.add(seg_lo + shift, os_[k] + (seg_lo - ns[k] if ws[k] == 0 else 0), ws[k])
            k += 1

    pos = 0
    shift = 0
    for a, b, replacement in edits:
        if a > pos:
            copy(pos, a, shift)
            pieces.append(text[pos:a])
        if replacement:
            o0, o1 = norm.orig_start(a), norm.orig_end(b - 1)
            segs.add(a + shift, o0, max(1, o1 - o0))
            pieces.append(replacement)
        shift += len(replacement) - (b - a)
        pos = b
    if pos < len(text):
        copy(pos, len(text), shift)
        pieces.append(text[pos:])
    seg_norm, seg_orig, seg_width = segs.done()
    return NormalisedText(norm.original, "".join(pieces), seg_norm, seg_orig, seg_width)


def _fold_special(text: str, tables: _Tables) -> NormalisedText:
    """Characters that vanish or expand, one by one (rare: zero-width, ㎎, ligatures, astral)."""
    changed = ((m.start(), out) for m in tables.special_re.finditer(text)
               if (out := _map_char(m.group())) != m.group())
    return _rewrite_chars(text, changed)


def _rewrite_chars(text: str, changed: Iterable[tuple[int, str]],
                   between: Callable[[str], str] = lambda piece: piece) -> NormalisedText:
    """`text` with the character at each index of `changed` (ascending) replaced by its string (empty:
    it vanishes; longer: an expansion such as ㎎ → mg, mapped character by character to the one
    original), and the text between passed through `between` (which must keep its length)."""
    pieces: list[str] = []
    segs = _Segments()
    pos = npos = 0
    for i, out in changed:
        if i > pos:
            segs.add(npos, pos, 0)
            pieces.append(between(text[pos:i]))
            npos += i - pos
        if out:
            segs.add(npos, i, 0 if len(out) == 1 else 1)
            pieces.append(out)
            npos += len(out)
        pos = i + 1
    if pos < len(text):
        segs.add(npos, pos, 0)
        pieces.append(between(text[pos:]))
    return NormalisedText(text, "".join(pieces), *segs.done())



def _to_simplified(text: str) -> str:
    """Traditional → simplified without changing the length, so the offset map stays exact.

    OpenCC converts phrases, which occasionally changes length. When a whole line would change
    length, that line is converted character by character, and a character whose conversion would
    change length is kept as it was (conservative: a missed conversion, never a wrong offset).
    """
    converted = t2s(text)
    if len(converted) == len(text):
        return converted
    fixed: list[str] = []
    for line in text.split("\n"):
        conv = t2s(line)
        if len(conv) != len(line):
            conv = "".join(c2 if len(c2 := t2s(c)) == 1 else c for c in line)
        fixed.append(conv)
    return "\n".join(fixed)


#: Full-width punctuation that fills Chinese text: replaced with one `str.replace` pass each.
_COMMON_FOLDS: Final = tuple("，：！？（）；［］｜＋％＊")


def _fold_one_to_one(text: str, tables: _Tables) -> str:
    """Apply every one-to-one fold (case, full-width forms) without a Python call per character."""
    fold = tables.fold
    if tables.lower_unsafe_re.search(text) is None:
        text = text.lower()
    for ch in _COMMON_FOLDS:
        if ch in text:
            text = text.replace(ch, fold[ch])
    if tables.fold_re.search(text) is not None:
        text = tables.fold_re.sub(lambda m: fold[s] if len(s := m.group()) == 1 and s in fold else s.lower(), text)
    return text


#: What a text is normalised for: matching rule terms, or reading licence and approval numbers.
Purpose = Literal["terms", "identifiers"]


def normalise(text: str, purpose: Purpose = "terms") -> NormalisedText:
    """Normalise `text` for `purpose`; see the module docstring for the steps.

    The result is shared by callers asking for the same text again (treat it as read-only): one page's
    analysis asks twice for each purpose (the reference signals, then the engine and its page signals).
    """
    return _normalise_cached(text, purpose)


@lru_cache(maxsize=4)
def _normalise_cached(text: str, purpose: Purpose) -> NormalisedText:
    if purpose == "identifiers":
        return _normalise_identifiers(text)
    tables = _get_tables()
    if tables.special_re.search(text) is not None:
        norm = _fold_special(text, tables)
    else:
        norm = NormalisedText(text, text)
    folded = norm.text
    if tables.fold_re.search(folded) is not None:
        folded = _fold_one_to_one(folded, tables)
    if tables.trad_re.search(folded) is not None or (
        _ASTRAL_RE.search(folded) is not None and not tables.trad_astral.isdisjoint(_ASTRAL_RE.findall(folded))
    ):
        folded = _to_simplified(folded)
    norm.text = folded
    if _FILLER_NEXT_TO_CJK_RE.search(folded) is not None:
        edits = [(m.start(1), m.end(1), "") for m in _FILLER_RUN_RE.finditer(folded)]
        norm = rewrite(norm, edits)
    return norm


# -- identifiers ----------------------------------------------------------------------------------
# Number formats are read from case (国药准字H…, 粤BA…), from spaces and from the separators
# between their parts, so the identifier purpose keeps them and only unifies the spellings footers
# use for the same thing: characters that only hide things (zero-width, BOM, soft hyphen) are
# dropped, dashes, bullets and odd brackets are unified so each pattern needs one spelling, NFKC
# makes full-width digits and letters ASCII, and a few traditional characters are simplified (a
# fixed table, not OpenCC: identifiers use few characters, and OpenCC's phrases would touch others).

_ID_DASHES: Final = "‐‑‒–—―−﹘﹣－~～•·・‧∙⋅"
_ID_OPEN: Final = "【〔〖［[「『"
_ID_CLOSE: Final = "】〕〗］]」』"
# Traditional forms of the characters that identifiers use (Hong Kong / Taiwan mirrors).
_ID_TRADITIONAL: Final = dict(
    zip(
        "國藥準試證註備衛進廣審視聲號網營經資許醫療滬魯遼蘇贛陝閩貴瓊寧雲晉粵類電話機隴黔滇廠",
        "国药准试证注备卫进广审视声号网营经资许医疗沪鲁辽苏赣陕闽贵琼宁云晋粤类电话机陇黔滇厂",
        strict=True,
    )
)
_ID_CHAR_CACHE: dict[str, str] = {}


def _identifier_char(ch: str) -> str:
    """The form of one character when reading identifiers; '' for characters that only hide things."""
    out = _ID_CHAR_CACHE.get(ch)
    if out is not None:
        return out
    if ch in _ID_DASHES:
        out = "-"
    elif ch in _ID_OPEN:
        out = "("
    elif ch in _ID_CLOSE:
        out = ")"
    elif ch in _ID_TRADITIONAL:
        out = _ID_TRADITIONAL[ch]
    elif unicodedata.category(ch) in ("Cf", "Cs") or ch == "\u00ad":
        out = ""
    else:
        out = unicodedata.normalize("NFKC", ch)
        if len(out) == 1 and out in _ID_DASHES:
            out = "-"
        elif any(unicodedata.category(c) in ("Cf", "Cs") for c in out):
            out = ""
        elif out.isspace() and out not in ("\n", "\r", "\t"):
            out = " "
    if len(_ID_CHAR_CACHE) < 100_000:  # bounded: a hostile page may use many distinct code points
        _ID_CHAR_CACHE[ch] = out
    return out


def _normalise_identifiers(text: str) -> NormalisedText:
    table: dict[int, str] = {}
    uneven: set[str] = set()  # characters that vanish or expand
    for ch in set(text):
        mapped = _identifier_char(ch)
        if mapped != ch:
            table[ord(ch)] = mapped
            if len(mapped) != 1:
                uneven.add(ch)
    if not uneven:
        return NormalisedText(text, text.translate(table) if table else text)
    # The characters that vanish or expand, found by a compiled character class (no Python step per character).
    uneven_re = re.compile("[" + "".join(re.escape(ch) for ch in sorted(uneven)) + "]")
    changed = ((m.start(), table[ord(m.group())]) for m in uneven_re.finditer(text))
    return _rewrite_chars(text, changed, lambda piece: piece.translate(table))


def normalise_term(term: str) -> str:
    """The form a rule term is matched in: the same normalisation as page text, trimmed."""
    return normalise(term).text.strip()


def has_cjk(text: str) -> bool:
    return _CJK_RE.search(text) is not None
