"""The one-pass literal matcher: every key of every rule in a single automaton.

Owns the keys (normalised rule terms, page-signal words and evasive spellings) and the scan that
returns, per key, where it occurs. Two interchangeable backends find all (overlapping) occurrences:
Hyperscan when the `hyperscan` package is installed (about 30-100x faster on Chinese text, measured
in bench/rules.py), else pyahocorasick. Word-boundary checks keep ASCII keys from matching inside
longer words ("cure" in "secure", "7天" in "17天"). Literals that only tell a regex where to look
(hint-only keys: 不, “, :, for ...) are among the most frequent strings of a page: Hyperscan reports
each of them once per scan (`HS_FLAG_SINGLEMATCH`), not once per occurrence, and their occurrences are
listed by `str.find` only for a regex that is actually run (`hint_spans`).
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from typing import Final

import ahocorasick

from rules.database_cache import cache_key, load_or_compile
from rules.evasions import pinyin_variants
from rules.normalise import normalise_term

try:  # optional: the faster backend
    import hyperscan
except ImportError:  # pragma: no cover - depends on the environment
    hyperscan = None

#: Force a backend with PHARMWATCH_MATCHER=ahocorasick|hyperscan (the benchmark compares both).
BACKEND_ENV: Final = "PHARMWATCH_MATCHER"

__all__ = ["BACKEND_ENV", "LiteralFinder", "ScanResult", "TermMatcher", "TermRef", "available_backends",
           "pinyin_variants"]

Span = tuple[int, int]


@dataclass(frozen=True)
class TermRef:
    """One use of a key: which selection, which of its terms (for `min_distinct`), prefix or not."""

    selection_uid: int
    term_index: int
    prefix: bool


@dataclass
class _Key:
    text: str
    refs: list[TermRef] = field(default_factory=list)
    signal_kinds: set[str] = field(default_factory=set)
    canonical: str | None = None  # set for an evasive spelling: what to rewrite it to
    hint: bool = False  # a literal some regex needs: every occurrence is reported in `hints`


@dataclass
class ScanResult:
    """Occurrences per key id. `blocked` holds those followed by a letter/digit that continues the
    key's last character: they only count for prefix terms (`cure*` in "cures")."""

    clean: dict[int, list[Span]] = field(default_factory=dict)
    blocked: dict[int, list[Span]] = field(default_factory=dict)
    evasions: list[tuple[int, int, str]] = field(default_factory=list)
    hints: dict[int, list[Span]] = field(default_factory=dict)  # regex literals, word boundaries ignored
    #: Hint-only keys that may occur (a superset of those that do): their spans are not listed in
    #: `hints`; `TermMatcher.hint_spans` finds them.
    hint_only: set[int] = field(default_factory=set)


def _kind(ch: str) -> int:
    """0 = not an ASCII word character, 1 = ASCII letter, 2 = ASCII digit."""
    if "a" <= ch <= "z" or "A" <= ch <= "Z":
        return 1
    if "0" <= ch <= "9":
        return 2
    return 0


