"""Obfuscated spellings of English drug names: v1agra, VI@GRA, c-i-a-l-i-s, xa . nax, vіagra (Cyrillic і),
vi<zero-width>agra, vlcodln, phentermlne, viagbtra.

Owns the drug lexicons (`LEXICONS`, data in `rules/reference/drug_names_en.yaml`), the English guard list
(`rules/reference/english_guard_en.yaml`: ordinary words one edit from a drug name) and `find_obfuscated()`;
the rule engine reads it through the `obfuscated:` selection of rule packs (`selection_spans`). Only
spellings that differ from the plain name are reported: plain names are the business of rule terms.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

from rules import yaml_fast
from rules.model import ObfuscatedSelection
from rules.normalise import LATIN_LOOKALIKES, NormalisedText, normalise

_REFERENCE: Final = Path(__file__).resolve().parent / "reference"
#: Lexicon name (as written in a rule's `obfuscated: {lexicon: ...}`) → its YAML file.
LEXICONS: Final[dict[str, Path]] = {"drugs_en": _REFERENCE / "drug_names_en.yaml"}
#: Ordinary English words that a misspelling tier would read as a drug name (generated from a word list
#: by `bench/obfuscation.py --guard`, then reviewed): never reported when written plainly.
GUARD_FILE: Final = _REFERENCE / "english_guard_en.yaml"

#: Digits and symbols read as the letter they imitate (SpamAssassin's drug rules use the same classes).
LEET: Final[dict[str, str]] = {
    "1": "i", "|": "i", "!": "i", "0": "o", "@": "a", "4": "a", "3": "e", "€": "e", "$": "s", "5": "s",
    "7": "t", "(": "c", "¢": "c", "9": "g",
}
#: Characters that may stand between the letters of one spelled-out name (v.i.a.g.r.a, cia . lis, V-i-a-g-r-a).
SEPARATORS: Final = frozenset(" .-_*~·•,;^'`+=:/\\")
#: At most this many separator characters between two pieces of one name.
MAX_GAP: Final = 3
#: Misspellings are read only for names of at least this many letters (nothing for ≤ 4: too many words).
FUZZY_MIN_LEN: Final = 5
#: Damerau-Levenshtein (optimal string alignment) distance allowed: 1 for names of 5-7 letters, 2 from 8.
LONG_NAME: Final = 8
#: Junk letters inserted inside a name (viagbtra): at most this many, names of at least 6 letters.
MAX_INSERTED: Final = 2
INSERTION_MIN_LEN: Final = 6
_CACHE_LIMIT: Final = 50_000

_LETTERS: Final = "a-z" + "".join(sorted(LATIN_LOOKALIKES))
# A piece: letters, lookalikes, leet digits and symbols, or "\/" (a V drawn with slashes).
_PIECE_RE: Final = re.compile(r"(?:\\/|[" + re.escape("".join(LEET)) + _LETTERS + r"0-9])+")
_EDGE_TRIM: Final = "!|(@"
_TRAILING_DOSE_RE: Final = re.compile(r"\d{2,}(?:mg)?$")


@dataclass(frozen=True)
class DrugName:
    """One lexicon entry (see the header of `rules/reference/drug_names_en.yaml`)."""

    name: str
    generic: str
    drug_class: str
    rx_only: bool
    schedule: str | None
    fuzzy: bool = True

    @property
    def controlled(self) -> bool:
        return self.schedule is not None


@dataclass(frozen=True)
class ObfuscatedName:
    """A drug name written in disguise: `[start, end)` in the text it was found in, what it stands for,
    how it was disguised (`kinds`: separator, leet, homoglyph, hidden, styled, lookalike, misspelling,
    insertion)."""

    start: int
    end: int
    drug: DrugName
    kinds: tuple[str, ...]
    written: str


def _skeleton_char(ch: str) -> str:
    """The letter `ch` reads as, with i and l merged (1, |, l and i all look alike)."""
    out = LEET.get(ch) or LATIN_LOOKALIKES.get(ch) or ch
    return "i" if out == "l" else out


_SKELETON_TABLE: Final = str.maketrans({ch: _skeleton_char(ch) for ch in [*LEET, *LATIN_LOOKALIKES, "l"]})


def skeleton(text: str) -> str:
    """`text` read as plain letters with i/l merged: "V1@gra" → "viagra", "vlcodln" → "vicodin"."""
    return text.replace("\\/", "v").translate(_SKELETON_TABLE)


def _osa_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (optimal string alignment: adjacent transpositions count 1)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]


def _is_subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in short)


def _deletes(word: str, depth: int) -> set[str]:
    """`word` with up to `depth` characters deleted (the word itself included)."""
    out = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        out |= frontier
    return out


def allowed_distance(name: str) -> int:
    if len(name) < FUZZY_MIN_LEN:
        return 0
    return 1 if len(name) < LONG_NAME else 2


class Lexicon:
    """Drug names indexed for disguised spellings: by skeleton (exact) and by deletions (misspellings)."""

    def __init__(self, entries: Iterable[DrugName], guard: Iterable[str] = ()):
        self.entries = tuple(entries)
        self.guard = frozenset(guard)
        self.classes = frozenset(e.drug_class for e in self.entries)
        self.by_skeleton: dict[str, DrugName] = {}
        for entry in self.entries:
            key = skeleton(entry.name)
            if key in self.by_skeleton:
                raise ValueError(f"drug names {self.by_skeleton[key].name!r} and {entry.name!r} look alike")
            self.by_skeleton[key] = entry
        self.max_len = max((len(k) for k in self.by_skeleton), default=0)
        # Deletion index (SymSpell): a misspelling within distance d of a name shares a deletion of
        # at most d characters with it; insertions are found by deleting from the page's word only.
        self._index: dict[str, set[str]] = {}
        for key, entry in self.by_skeleton.items():
            if entry.fuzzy and len(key) >= FUZZY_MIN_LEN:
                for variant in _deletes(key, allowed_distance(key)):
                    self._index.setdefault(variant, set()).add(key)
        self._cache: dict[tuple[str, bool], tuple[DrugName, str] | None] = {}

    def resolve(self, piece: str, joined: bool) -> tuple[DrugName, str] | None:
        """The drug `piece` (normalised text of one word, or pieces joined) spells, and how: "exact" (after
        reading symbols and lookalikes), "misspelling" or "insertion"; None when it spells none."""
        key = (piece, joined)
        if key in self._cache:
            return self._cache[key]
        found = self._resolve(piece, joined)
        if len(self._cache) < _CACHE_LIMIT:
            self._cache[key] = found
        return found

    def _resolve(self, piece: str, joined: bool) -> tuple[DrugName, str] | None:
        if len(piece) < 4 or len(piece) > self.max_len + MAX_INSERTED + 1:
            return None
        skel = skeleton(piece)
        if len(skel) < 4 or len(skel) > self.max_len + MAX_INSERTED:
            return None
        entry = self.by_skeleton.get(skel)
        plain_word = piece.isascii() and piece.isalpha()
        if entry is not None:
            # An ordinary word whose i/l reading is a drug name stays itself (the guard list).
            if plain_word and piece != entry.name and piece in self.guard:
                return None
            return (entry, "exact")
        if joined or len(skel) < FUZZY_MIN_LEN or (plain_word and piece in self.guard):
            return None
        if skel.endswith("s") and skel[:-1] in self.by_skeleton:
            return None  # a plural (valiums) is how the name is written, not a disguise
        best: tuple[int, str, str] | None = None
        for variant in _deletes(skel, MAX_INSERTED):
            for name_key in self._index.get(variant, ()):
                if name_key[0] != skel[0]:
                    continue  # spam keeps the first letter; ordinary words one edit away often do not
                distance = _osa_distance(skel, name_key)
                how = "misspelling"
                # A misspelling keeps the word's shape (first and last letter): celebre, ambler and
                # afterall are other words, not celebrex, ambien and adderall.
                if distance > allowed_distance(name_key) or skel[-1] != name_key[-1]:
                    extra = len(skel) - len(name_key)
                    if not (
                        len(name_key) >= INSERTION_MIN_LEN
                        and 0 < extra <= MAX_INSERTED
                        and skel[-1] == name_key[-1]
                        and _is_subsequence(name_key, skel)
                    ):
                        continue
                    how = "insertion"
                if best is None or (distance, name_key) < best[:2]:
                    best = (distance, name_key, how)
        if best is None:
            return None
        return (self.by_skeleton[best[1]], best[2])

    def find(self, norm: NormalisedText) -> list[ObfuscatedName]:
        """Disguised drug names in normalised text, as spans of `norm.text` (left to right, not overlapping)."""
        text = norm.text
        pieces = [(m.start(), m.end()) for m in _PIECE_RE.finditer(text)]
        # Per gap between neighbouring pieces, once per text: can it stand inside a name, and is there a gap
        # with a symbol before the run of joinable gaps from here breaks (words joined by spaces alone are
        # separate words, so prose needs no joining at all)?
        joinable = [_joinable(text[a[1] : b[0]]) for a, b in zip(pieces, pieces[1:], strict=False)]
        symbol_ahead = [False] * len(pieces)
        for k in range(len(joinable) - 1, -1, -1):
            if joinable[k]:
                symbol_ahead[k] = text[pieces[k][1] : pieces[k + 1][0]].strip() != "" or symbol_ahead[k + 1]
        out: list[ObfuscatedName] = []
        i = 0
        last = len(pieces) - 1
        while i <= last:
            start, end = pieces[i]
            if end - start < 4 and (i == last or not joinable[i]):
                i += 1  # a short word standing alone (most words): `_best_at` would read nothing
                continue
            piece = text[start:end]
            if not symbol_ahead[i] and 1 < end - start <= 40 and piece.isascii() and piece.isalpha():
                # A plain word joins no neighbour (`_best_at` would only resolve the word itself): a
                # cache look-up, without the call.
                found = self.resolve(piece, joined=False)
                hit = None if found is None else (i, start, end, found[0], found[1])
            else:
                hit = self._best_at(text, pieces, i, joinable, symbol_ahead)
            if hit is None:
                i += 1
                continue
            j, start, end, entry, how = hit
            written = _original(norm, start, end)
            kinds = _kinds(text[start:end], written, entry, how, joined=j > i)
            if kinds:
                out.append(ObfuscatedName(start, end, entry, kinds, written))
            i = j + 1
        return out

    def _best_at(
        self, text: str, pieces: list[tuple[int, int]], i: int, joinable: list[bool], symbol_ahead: list[bool],
    ) -> tuple[int, int, int, DrugName, str] | None:
        """The longest run of pieces from `i` that spells a drug name: (last piece, start, end, entry, how)."""
        start, end = pieces[i]
        if end - start < 4 and (i + 1 == len(pieces) or not joinable[i]):
            return None  # a short word standing alone (most words): nothing to read
        start, end = _trimmed(text, start, end)
        if end <= start:
            return None
        best: tuple[int, int, int, DrugName, str] | None = None
        single = text[start:end]
        if len(single) <= 40:
            found = self.resolve(single, joined=False)
            if found is not None:
                best = (i, start, end, found[0], found[1])
        # Pieces joined across separators: v.i.a.g.r.a, cia . lis, V-i-a-g-r-a, v i a g r a.
        letters = len(single)
        all_single = letters == 1
        if not (all_single or symbol_ahead[i]):
            return best
        symbol_gap = False
        joined = [single]
        j = i
        while j + 1 < len(pieces) and letters <= self.max_len:
            if not joinable[j]:
                break
            gap = text[pieces[j][1] : pieces[j + 1][0]]
            symbol_gap = symbol_gap or gap.strip() != ""
            j += 1
            piece = text[pieces[j][0] : pieces[j][1]]
            all_single = all_single and len(piece) == 1
            joined.append(piece)
            letters += len(piece)
            # Words separated by spaces only are separate words, unless every piece is one letter.
            if not (symbol_gap or all_single):
                continue
            found = self.resolve("".join(joined), joined=True)
            if found is not None and not (all_single and _continues(text, pieces, j)):
                end = _trimmed(text, *pieces[j])[1]
                best = (j, start, end, found[0], found[1])
        return best


def _joinable(gap: str) -> bool:
    """Can `gap` stand inside one spelled-out name? Spaces alone (v i a g r a: checked by the caller),
    symbols alone (v.i.a.g.r.a, V-i-a-g-r-a) or symbols between equal spaces (cia . lis); not the
    punctuation of prose ("word, word", "end. Next"), which would join every sentence."""
    if not 0 < len(gap) <= MAX_GAP or not set(gap) <= SEPARATORS:
        return False
    core = gap.strip(" ")
    return not core or " " not in gap or (len(gap) - len(gap.lstrip(" ")) == len(gap) - len(gap.rstrip(" ")))


def _continues(text: str, pieces: list[tuple[int, int]], j: int) -> bool:
    """Does a spelled-out run of single letters go on after piece `j` (u l t r a m i c r o ...)?"""
    if j + 1 >= len(pieces):
        return False
    a, b = pieces[j + 1]
    return b - a == 1 and _joinable(text[pieces[j][1] : a])


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """A piece without edge symbols that are punctuation there (viagra!, (cialis, @xanax) or a dose (viagra100)."""
    while start < end and text[start] in _EDGE_TRIM:
        start += 1
    while end > start and text[end - 1] in _EDGE_TRIM:
        end -= 1
    if end == start or not text[end - 1].isdigit():
        return (start, end)
    dose = _TRAILING_DOSE_RE.search(text, start, end)
    if dose is not None and dose.start() > start:
        end = dose.start()
    return (start, end)


def _is_styled(ch: str) -> bool:
    """Mathematical bold/italic letters (𝐕𝐈𝐀𝐆𝐑𝐀) and enclosed letters (Ⓥ): decoration no shop needs.
    Full-width letters are not counted: Chinese pages type them as a matter of course."""
    return "\U0001d400" <= ch <= "\U0001d7ff" or "\u24b6" <= ch <= "\u24e9" or "\U0001f130" <= ch <= "\U0001f189"


def _original(norm: NormalisedText, start: int, end: int) -> str:
    a, b = norm.to_original(start, end)
    return norm.original[a:b]


def _kinds(seen: str, written: str, entry: DrugName, how: str, *, joined: bool) -> tuple[str, ...]:
    """How the name was disguised; empty when it was written plainly (only case or width differ)."""
    styled = any(_is_styled(ch) for ch in written)
    if not styled and unicodedata.normalize("NFKC", written).casefold() == entry.name:
        return ()
    kinds: list[str] = ["styled"] if styled else []
    if joined:
        kinds.append("separator")
    if any(ch in LEET for ch in seen) or "\\/" in seen:
        kinds.append("leet")
    if any(ch in LATIN_LOOKALIKES for ch in seen):
        kinds.append("homoglyph")
    if any(unicodedata.category(ch) == "Cf" or ch == "\u00ad" for ch in written):
        kinds.append("hidden")
    if how != "exact":
        kinds.append(how)
    elif not kinds and seen.replace("\\/", "v") != entry.name and not joined:
        kinds.append("lookalike")  # l for i or i for l: vlcodln
    return tuple(kinds) or ("lookalike",)


def _load_entries(path: Path) -> list[DrugName]:
    data = yaml_fast.safe_load(path.read_text(encoding="utf-8"))
    return [
        DrugName(
            name=item["name"],
            generic=item["generic"],
            drug_class=item["class"],
            rx_only=bool(item["rx_only"]),
            schedule=item.get("schedule"),
            fuzzy=bool(item.get("fuzzy", True)),
        )
        for item in data["drugs"]
    ]


def load_guard(path: Path = GUARD_FILE) -> frozenset[str]:
    if not path.exists():
        return frozenset()
    data = yaml_fast.safe_load(path.read_text(encoding="utf-8")) or {}
    return frozenset(w.lower() for w in [*data.get("words", []), *data.get("reviewed", [])])


@cache
def load_lexicon(name: str = "drugs_en") -> Lexicon:
    """The named lexicon (see `LEXICONS`), with the English guard list; KeyError for an unknown name."""
    return Lexicon(_load_entries(LEXICONS[name]), load_guard())


def find_obfuscated(text: str, lexicon: str = "drugs_en") -> list[ObfuscatedName]:
    """Disguised drug names in `text`, with spans in `text` itself (what the page wrote)."""
    norm = normalise(text)
    found = []
    for hit in load_lexicon(lexicon).find(norm):
        a, b = norm.to_original(hit.start, hit.end)
        found.append(ObfuscatedName(a, b, hit.drug, hit.kinds, hit.written))
    return found


def matches_filter(hit: ObfuscatedName, classes: frozenset[str], controlled: bool | None) -> bool:
    """Does `hit` pass a selection's filters (`classes`: empty = any; `controlled`: None = either)?"""
    if classes and hit.drug.drug_class not in classes:
        return False
    return controlled is None or hit.drug.controlled == controlled


def selection_spans(sel: ObfuscatedSelection, norm: NormalisedText, cache: dict[str, list]) -> list[tuple[int, int]]:
    """Spans of `norm.text` matching an `obfuscated:` selection; the lexicon's scan is kept in `cache`
    (one per document), so several rules using it cost one pass."""
    hits = cache.get(sel.lexicon)
    if hits is None:
        hits = cache[sel.lexicon] = load_lexicon(sel.lexicon).find(norm)
    return [(h.start, h.end) for h in hits if matches_filter(h, sel.classes, sel.controlled)]


__all__ = [
    "LEXICONS",
    "DrugName",
    "Lexicon",
    "ObfuscatedName",
    "find_obfuscated",
    "load_lexicon",
    "matches_filter",
    "selection_spans",
    "skeleton",
]
