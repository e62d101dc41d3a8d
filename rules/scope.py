"""Claim scope: is a claim match denied, asked, reported or warned against by its own clause?

Owns the scope kinds, the reviewed cue vocabulary (`rules/reference/scope_cues.yaml`, loaded and
validated by `load_scope_cues()`) and `ScopeReader`, which splits one normalised text into
sentences and clauses and answers, for a claim span, which scope it sits in and why (a
`ScopeVerdict` naming the kind, the cue and where it is). The evaluator drops claim matches in
scope for every rule with a `claim_scope` (see rules/packs/README.md, "Claim scope").
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import yaml

from rules import yaml_fast
from rules.matcher import LiteralFinder
from rules.normalise import NormalisedText, normalise_term
from rules.regex_literals import anchored_matches, lead_starts, regex_leads

#: The scope kinds, in the order a claim is tested against them.
SCOPE_KINDS: Final[tuple[str, ...]] = ("negation", "question", "reported", "warning")
#: Kinds that make a whole passage someone else's words: they take away every word of a claim rule
#: in it, topic words included; negation and question concern the claim word only.
PASSAGE_KINDS: Final[frozenset[str]] = frozenset({"reported", "warning"})
#: The reviewed cue vocabulary.
CUES_PATH: Final = Path(__file__).resolve().parent / "reference" / "scope_cues.yaml"
_SIDES: Final = ("before", "after", "sentence")
_WITHIN: Final = ("clause", "sentence")
_LATIN: Final = re.compile(r"[a-z0-9]")

Span = tuple[int, int]


class ScopeCueError(ValueError):
    """The cue file is broken; the message names the file and every problem."""


@dataclass(frozen=True)
class CueGroup:
    """Cues of one kind on one side of the claim, with how far they reach."""

    kind: str
    side: str  # "before", "after" or "sentence"
    reach_zh: int
    reach_en: int
    within: str  # "clause" or "sentence"


@dataclass(frozen=True)
class ScopeVerdict:
    """Why a claim match is not the page's own claim."""

    kind: str
    #: Where the cue is: "before"/"after" the claim, "sentence" (a question), "frame" (a quotation
    #: or warning heading enclosing the claim).
    side: str
    cue: str
    #: The cue's span in the normalised text.
    cue_span: Span

    def explain(self) -> str:
        where = {
            "before": "before the claim",
            "after": "after the claim",
            "sentence": "in the question the claim is part of",
            "frame": "enclosing the claim",
        }[self.side]
        return f"{self.kind}: {self.cue!r} {where}"


@dataclass(frozen=True)
class ScopeCues:
    """The compiled cue vocabulary."""

    default_categories: frozenset[str]
    groups: tuple[CueGroup, ...]
    #: Every cue and not-cue (reported with a straight apostrophe: don’t is don't).
    cue_finder: LiteralFinder
    #: Cue text → indexes into `groups` (a not-cue has none).
    roles: dict[str, tuple[int, ...]]
    break_finder: LiteralFinder
    #: (kind, pattern): a claim inside a match is in that kind's scope.
    frames: tuple[tuple[str, re.Pattern[str]], ...]
    #: SHA-256 input: the file's bytes, so a changed vocabulary changes the pack digest.
    raw: bytes
    #: Per frame, the literals one of which its matches start with (`regex_leads`), or None.
    frame_leads: tuple[frozenset[str] | None, ...] = ()


def _spellings(terms: Iterable[str]) -> dict[str, str]:
    """Each term as written and, for one with an apostrophe, as typeset (don’t), both reported as written."""
    return {spelling: term for term in terms for spelling in {term, term.replace("'", "’")}}


def _term_list(value: object, where: str, problems: list[str]) -> list[str]:
    if not (isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value)):
        problems.append(f"{where} must be a non-empty list of strings")
        return []
    out = []
    for v in value:
        term = normalise_term(v) if v.strip() == v else v
        if term != v:
            problems.append(f"{where}: {v!r} must be written normalised, as {term!r}")
        out.append(v)
    return out


