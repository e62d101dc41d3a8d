"""Precision and recall of the shipped packs on the labelled corpus (tests/corpus/items), printed and gated.

Item level: is the page flagged (a finding of severity medium or above) exactly when it should be.
Category level: are the expected categories reported, and no category that is neither expected nor
listed as acceptable (`also`). Both must stay at or above MIN_SCORE on every batch except the held-out
real batches in HELD_OUT_FLOORS, which are gated on their own floors; every error is listed on failure.
"""

from __future__ import annotations

from collections import Counter

import pytest

from rules import RuleSet
from rules.model import CATEGORIES
from tests.corpus.corpus import Item, score

MIN_SCORE = 0.95
#: Real batches scored held out: they are kept out of the aggregate (which must stay >= MIN_SCORE) and gated
#: on their own, at the figures reached after general changes (real5: its first-pass figures, not tuned yet),
#: so that they cannot regress. Their first-pass (held-out) figures are in README.md.
HELD_OUT_FLOORS = {
    "real2.yaml": {"precision": 0.90, "recall": 0.75, "category_precision": 0.85, "category_recall": 0.64},
    "real3.yaml": {"precision": 0.95, "recall": 0.85, "category_precision": 0.93, "category_recall": 0.82},
    # real4 precision: 0.949 by the rules alone; the second opinion adds one false alarm (a ConsumerLab
    # warning headline "Can Colloidal Silver Help Fight COVID-19?").
    "real4.yaml": {"precision": 0.92, "recall": 0.95, "category_precision": 0.86, "category_recall": 0.95},
    # real5: about 0.02 under its figures after the general claim-scope change (precision 0.533, recall 0.286,
    # category precision 0.308, category recall 0.143; first pass 0.500 / 0.286 / 0.286 / 0.143).
    "real5.yaml": {"precision": 0.51, "recall": 0.26, "category_precision": 0.28, "category_recall": 0.12},
    # real6-real10 were scored once, first pass, by the rules and the model trained before they existed
    # (README "sixth to tenth batches"); the shipped model has since learned from them, so their figures
    # now are not held out. Floors: about 0.02 under the first-pass figures, which no change may fall below.
    "real6.yaml": {"precision": 0.39, "recall": 0.27, "category_precision": 0.27, "category_recall": 0.19},
    "real7.yaml": {"precision": 0.71, "recall": 0.43, "category_precision": 0.53, "category_recall": 0.30},
    "real8.yaml": {"precision": 0.52, "recall": 0.23, "category_precision": 0.48, "category_recall": 0.18},
    "real9.yaml": {"precision": 0.80, "recall": 0.67, "category_precision": 0.59, "category_recall": 0.37},
    "real10.yaml": {"precision": 0.64, "recall": 0.43, "category_precision": 0.53, "category_recall": 0.31},
    # real11: scored once, first pass, by the rules and the model shipped before it existed (precision 0.837,
    # recall 0.820, category precision 0.688, category recall 0.611; README "eleventh batch"). Floors about 0.02
    # under those; the model has since been retrained with it, so its figures now are not held out.
    "real11.yaml": {"precision": 0.81, "recall": 0.80, "category_precision": 0.66, "category_recall": 0.59},
    # real12: scored once, first pass, by the rules and the model shipped before it existed (precision 0.653,
    # recall 0.754, category precision 0.493, category recall 0.514; README "twelfth batch"). Floors about 0.02
    # under those; the model has since been retrained with it.
    "real12.yaml": {"precision": 0.63, "recall": 0.73, "category_precision": 0.47, "category_recall": 0.49},
    # real13: scored once, first pass, by the rules and the model shipped before it existed (precision 0.641,
    # recall 0.746, category precision 0.407, category recall 0.522; README "thirteenth batch"). Floors about
    # 0.02 under those; the model has since been retrained with it.
    "real13.yaml": {"precision": 0.62, "recall": 0.72, "category_precision": 0.38, "category_recall": 0.50},
    # real14: scored once, first pass, by the rules and the model shipped before it existed (precision 0.754,
    # recall 0.606, category precision 0.492, category recall 0.423; README "fourteenth batch"). Floors about
    # 0.02 under those; the model has since been retrained with it.
    "real14.yaml": {"precision": 0.73, "recall": 0.58, "category_precision": 0.47, "category_recall": 0.40},
}
MIN_ITEMS = 200
FOCUS_DISEASES = ("diabetes", "hypertension", "kidney", "rheumatism", "gout", "sexual_dysfunction")
#: Categories that page text alone can show (forged_or_invalid_licence needs a registry check signal).
# Categories a text alone can show; the others need a registry look-up or the office's blacklist.
TEXT_CATEGORIES = tuple(c for c in CATEGORIES if c not in ("forged_or_invalid_licence", "blacklisted_operator"))
HARD_NEGATIVE_KINDS = (
    "patient_education",
    "crackdown_news",
    "regulator_warning",
    "licensed_pharmacy",
    "research_abstract",
    "recipe",
    "patient_forum",
    "drug_leaflet",
    "ecommerce_non_drug",
    "health_news",
)


def test_the_corpus_is_large_and_covers_every_category_disease_and_kind_of_hard_negative(items: list[Item]) -> None:
    assert len(items) >= MIN_ITEMS
    positives = [i for i in items if i.flagged]
    by_category = Counter(c for i in positives for c in i.categories)
    by_disease = Counter(d for i in positives for d in i.diseases)
    kinds = Counter(i.kind for i in items if not i.flagged)
    assert {c: by_category[c] for c in TEXT_CATEGORIES if by_category[c] < 3} == {}
    assert by_category["forged_or_invalid_licence"] >= 1
    assert {d: by_disease[d] for d in FOCUS_DISEASES if by_disease[d] < 5} == {}
    assert {k: kinds[k] for k in HARD_NEGATIVE_KINDS if kinds[k] < 3} == {}


def test_precision_and_recall_on_the_corpus(ruleset: RuleSet, items: list[Item], capsys: pytest.CaptureFixture) -> None:
    result = score(ruleset, [i for i in items if i.source not in HELD_OUT_FLOORS])
    with capsys.disabled():
        print(f"\ncorpus: {result.summary()}")
        print(f"corpus with held-out batches: {score(ruleset, items).summary()}")
    problems = "\n".join(result.errors)
    assert result.precision >= MIN_SCORE, problems
    assert result.recall >= MIN_SCORE, problems
    assert result.category_precision >= MIN_SCORE, problems
    assert result.category_recall >= MIN_SCORE, problems


def test_every_finding_points_at_text_in_the_page(ruleset: RuleSet, items: list[Item]) -> None:
    bad = []
    for item in items:
        doc = item.document()
        for hit in ruleset.analyse(doc, item.signals or None).findings:
            for start, end in hit.spans:
                if not (0 <= start < end <= len(doc.text) and doc.text[start:end].strip()):
                    bad.append(f"{item.id}: {hit.rule_id} span {start}..{end}")
    assert bad == []


@pytest.mark.parametrize("batch", sorted(HELD_OUT_FLOORS))
def test_held_out_real_batches_do_not_regress(
    batch: str, ruleset: RuleSet, items: list[Item], capsys: pytest.CaptureFixture
) -> None:
    part = [i for i in items if i.source == batch]
    assert part, f"no items from {batch}"
    result = score(ruleset, part)
    with capsys.disabled():
        print(f"\n{batch}: {result.summary()}")
    problems = "\n".join(result.errors)
    for name, floor in HELD_OUT_FLOORS[batch].items():
        assert getattr(result, name) >= floor, f"{batch} {name} fell below {floor}\n{problems}"
