"""Convention checks over rule packs, the library side of `pharmwatch rules lint`.

Owns `lint_packs()` and `LintProblem`. Collects every problem of every file at once (Sigma-style
layered validation): load errors (invalid YAML, unknown keys, bad regexes ...), then conventions
that a loadable rule must still follow: file name and folder, id pattern, key order, legal basis in
"<law> 第…条" form, at least two `match` and two `no_match` examples, references and known false
positives listed, unique ids, and a condition that cannot be true without a term match (such a rule
would be evaluated on every page). Also the reviewed vocabularies the engine reads
(`rules.vocabulary`: signal and claim words): a file that does not load, duplicate terms, terms that
normalisation changes (never matched as written) and a term in two lists declared disjoint.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from rules.loader import BUNDLED_PACKS, MIN_TESTS, discover, load_rule_file
from rules.model import CATEGORIES, RULE_KEYS, Rule
from rules.static_analysis import needs_evaluation_without_terms
from rules.vocabulary import BUNDLED_VOCABULARIES, VocabularyError, lint_vocabulary, parse_vocabulary

FILE_NAME_RE: Final = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)+\.yaml$")
ID_RE: Final = re.compile(r"^pw-(zh|en)-[a-z0-9]+(?:-[a-z0-9]+)*-\d{3}$")
# "<law or measure> <article or part>", e.g. 广告法 第十六条, 药品网络销售禁止清单（第一版） 第二部分
LEGAL_BASIS_RE: Final = re.compile(r"^\S*(法|办法|清单|规定|条例)\S* 第[一二三四五六七八九十百零]+(条|部分)$")

__all__ = ["LintProblem", "lint_packs", "lint_vocabularies"]


@dataclass(frozen=True, order=True)
class LintProblem:
    """One convention a rule file breaks: where (file and line) and why."""

    path: Path
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


def _key_lines(path: Path) -> dict[str, int]:
    """Line of every top-level key of a rule file (1-based)."""
    lines: dict[str, int] = {}
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        m = re.match(r"^([A-Za-z_]+):", text)
        if m and m.group(1) not in lines:
            lines[m.group(1)] = number
    return lines


def _conventions(rule: Rule, relative: str, in_pack_root: bool) -> list[LintProblem]:
    path = rule.path
    lines = _key_lines(path)
    out: list[LintProblem] = []

    def problem(reason: str, key: str | None = None) -> None:
        out.append(LintProblem(path, lines.get(key, 1) if key else 1, reason))

    parts = Path(relative).parts
    if in_pack_root:
        if len(parts) != 2:
            problem("must be packs/<category>/<area>_<behaviour>.yaml")
        elif parts[0] != rule.category:
            problem(f"folder {parts[0]!r} but category {rule.category!r}", "category")
    if not FILE_NAME_RE.match(path.name):
        problem("file name must be <area>_<behaviour>.yaml in lower case")
    if not ID_RE.match(rule.id):
        problem(f"id {rule.id!r} must be pw-<zh|en>-<area>-<behaviour>-NNN", "id")
    order = [key for key in RULE_KEYS if key in rule.key_order]
    if rule.key_order != order:
        problem(f"keys must be in the order {', '.join(order)}")
    if not rule.legal_basis:
        problem("legal_basis is empty", "legal_basis")
    for basis in rule.legal_basis:
        if not LEGAL_BASIS_RE.match(basis):
            problem(f"legal_basis {basis!r} must read '<law> 第…条' or '<list> 第…部分'", "legal_basis")
    if len(rule.tests_match) < MIN_TESTS or len(rule.tests_no_match) < MIN_TESTS:
        problem(f"needs at least {MIN_TESTS} match and {MIN_TESTS} no_match examples", "tests")
    if not rule.falsepositives:
        problem("list the known false positives", "falsepositives" if "falsepositives" in lines else None)
    if not rule.references:
        problem("give at least one reference", "references" if "references" in lines else None)
    if rule.category not in CATEGORIES:
        problem(f"unknown category {rule.category!r}", "category")
    if needs_evaluation_without_terms(rule):
        problem(
            "the condition can be true without any term match, so the rule would run on every page; "
            "anchor regexes and signals to a term selection with `near` or `and`",
            "detection",
        )
    return out


def lint_vocabularies(paths: Iterable[Path] | None = None) -> list[LintProblem]:
    """Every problem of the vocabulary files `paths` (None = the bundled ones), sorted by file and line.

    A file that does not load is reported with every reason the loader gives; a loadable one is then
    checked for duplicate, unmatchable and contradictory terms (`rules.vocabulary.lint_vocabulary`).
    """
    problems: list[LintProblem] = []
    for path in BUNDLED_VOCABULARIES if paths is None else paths:
        try:
            vocabulary = parse_vocabulary(path.read_bytes(), path, BUNDLED_VOCABULARIES.get(path))
        except OSError as exc:
            problems.append(LintProblem(path, 0, f"cannot read the vocabulary file: {exc}"))
            continue
        except VocabularyError as err:
            problems += [LintProblem(path, line, reason) for line, reason in err.problems]
            continue
        problems += [LintProblem(path, line, reason) for line, reason in lint_vocabulary(vocabulary)]
    return sorted(set(problems))


def lint_packs(paths: list[Path] | None = None, *, vocabularies: Iterable[Path] | None = None) -> list[LintProblem]:
    """Every problem of every rule file under `paths` (files or folders; None = the bundled packs),
    and of the vocabulary files the engine reads with them (`vocabularies`; None = the bundled ones).

    Returns an empty list when all files load and follow the conventions; the list is sorted by
    file and line. Folder conventions (packs/<category>/<file>) apply to files found in a folder.
    """
    files, errors = discover(paths)
    problems = [LintProblem(e.path, e.line, e.reason) for e in errors]
    roots = [BUNDLED_PACKS] if paths is None else [Path(p) for p in paths]
    seen: dict[str, list[Rule]] = defaultdict(list)
    for path, relative in files:
        rule, file_errors = load_rule_file(path)
        problems += [LintProblem(e.path, e.line, e.reason) for e in file_errors]
        if rule is None:
            continue
        in_pack_root = any(root.is_dir() and path.is_relative_to(root) for root in roots)
        problems += _conventions(rule, relative, in_pack_root)
        seen[rule.id].append(rule)
    for rule_id, rules in seen.items():
        for rule in rules[1:]:
            problems.append(
                LintProblem(rule.path, rule.line, f"duplicate rule id {rule_id!r} (also in {rules[0].path})")
            )
    problems += lint_vocabularies(vocabularies)
    return sorted(set(problems))