def _cue_groups(kind: str, side: str, raw: object, problems: list[str]) -> list[tuple[CueGroup, list[str]]]:
    where = f"kinds.{kind}.{side}"
    if not isinstance(raw, list) or not raw:
        problems.append(f"{where} must be a list of cue groups")
        return []
    out: list[tuple[CueGroup, list[str]]] = []
    for i, group in enumerate(raw):
        here = f"{where}[{i}]"
        if not isinstance(group, dict):
            problems.append(f"{here} must be a mapping with cues (and reach, within)")
            continue
        allowed = {"cues", "within"} if side == "sentence" else {"cues", "reach", "within"}
        if set(group) - allowed:
            problems.append(f"{here}: unknown key(s) {sorted(set(group) - allowed)}; use {sorted(allowed)}")
        cues = group.get("cues")
        if not (isinstance(cues, dict) and cues and set(cues) <= {"zh", "en"}):
            problems.append(f"{here}.cues must map zh and/or en to lists of cues")
            continue
        terms = [t for lang, value in cues.items() for t in _term_list(value, f"{here}.cues.{lang}", problems)]
        reach_zh = reach_en = 0
        within = group.get("within", "sentence")
        if within not in _WITHIN:
            problems.append(f"{here}.within must be one of: {', '.join(_WITHIN)}")
            continue
        if side != "sentence":
            reach = group.get("reach")
            if not (isinstance(reach, dict) and set(reach) == {"zh", "en"}
                    and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in reach.values())):
                problems.append(f"{here}.reach must be {{zh: N, en: N}} (characters, >= 0)")
                continue
            reach_zh, reach_en = reach["zh"], reach["en"]
        out.append((CueGroup(kind, side, reach_zh, reach_en, within), terms))
    return out


