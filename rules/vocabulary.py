"""Reviewed term vocabularies kept as YAML data in rules/reference/: their format, loader and lint checks.

Owns `Vocabulary`, `load_vocabulary()`, `VocabularyError`, `lint_vocabulary()` and the list of bundled
vocabulary files (`BUNDLED_VOCABULARIES`). A file says what it is for and who reviewed it against what
(description, reviewed, sources) and holds named term lists; the engine code that uses a list keeps the
grammar around it (regexes for number formats, negation, quotation). The loader refuses a file whose
shape is wrong, naming file, line and problem; `rules lint` also reports terms that are legal but
suspect: duplicates, terms the engine's normalisation changes (so they could never match as written)
and a term in two lists the file declares disjoint.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import yaml

from rules import yaml_fast
from rules.normalise import normalise_term

REFERENCE_DIR: Final = Path(__file__).resolve().parent / "reference"
#: Claim vocabulary of the reference signals (`rules.reference.claims`).
CLAIM_TERMS_PATH: Final = REFERENCE_DIR / "claim_terms.yaml"
#: Page-signal words (`rules.signals`): offer, product, health-food, warning words, contact labels.
SIGNAL_WORDS_PATH: Final = REFERENCE_DIR / "signal_words.yaml"
#: Disease-area words (`rules.reference.diseases`): grouping findings by disease area.
DISEASE_TERMS_PATH: Final = REFERENCE_DIR / "disease_terms.yaml"
#: Every bundled vocabulary file and the lists it must define (in the order the file gives them).
BUNDLED_VOCABULARIES: Final[Mapping[Path, tuple[str, ...]]] = {
    CLAIM_TERMS_PATH: ("treatment", "drug", "promotion", "product", "disclaimers"),
    SIGNAL_WORDS_PATH: (
        "price", "buy", "product", "weak_product", "health_food", "not_product", "warning", "contact_labels",
    ),
    DISEASE_TERMS_PATH: (
        "diabetes", "hypertension", "hyperlipidemia", "kidney", "rheumatism", "gout", "sexual_dysfunction",
        "cardiovascular", "obesity", "cancer", "mental_health", "pain", "infection", "reproductive",
    ),
}  # fmt: skip

_TOP_KEYS: Final = frozenset({"version", "description", "reviewed", "sources", "disjoint", "lists"})
_LIST_KEYS: Final = frozenset({"description", "terms"})


class VocabularyError(ValueError):
    """A vocabulary file that cannot be used; `problems` are (line, reason) pairs, line 0 if unknown."""

    def __init__(self, path: Path, problems: list[tuple[int, str]]):
        self.path = path
        self.problems = problems
        super().__init__("\n".join(f"{path}:{line}: {reason}" for line, reason in problems))


@dataclass(frozen=True)
class TermList:
    """One named list of terms, with the line of each term in its file."""

    name: str
    description: str
    terms: tuple[str, ...]
    lines: tuple[int, ...]


@dataclass(frozen=True)
class Vocabulary:
    """A validated vocabulary file: its review metadata and its term lists."""

    path: Path
    description: str
    reviewed: str
    sources: tuple[str, ...]
    #: Pairs of list names that must not share a term, each with the reason.
    disjoint: tuple[tuple[str, str, str], ...]
    lists: Mapping[str, TermList]
    raw: bytes

    def terms(self, name: str) -> tuple[str, ...]:
        return self.lists[name].terms


def _node_lines(node: yaml.Node | None) -> dict[tuple[str | int, ...], int]:
    """1-based line of every node of a YAML document, by path of keys and indexes."""
    lines: dict[tuple[str | int, ...], int] = {}

    def walk(n: yaml.Node, path: tuple[str | int, ...]) -> None:
        lines[path] = n.start_mark.line + 1
        if isinstance(n, yaml.MappingNode):
            for key, value in n.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else str(key)
                lines[(*path, name)] = key.start_mark.line + 1
                walk(value, (*path, name))
                lines[(*path, name)] = key.start_mark.line + 1  # the key's line, not its value's
        elif isinstance(n, yaml.SequenceNode):
            for i, item in enumerate(n.value):
                walk(item, (*path, i))

    if node is not None:
        walk(node, ())
    return lines


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def parse_vocabulary(raw: bytes, path: Path, expected: Collection[str] | None = None) -> Vocabulary:
    """Validate a vocabulary file's bytes; raises VocabularyError listing every problem with its line.

    `expected`: the list names the file must define exactly (None: any non-empty set of lists).
    """
    try:
        text = raw.decode("utf-8")
        data: Any = yaml_fast.safe_load(text)
        lines = _node_lines(yaml_fast.compose(text))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        raise VocabularyError(path, [(line, f"cannot read the vocabulary file: {exc}")]) from exc
    if not isinstance(data, dict):
        raise VocabularyError(path, [(1, "a vocabulary file must be a mapping (version, description, ... lists)")])
    problems: list[tuple[int, str]] = []

    def problem(where: tuple[str | int, ...], reason: str) -> None:
        problems.append((lines.get(where, 1), reason))

    unknown = set(data) - _TOP_KEYS
    if unknown:
        problem((sorted(unknown)[0],), f"unknown key(s) {sorted(unknown)}; use {', '.join(sorted(_TOP_KEYS))}")
    if data.get("version") != 1:
        problem(("version",), "version must be 1")
    if not _text(data.get("description")):
        problem(("description",), "description must say what the vocabulary is for")
    reviewed = data.get("reviewed")
    # YAML reads an unquoted 2026-01-31 as a date; both forms are fine.
    if not (isinstance(reviewed, datetime.date) or _text(reviewed)):
        problem(("reviewed",), "reviewed must give the date of the last review (YYYY-MM-DD)")
    sources = data.get("sources")
    if not (isinstance(sources, list) and sources and all(_text(s) for s in sources)):
        problem(("sources",), "sources must list where the terms come from (non-empty strings)")
        sources = []
    raw_lists = data.get("lists")
    term_lists: dict[str, TermList] = {}
    if not (isinstance(raw_lists, dict) and raw_lists):
        problem(("lists",), "lists must map list names to {description, terms}")
        raw_lists = {}
    elif expected is not None and list(raw_lists) != list(expected):
        found = ", ".join(map(str, raw_lists))
        problem(("lists",), f"lists must be exactly, in this order: {', '.join(expected)} (found {found})")
    for name, spec in raw_lists.items():
        where: tuple[str | int, ...] = ("lists", name)
        if not (isinstance(spec, dict) and set(spec) == _LIST_KEYS):
            problem(where, f"list {name!r} must be a mapping with exactly: description, terms")
            continue
        if not _text(spec["description"]):
            problem((*where, "description"), f"list {name!r}: description must say what the terms mark")
        terms = spec["terms"]
        if not (isinstance(terms, list) and terms):
            problem((*where, "terms"), f"list {name!r}: terms must be a non-empty list")
            continue
        good = True
        for i, term in enumerate(terms):
            # An empty term would match everywhere; a non-string is a YAML accident (yes, 12315 unquoted).
            if not isinstance(term, str):
                problem((*where, "terms", i), f"list {name!r}: term {term!r} must be a string (quote it)")
                good = False
            elif not term.strip():
                problem((*where, "terms", i), f"list {name!r}: empty term")
                good = False
        if good:
            term_lines = tuple(lines.get((*where, "terms", i), 1) for i in range(len(terms)))
            term_lists[name] = TermList(str(name), spec["description"], tuple(terms), term_lines)
    disjoint: list[tuple[str, str, str]] = []
    for i, pair in enumerate(data.get("disjoint") or []):
        names = pair.get("lists") if isinstance(pair, dict) else None
        if not (isinstance(pair, dict) and set(pair) == {"lists", "why"} and _text(pair["why"])
                and isinstance(names, list) and len(names) == 2 and all(n in raw_lists for n in names)):
            problem(("disjoint", i),
                    "a disjoint entry must be {lists: [<list>, <list>], why: <reason>} naming lists of this file")
            continue
        disjoint.append((names[0], names[1], pair["why"]))
    if problems:
        raise VocabularyError(path, sorted(problems))
    return Vocabulary(
        path=path,
        description=data["description"],
        reviewed=str(reviewed),
        sources=tuple(sources),
        disjoint=tuple(disjoint),
        lists=term_lists,
        raw=raw,
    )


@lru_cache(maxsize=8)
def load_vocabulary(path: Path) -> Vocabulary:
    """The vocabulary in `path`, validated once; a bundled file must define the lists it is known for."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise VocabularyError(path, [(0, f"cannot read the vocabulary file: {exc}")]) from exc
    return parse_vocabulary(raw, path, BUNDLED_VOCABULARIES.get(path))


