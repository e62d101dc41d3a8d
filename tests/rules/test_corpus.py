"""Whole-page corpora: benign pages stay below "medium", violating pages are flagged as expected.

benign/ holds the hard negatives that matter most in practice: hospital patient education,
news about punished ads that quotes them, a licensed pharmacy, drug leaflets, research abstracts,
recipes, patient forums and consumer-safety pages. violating/ holds pages like those in the demo
web; corpus/expected.yaml names the rules that must fire on each.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from rules import TextDocument
from rules.engine import RuleSet
from rules.model import SEVERITY_RANK

CORPUS = Path(__file__).parent / "corpus"
BENIGN = sorted((CORPUS / "benign").glob("*.txt"))
VIOLATING = sorted((CORPUS / "violating").glob("*.txt"))
EXPECTED: dict[str, list[str]] = yaml.safe_load((CORPUS / "expected.yaml").read_text(encoding="utf-8"))


def test_the_corpora_are_not_empty() -> None:
    assert len(BENIGN) >= 10
    assert len(VIOLATING) >= 10
    assert sorted(EXPECTED) == sorted(p.name for p in VIOLATING)


def test_no_benign_page_is_flagged(bundled: RuleSet) -> None:
    flagged = []
    for path in BENIGN:
        analysis = bundled.analyse(TextDocument(path.read_text(encoding="utf-8")))
        for hit in analysis.findings:
            if SEVERITY_RANK[hit.severity] >= SEVERITY_RANK["medium"]:
                flagged.append(f"{path.name}: {hit.rule_id} ({hit.severity}) on {hit.excerpt!r}")
    assert not flagged, "\n".join(flagged)


@pytest.mark.parametrize("path", VIOLATING, ids=lambda p: p.name)
def test_violating_page_is_flagged_by_the_expected_rules(bundled: RuleSet, path: Path) -> None:
    analysis = bundled.analyse(TextDocument(path.read_text(encoding="utf-8")))
    assert analysis.flagged
    fired = {hit.rule_id for hit in analysis.findings}
    missing = sorted(set(EXPECTED[path.name]) - fired)
    assert not missing, f"{path.name}: expected {missing} to fire; fired {sorted(fired)}"


def test_spans_of_corpus_findings_point_into_the_page(bundled: RuleSet) -> None:
    for path in VIOLATING:
        text = path.read_text(encoding="utf-8")
        for hit in bundled.analyse(TextDocument(text)).findings:
            for start, end in hit.spans:
                assert 0 <= start < end <= len(text)
                assert text[start:end].strip(), f"{hit.rule_id} points at blank text in {path.name}"
