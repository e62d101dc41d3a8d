"""Reviewed vocabularies (rules/vocabulary.py): the signal and claim words are data, loaded strictly and linted.

A vocabulary file that is broken is refused with its file, line and problem; one that loads but holds
a suspect term (a duplicate, a term normalisation changes so it never matches as written, a term in two
lists declared disjoint) is reported by `rules lint`. The bundled files load, lint clean, and are what
the engine reads; they count in the pack digest.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rules import RuleSet
from rules.lint import lint_packs, lint_vocabularies
from rules.vocabulary import (
    BUNDLED_VOCABULARIES,
    CLAIM_TERMS_PATH,
    SIGNAL_WORDS_PATH,
    Vocabulary,
    VocabularyError,
    lint_vocabulary,
    load_vocabulary,
    parse_vocabulary,
)

GOOD = """\
version: 1
description: words for a test
reviewed: 2026-12-07
sources: [written for the tests]
disjoint:
  - lists: [product, not_product]
    why: a not_product word cancels the product words inside it
lists:
  product:
    description: medicine words
    terms: [药品, 胶囊, pharmacy]
  not_product:
    description: words holding a medicine word that are no medicine
    terms: [胶囊咖啡, 药妆]
"""


def parse(text: str, expected: tuple[str, ...] | None = None) -> Vocabulary:
    return parse_vocabulary(text.encode("utf-8"), Path("words.yaml"), expected)


def test_the_bundled_vocabularies_load_and_lint_clean() -> None:
    for path, lists in BUNDLED_VOCABULARIES.items():
        vocabulary = load_vocabulary(path)
        assert tuple(vocabulary.lists) == lists
        assert vocabulary.description and vocabulary.reviewed and vocabulary.sources
        assert lint_vocabulary(vocabulary) == []
    assert lint_vocabularies() == []


def test_the_engine_reads_its_words_from_the_bundled_files() -> None:
    from rules import signals
    from rules.reference import claims

    words = load_vocabulary(SIGNAL_WORDS_PATH)
    assert signals.SIGNAL_WORDS["warning"] == words.terms("warning")
    assert "罚款" in signals.SIGNAL_WORDS["warning"]
    assert claims.TREATMENT_TERMS == load_vocabulary(CLAIM_TERMS_PATH).terms("treatment")
    assert claims.DISCLAIMER_TERMS == load_vocabulary(CLAIM_TERMS_PATH).terms("disclaimers")


def test_a_good_file_loads_with_the_line_of_every_term() -> None:
    vocabulary = parse(GOOD)
    assert vocabulary.terms("product") == ("药品", "胶囊", "pharmacy")
    assert vocabulary.lists["not_product"].lines == (14, 14)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("description: words for a test\n", ""), "words.yaml:1: description must say what the vocabulary is for"),
        (("sources: [written for the tests]\n", "sources: []\n"), "words.yaml:4: sources must list where"),
        (("[药品, 胶囊, pharmacy]", "[药品, '', pharmacy]"), "words.yaml:11: list 'product': empty term"),
        (("[药品, 胶囊, pharmacy]", "[药品, 12315]"), "words.yaml:11: list 'product': term 12315 must be a string"),
        (("    terms: [胶囊咖啡, 药妆]\n", ""), "'not_product' must be a mapping with exactly: description, terms"),
        (("  not_product:\n", "  not_products:\n"), "a disjoint entry must be"),
        (("version: 1\n", "version: 1\nowner: me\n"), "words.yaml:2: unknown key(s) ['owner']"),
    ],
)
def test_a_broken_file_is_refused_naming_file_line_and_problem(change: tuple[str, str], problem: str) -> None:
    old, new = change
    assert old in GOOD
    with pytest.raises(VocabularyError) as raised:
        parse(GOOD.replace(old, new))
    assert problem in str(raised.value)


def test_a_bundled_file_must_define_its_lists_in_order() -> None:
    with pytest.raises(VocabularyError, match="lists must be exactly, in this order: not_product, product"):
        parse(GOOD, ("not_product", "product"))


def test_yaml_that_does_not_parse_is_refused_with_its_line() -> None:
    with pytest.raises(VocabularyError, match=r"words.yaml:14: cannot read the vocabulary file"):
        parse(GOOD.replace("[胶囊咖啡, 药妆]", "[胶囊咖啡, 药妆]]"))


def test_a_missing_file_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(VocabularyError, match="missing.yaml:0: cannot read the vocabulary file"):
        load_vocabulary(tmp_path / "missing.yaml")


def test_lint_reports_a_duplicate_term_with_both_lines() -> None:
    text = GOOD.replace("[药品, 胶囊, pharmacy]", "[药品, 胶囊,\n            药品]")
    assert lint_vocabulary(parse(text)) == [(12, "list 'product': duplicate term '药品' (first on line 11)")]


@pytest.mark.parametrize(
    ("term", "folded"),
    [
        ("藥品", "药品"),  # traditional: the page text is converted to simplified first
        ("Pharmacy", "pharmacy"),  # upper case: the page text is lower-cased
        ("ｐｈａｒｍａｃｙ", "pharmacy"),  # full-width: NFKC
        ("降 糖 药", "降糖药"),  # spaces between Chinese characters are fillers and removed
    ],
)
def test_lint_reports_a_term_that_could_never_match_as_written(term: str, folded: str) -> None:
    problems = lint_vocabulary(parse(GOOD.replace("[药品, 胶囊, pharmacy]", f"[药品, 胶囊, '{term}']")))
    assert problems == [
        (11, f"list 'product': term {term!r} normalises to {folded!r}, so it can never match as written; "
             "write it as normalised")
    ]


def test_lint_reports_a_term_in_two_disjoint_lists_with_the_reason() -> None:
    problems = lint_vocabulary(parse(GOOD.replace("[胶囊咖啡, 药妆]", "[胶囊咖啡, 药妆, 胶囊]")))
    assert problems == [
        (11, "term '胶囊' is in both 'product' and 'not_product': "
             "a not_product word cancels the product words inside it")
    ]


def test_a_term_may_stand_in_two_lists_not_declared_disjoint() -> None:
    assert lint_vocabulary(parse(GOOD.replace("disjoint:\n  - lists: [product, not_product]\n    why: a not_product "
                                              "word cancels the product words inside it\n", "")
                                 .replace("[胶囊咖啡, 药妆]", "[胶囊咖啡, 药妆, 胶囊]"))) == []


def test_rules_lint_reports_vocabulary_problems_with_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "signal_words.yaml"
    broken.write_text(GOOD.replace("[药品, 胶囊, pharmacy]", "[药品, 胶囊, Pharmacy, 药品]"), encoding="utf-8")
    empty = tmp_path / "claim_terms.yaml"
    empty.write_text(GOOD.replace("[药品, 胶囊, pharmacy]", "[药品, '  ']"), encoding="utf-8")
    problems = [str(p) for p in lint_vocabularies([broken, empty])]
    assert problems == [
        f"{empty}:11: list 'product': empty term",
        f"{broken}:11: list 'product': duplicate term '药品' (first on line 11)",
        f"{broken}:11: list 'product': term 'Pharmacy' normalises to 'pharmacy', so it can never match as written; "
        "write it as normalised",
    ]
    assert [str(p) for p in lint_packs(vocabularies=[broken])] == problems[1:]


def test_the_pack_digest_covers_the_vocabularies(bundled: RuleSet, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import rules.loader
    from rules.loader import discover, pack_digest

    files, _ = discover(None)
    assert bundled.digest == pack_digest(files)
    changed = tmp_path / SIGNAL_WORDS_PATH.name
    changed.write_bytes(SIGNAL_WORDS_PATH.read_bytes() + b"\n# reviewed again\n")
    monkeypatch.setattr(rules.loader, "BUNDLED_VOCABULARIES", {CLAIM_TERMS_PATH: (), changed: ()})
    assert pack_digest(files) != bundled.digest