def lint_vocabulary(vocabulary: Vocabulary) -> list[tuple[int, str]]:
    """Suspect terms of a loaded vocabulary, as (line, reason): duplicates, unmatchable, in disjoint lists."""
    out: list[tuple[int, str]] = []
    for term_list in vocabulary.lists.values():
        seen: dict[str, int] = {}
        for term, line in zip(term_list.terms, term_list.lines, strict=True):
            if term in seen:
                out.append((line, f"list {term_list.name!r}: duplicate term {term!r} (first on line {seen[term]})"))
            else:
                seen[term] = line
            # Page text is normalised (NFKC, traditional → simplified, lower case, fillers dropped) before
            # it is searched; a term written otherwise is never found as written.
            folded = normalise_term(term)
            if folded != term:
                out.append((line, f"list {term_list.name!r}: term {term!r} normalises to {folded!r}, "
                                  "so it can never match as written; write it as normalised"))
    for first, second, why in vocabulary.disjoint:
        if first not in vocabulary.lists or second not in vocabulary.lists:
            continue
        other = set(vocabulary.lists[second].terms)
        for term, line in zip(vocabulary.lists[first].terms, vocabulary.lists[first].lines, strict=True):
            if term in other:
                out.append((line, f"term {term!r} is in both {first!r} and {second!r}: {why}"))
    return sorted(set(out))


__all__ = [
    "BUNDLED_VOCABULARIES",
    "CLAIM_TERMS_PATH",
    "SIGNAL_WORDS_PATH",
    "TermList",
    "Vocabulary",
    "VocabularyError",
    "lint_vocabulary",
    "load_vocabulary",
    "parse_vocabulary",
]