#: `_kind` as a table, for the scan loop (a dict lookup instead of a Python call per occurrence).
_KIND: Final[dict[str, int]] = {
    **{c: 1 for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"},
    **{c: 2 for c in "0123456789"},
}


def available_backends() -> list[str]:
    return ["hyperscan", "ahocorasick"] if hyperscan is not None else ["ahocorasick"]


class AhoCorasickBackend:
    """Literal multi-pattern search with pyahocorasick (the fallback when Hyperscan is unavailable)."""

    def __init__(self, keys: list[str], once: frozenset[int] = frozenset()):
        # `once` (keys Hyperscan reports once per scan) means nothing here: every occurrence is reported.
        self.automaton = ahocorasick.Automaton()
        for key_id, key in enumerate(keys):
            self.automaton.add_word(key, key_id)
        if keys:
            self.automaton.make_automaton()
        self.empty = not keys

    def occurrences(self, text: str) -> list[tuple[int, int]]:
        """(key id, end offset) of every occurrence, in order of end offset."""
        if self.empty:
            return []
        return [(key_id, last + 1) for last, key_id in self.automaton.iter(text)]


class HyperscanBackend:
    """Literal multi-pattern search on UTF-32 code units, so a byte offset / 4 is a character offset.

    The binding passes patterns as C strings, so NUL bytes are translated to 0x01 in patterns and
    text alike; that mapping merges a few characters, so every reported occurrence is checked
    against the text (a cheap slice comparison) before it is kept.
    """

    _NUL: Final = bytes.maketrans(b"\x00", b"\x01")

    def __init__(self, keys: list[str], once: frozenset[int] = frozenset()):
        self.keys = keys
        self.lengths = [len(k) for k in keys]
        self.database = None
        if keys:
            expressions = [k.encode("utf-32-le").translate(self._NUL) for k in keys]
            ids = list(range(len(keys)))
            flags = [hyperscan.HS_FLAG_SINGLEMATCH if i in once else 0 for i in ids]

            def compile_database():  # type: ignore[no-untyped-def]
                database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
                database.compile(expressions=expressions, ids=ids, elements=len(keys), flags=flags, literal=True)
                return database

            # Compiling was about a third of a rule set's load (0.4-0.7 s): reuse a database compiled before
            # when the caller gave a cache folder (rules.database_cache).
            self.database = load_or_compile(
                cache_key(hyperscan.__version__, hyperscan.HS_MODE_BLOCK, expressions, ids, flags, literal=True),
                compile_database, hyperscan.dumpb, lambda raw: hyperscan.loadb(raw, hyperscan.HS_MODE_BLOCK))
        #: Keys reported at most once per scan, unchecked: "may occur" (their first report may be a
        #: merged-byte false match, so no report means "does not occur", a report means "look").
        self.once = once
        self.collide = frozenset(i for i, k in enumerate(keys) if _may_collide(k))
        self.all_keys = range(len(keys))
        self._local = threading.local()

    def _scratch(self):  # type: ignore[no-untyped-def]
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hyperscan.Scratch(self.database)
        return scratch

    def occurrences(self, text: str) -> list[tuple[int, int]]:
        if self.database is None or not text:
            return []
        raw: list[tuple[int, int]] = []
        append = raw.append
        self.database.scan(
            text.encode("utf-32-le", "surrogatepass").translate(self._NUL),
            match_event_handler=lambda key_id, _start, end, _flags, _ctx: append((key_id, end)),
            scratch=self._scratch(),
        )
        # Only a key holding a character with a 0x00/0x01 byte in its low half (U+xx00, U+00xx,
        # U+xx01 ...) or text beyond the basic plane can produce a merged-byte false match.
        check = self.collide if _ASTRAL_RE.search(text) is None else self.all_keys
        keys, lengths, once = self.keys, self.lengths, self.once
        out: list[tuple[int, int]] = []
        for key_id, end in raw:
            if key_id in once:
                out.append((key_id, end >> 2))
                continue
            if end & 3:
                continue
            end >>= 2
            if key_id in check and text[end - lengths[key_id] : end] != keys[key_id]:
                continue
            out.append((key_id, end))
        return out


_ASTRAL_RE: Final = re.compile("[\U00010000-\U0010ffff]")


def _may_collide(key: str) -> bool:
    return any((ord(c) & 0xFF) < 2 or ((ord(c) >> 8) & 0xFF) < 2 for c in key)


class LiteralFinder:
    """The non-overlapping occurrences of a fixed set of literals, as `re.finditer` of their alternation
    (longest first) finds them: leftmost, then longest, then on after its end. A literal starting (ending)
    with an ASCII letter or digit needs no such character before (after) it. One automaton pass instead
    of a backtracking regex trying hundreds of alternatives at every position.

    `literals` maps each spelling to report as: a variant (a typographic apostrophe) to its canonical form.
    """

    def __init__(self, literals: dict[str, str], backend: str | None = None):
        spellings = sorted(literals)
        self._reported = [literals[s] for s in spellings]
        self._lengths = [len(s) for s in spellings]
        self._bounded = [(s[0] in _BOUNDARY_CHARS, s[-1] in _BOUNDARY_CHARS) for s in spellings]
        name = backend or os.environ.get(BACKEND_ENV) or available_backends()[0]
        self._backend = (HyperscanBackend if name == "hyperscan" else AhoCorasickBackend)(spellings)

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, canonical literal) of each occurrence in `text`, in order."""
        candidates = []
        n = len(text)
        for key_id, end in self._backend.occurrences(text):
            start = end - self._lengths[key_id]
            head, tail = self._bounded[key_id]
            if (head and start > 0 and text[start - 1] in _BOUNDARY_CHARS) or (
                    tail and end < n and text[end] in _BOUNDARY_CHARS):
                continue
            candidates.append((start, -end, key_id))
        candidates.sort()
        found: list[tuple[int, int, str]] = []
        reached = 0
        for start, neg_end, key_id in candidates:
            if start >= reached:
                found.append((start, -neg_end, self._reported[key_id]))
                reached = -neg_end
        return found


_BOUNDARY_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


class TermMatcher:
    """Collects keys at load time, then finds all their occurrences in normalised text in one pass."""

    def __init__(self, backend: str | None = None) -> None:
        self._index: dict[str, int] = {}
        self.keys: list[_Key] = []
        self._backend_name = backend or os.environ.get(BACKEND_ENV) or available_backends()[0]
        if self._backend_name not in available_backends():
            raise ValueError(
                f"matcher backend {self._backend_name!r} is not available; use one of {available_backends()}"
            )
        self._backend: AhoCorasickBackend | HyperscanBackend | None = None
        self._first_kind: list[int] = []
        self._last_kind: list[int] = []
        # Per key: (length, first kind, last kind, is a hint, is only a hint, canonical spelling or None).
        self._scanned: list[tuple[int, int, int, bool, bool, str | None]] = []
        self._signal_kinds: dict[int, tuple[str, ...]] | None = None

    @property
    def backend(self) -> str:
        return self._backend_name

    def _key(self, text: str) -> _Key:
        index = self._index.get(text)
        if index is None:
            index = self._index[text] = len(self.keys)
            self.keys.append(_Key(text))
            self._backend = None
            self._signal_kinds = None
        return self.keys[index]

    def add(self, term: str, selection_uid: int, term_index: int, *, pinyin_evasions: bool = False) -> str:
        """Register `term` for a selection and return its normalised key. Raises ValueError if empty.

        A term ending in `*` after a letter (`cure*`) matches as a prefix (cures, cured).
        `pinyin_evasions` is accepted for compatibility; evasive spellings are now registered once
        per rule set with `add_evasion` and rewritten to the canonical term before matching.
        """
        prefix = len(term) > 1 and term.endswith("*") and _kind(term[-2]) == 1
        key = normalise_term(term[:-1] if prefix else term)
        if not key:
            raise ValueError(f"term {term!r} is empty after normalisation")
        self._key(key).refs.append(TermRef(selection_uid, term_index, prefix))
        return key

    def add_signal_word(self, word: str, kind: str) -> None:
        """Register a page-signal word (price, buy, product, warning ...; see rules.signals)."""
        key = normalise_term(word)
        if key:
            self._key(key).signal_kinds.add(kind)
            self._signal_kinds = None

    def add_hint(self, literal: str) -> int:
        """Register a literal that a regex needs; returns its key id (see ScanResult.hints)."""
        key = self._key(literal)
        key.hint = True
        return self._index[literal]

    def add_evasion(self, variant: str, canonical: str) -> None:
        """Register an evasive spelling; `scan` reports it so the caller can rewrite it."""
        if variant and variant != canonical:
            self._key(variant).canonical = canonical

    @property
    def key_count(self) -> int:
        return len(self.keys)

    @property
    def signal_kinds(self) -> dict[int, tuple[str, ...]]:
        """Key id → the page-signal kinds of that key, for signal keys only."""
        if self._signal_kinds is None:
            self._signal_kinds = {i: tuple(sorted(k.signal_kinds)) for i, k in enumerate(self.keys) if k.signal_kinds}
        return self._signal_kinds

    def is_hint_only(self, key_id: int) -> bool:
        """Is key `key_id` only a regex literal (no term, signal word or evasive spelling uses it)?
        `scan` says whether such a key may occur (`ScanResult.hint_only`); `hint_spans` finds where."""
        key = self.keys[key_id]
        return key.hint and not key.refs and not key.signal_kinds and key.canonical is None

    def hint_spans(self, key_id: int, text: str) -> list[Span]:
        """Every (overlapping) occurrence of key `key_id` in `text`, in order: what `ScanResult.hints`
        lists for a key that is not hint-only."""
        literal = self.keys[key_id].text
        width = len(literal)
        out: list[Span] = []
        find = text.find
        pos = find(literal)
        while pos >= 0:
            out.append((pos, pos + width))
            pos = find(literal, pos + 1)
        return out

    def build(self) -> None:
        texts = [k.text for k in self.keys]
        self._first_kind = [_kind(t[0]) for t in texts]
        self._last_kind = [_kind(t[-1]) for t in texts]
        hint_only = [self.is_hint_only(i) for i in range(len(texts))]
        self._scanned = [
            (len(texts[i]), self._first_kind[i], self._last_kind[i], self.keys[i].hint, hint_only[i],
             self.keys[i].canonical)
            for i in range(len(texts))
        ]
        backend = HyperscanBackend if self._backend_name == "hyperscan" else AhoCorasickBackend
        self._backend = backend(texts, frozenset(i for i, only in enumerate(hint_only) if only))

    def reports(self, text: str) -> int:
        """How many matches the automaton hands to Python for normalised `text` (bench/rules.py: what the
        scan's cost follows)."""
        if self._backend is None:
            self.build()
        assert self._backend is not None
        return len(self._backend.occurrences(text))

    def scan(self, text: str) -> ScanResult:
        """Every occurrence of every key in normalised `text`, grouped by key id; of a hint-only key,
        only whether it may occur (`ScanResult.hint_only`)."""
        if self._backend is None:
            self.build()
        assert self._backend is not None
        result = ScanResult()
        clean, blocked, hints, hint_only = result.clean, result.blocked, result.hints, result.hint_only
        scanned = self._scanned
        kind_of = _KIND.get
        n = len(text)
        for key_id, end in self._backend.occurrences(text):
            length, first, last, hint, only, canonical = scanned[key_id]
            if only:
                hint_only.add(key_id)
                continue
            start = end - length
            span = (start, end)
            if hint:
                hints.setdefault(key_id, []).append(span)
            before = kind_of(text[start - 1], 0) if first and start > 0 else 0
            after = kind_of(text[end], 0) if last and end < n else 0
            # A key starting with a letter must not continue a word; same for digits ("17天").
            if before and before == first:
                continue
            if after and after == last:
                blocked.setdefault(key_id, []).append(span)
                continue
            # An evasive spelling must stand alone: "tnb" in the handle "tnb888" is not 糖尿病.
            if canonical is not None and not (before or after):
                result.evasions.append((start, end, canonical))
            clean.setdefault(key_id, []).append(span)
        return result