def parse_scope_cues(raw: bytes, path: Path = CUES_PATH) -> ScopeCues:
    """Validate and compile a cue file's bytes; raises ScopeCueError listing every problem."""
    problems: list[str] = []
    try:
        data: Any = yaml_fast.safe_load(raw.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ScopeCueError(f"{path}: cannot read the cue file: {exc}") from exc
    if not isinstance(data, dict):
        raise ScopeCueError(f"{path}: the cue file must be a mapping")
    unknown = set(data) - {"version", "default_categories", "clause_breaks", "not_cues", "kinds"}
    if unknown:
        problems.append(f"unknown key(s) {sorted(unknown)}")
    categories = _term_list(data.get("default_categories"), "default_categories", problems)
    breaks = data.get("clause_breaks")
    break_terms: list[str] = []
    if not (isinstance(breaks, dict) and set(breaks) == {"punctuation", "words"}):
        problems.append("clause_breaks must have 'punctuation' and 'words'")
    else:
        break_terms = _term_list(breaks["punctuation"], "clause_breaks.punctuation", problems)
        break_terms += _term_list(breaks["words"], "clause_breaks.words", problems)
    not_cues = _term_list(data.get("not_cues"), "not_cues", problems)
    kinds = data.get("kinds")
    groups: list[CueGroup] = []
    roles: dict[str, list[int]] = {t: [] for t in not_cues}
    frames: list[tuple[str, re.Pattern[str]]] = []
    if not (isinstance(kinds, dict) and set(kinds) == set(SCOPE_KINDS)):
        problems.append(f"kinds must define exactly: {', '.join(SCOPE_KINDS)}")
        kinds = {}
    for kind, spec in kinds.items():
        if not isinstance(spec, dict):
            problems.append(f"kinds.{kind} must be a mapping")
            continue
        unknown = set(spec) - {"description", *_SIDES, "frames"}
        if unknown:
            problems.append(f"kinds.{kind}: unknown key(s) {sorted(unknown)}")
        if not (isinstance(spec.get("description"), str) and spec["description"].strip()):
            problems.append(f"kinds.{kind}.description must say what the kind means")
        for side in _SIDES:
            if side not in spec:
                continue
            for group, terms in _cue_groups(kind, side, spec[side], problems):
                groups.append(group)
                for term in terms:
                    if term in not_cues:
                        problems.append(f"kinds.{kind}.{side}: {term!r} is also listed in not_cues")
                    roles.setdefault(term, []).append(len(groups) - 1)
        for i, pattern in enumerate(spec.get("frames", [])):
            try:
                compiled = re.compile(pattern)
            except (re.error, TypeError) as exc:
                problems.append(f"kinds.{kind}.frames[{i}]: bad regex {pattern!r}: {exc}")
                continue
            if compiled.search("") is not None:
                problems.append(f"kinds.{kind}.frames[{i}] matches empty text")
                continue
            frames.append((kind, compiled))
    if problems:
        raise ScopeCueError(f"{path}: " + "; ".join(problems))
    return ScopeCues(
        default_categories=frozenset(categories),
        groups=tuple(groups),
        cue_finder=LiteralFinder(_spellings(roles)),
        roles={t: tuple(ix) for t, ix in roles.items()},
        break_finder=LiteralFinder(_spellings(break_terms)),
        frames=tuple(frames),
        raw=raw,
        frame_leads=tuple(regex_leads(pattern) for _kind, pattern in frames),
    )


@lru_cache(maxsize=4)
def load_scope_cues(path: Path = CUES_PATH) -> ScopeCues:
    """The cue vocabulary of `path` (default: the bundled file), compiled once."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScopeCueError(f"{path}: cannot read the cue file: {exc}") from exc
    return parse_scope_cues(raw, path)


@dataclass
class _Sentence:
    lo: int
    hi: int  # exclusive
    is_question: bool
    cues: list[tuple[int, int, str]]  # (start, end, cue text) of cues with a role
    break_starts: list[int]  # clause breaks (they do not overlap, so both lists are sorted)
    break_ends: list[int]


class ScopeReader:
    """One normalised text's sentences, clauses and cues, answering scope questions about spans."""

    def __init__(self, cues: ScopeCues, norm: NormalisedText):
        self.cues = cues
        self.norm = norm
        self.text = norm.text
        self._sentences: dict[int, _Sentence] = {}
        self._frames: dict[str, list[Span]] | None = None
        self._cues: list[tuple[int, int, str]] | None = None
        self._cue_starts: list[int] = []
        self.memo: dict[tuple[Span, frozenset[str]], ScopeVerdict | None] = {}
        self._roles: dict[tuple[str, str], tuple[tuple[str, int, bool], ...]] = {}
        self._loud: set[int] | None = None  # sentences holding a cue with a role (see `undisputed`)
        self._frame_starts: list[int] = []
        self._frame_reach: list[int] = []

    def verdict(self, span: Span, kinds: frozenset[str]) -> ScopeVerdict | None:
        """The scope (among `kinds`) the claim `span` sits in, or None when it is the page's own claim."""
        key = (span, kinds)
        if key in self.memo:
            return self.memo[key]
        found = None
        for kind in SCOPE_KINDS:
            if kind in kinds:
                found = self._kind_verdict(span, kind)
                if found is not None:
                    break
        self.memo[key] = found
        return found

    def undisputed(self, spans: list[Span]) -> list[bool]:
        """Per claim span, True when no scope can take it: its sentence holds no cue with a role and no
        frame holds it (what `verdict` would find None for every kind, answered for a whole selection
        with a bisection per span; most claim matches on a page are such)."""
        if self._loud is None:
            roles, sentence_of = self.cues.roles, self.norm.sentence_of
            # A sentence's cues (`_sentence`) start in it: their sentence ids, a superset of those with cues.
            self._loud = {sentence_of(start) for start, _end, text in self._all_cues() if roles.get(text)}
            frames = sorted(span for spans in self._frames_of_all().values() for span in spans)
            reach, self._frame_reach = -1, []
            for _fs, fe in frames:
                reach = max(reach, fe)
                self._frame_reach.append(reach)
            self._frame_starts = [fs for fs, _fe in frames]
        loud, ends = self._loud, self.norm.sentence_ends
        frame_starts, frame_reach = self._frame_starts, self._frame_reach
        out: list[bool] = []
        for s, e in spans:
            if bisect_left(ends, s) in loud:
                out.append(False)
                continue
            # A frame holding [s, e) starts at or before s and ends at or after e.
            i = bisect_right(frame_starts, s) - 1
            out.append(i < 0 or frame_reach[i] < e)
        return out

    # -- per kind -------------------------------------------------------------------------------------
    def _kind_verdict(self, span: Span, kind: str) -> ScopeVerdict | None:
        s, e = span
        sentence = self._sentence(s)
        clause: Span | None = None
        denials: list[tuple[int, int, str]] = []
        for start, end, text in sentence.cues:
            for side, reach, in_clause in self._roles_of(text, kind):
                if in_clause:
                    if clause is None:
                        clause = self._clause(sentence, s, e)
                    lo, hi = clause
                else:
                    lo, hi = sentence.lo, sentence.hi
                # A cue may overlap the claim's first characters: in 不可以根治 the claim 可以根治 starts
                # inside the cue 不可.
                if side == "before" and (end <= s or start < s < end <= e) and start >= lo and s - end <= reach:
                    if kind == "negation":
                        denials.append((start, end, text))
                    else:
                        return ScopeVerdict(kind, "before", text, (start, end))
                elif side == "after" and start >= e and end <= hi and start - e <= reach:
                    return ScopeVerdict(kind, "after", text, (start, end))
                elif side == "sentence" and sentence.is_question and lo <= start and end <= hi:
                    return ScopeVerdict(kind, "sentence", text, (start, end))
        if len(denials) % 2 == 1:
            # Two denials cancel: 没有不能根治的 is a claim.
            start, end, text = denials[-1]
            return ScopeVerdict(kind, "before", text, (start, end))
        for fs, fe in self._frame_spans(kind):
            if fs <= s and e <= fe:
                return ScopeVerdict(kind, "frame", self.text[fs:fe], (fs, fe))
        return None

    def _roles_of(self, cue: str, kind: str) -> tuple[tuple[str, int, bool], ...]:
        """(side, reach, within the clause) of each group of `kind` that `cue` belongs to, in group order."""
        key = (cue, kind)
        found = self._roles.get(key)
        if found is None:
            latin = _LATIN.search(cue) is not None
            groups = self.cues.groups
            found = self._roles[key] = tuple(
                (group.side, group.reach_en if latin else group.reach_zh, group.within == "clause")
                for group in (groups[i] for i in self.cues.roles[cue])
                if group.kind == kind
            )
        return found

    # -- text structure -------------------------------------------------------------------------------
    def _sentence(self, pos: int) -> _Sentence:
        norm = self.norm
        sid = norm.sentence_of(pos)
        cached = self._sentences.get(sid)
        if cached is not None:
            return cached
        start, end = norm.sentence_bounds(sid)
        text = self.text
        roles = self.cues.roles
        # A typographic apostrophe (don’t) is the cue written with a straight one.
        cues = [c for c in self._cues_between(start, end) if roles.get(c[2])]
        breaks = self.cues.break_finder.find(text[start:end])
        breaks = [(a + start, b + start) for a, b, _ in breaks]
        last = text[start:end].rstrip()
        sentence = _Sentence(start, end, last.endswith("?"), cues, [b[0] for b in breaks], [b[1] for b in breaks])
        self._sentences[sid] = sentence
        return sentence

    def _cues_between(self, start: int, end: int) -> list[tuple[int, int, str]]:
        """The cues and not-cues inside `[start, end)`, from one pass over the whole text."""
        cues = self._all_cues()
        i = bisect_left(self._cue_starts, start)
        found = []
        while i < len(cues) and cues[i][1] <= end:
            found.append(cues[i])
            i += 1
        return found

    def _all_cues(self) -> list[tuple[int, int, str]]:
        """Every cue and not-cue of the text, found in one pass (and their starts, for bisection)."""
        if self._cues is None:
            self._cues = self.cues.cue_finder.find(self.text)
            self._cue_starts = [c[0] for c in self._cues]
        return self._cues

    @staticmethod
    def _clause(sentence: _Sentence, s: int, e: int) -> Span:
        """The clause around the claim [s, e): from the last break ending before it to the next one after it."""
        i = bisect_right(sentence.break_ends, s) - 1
        j = bisect_left(sentence.break_starts, e)
        lo = sentence.break_ends[i] if i >= 0 else sentence.lo
        hi = sentence.break_starts[j] if j < len(sentence.break_starts) else sentence.hi
        return (lo, hi)

    def _frame_spans(self, kind: str) -> list[Span]:
        return self._frames_of_all()[kind]

    def _frames_of_all(self) -> dict[str, list[Span]]:
        if self._frames is None:
            self._frames = {k: [] for k in SCOPE_KINDS}
            leads = self.cues.frame_leads or (None,) * len(self.cues.frames)
            for (frame_kind, pattern), lead in zip(self.cues.frames, leads, strict=True):
                if lead:  # tried only where a match can start (most pages quote nothing)
                    self._frames[frame_kind].extend(anchored_matches(pattern, self.text, lead_starts(self.text, lead)))
                else:
                    self._frames[frame_kind].extend(
                        m.span() for m in pattern.finditer(self.text) if m.end() > m.start())
        return self._frames


__all__ = [
    "CUES_PATH",
    "PASSAGE_KINDS",
    "SCOPE_KINDS",
    "CueGroup",
    "ScopeCueError",
    "ScopeCues",
    "ScopeReader",
    "ScopeVerdict",
    "load_scope_cues",
    "parse_scope_cues",
]
