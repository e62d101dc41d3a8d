"""The honest figure: leave-one-batch-out precision and recall of the rules, the model and both together.

Each real batch of the corpus (`real*.yaml`) is held out in turn: the second-opinion model is trained on
every other item (our own written texts and the other real batches) and scores the held-out batch, as it
would score text it has never seen. The rules cannot be re-fitted per fold, so their figures on batches
they were tuned on are not held out: only a batch's first-pass row (README of the corpus) is, for them.
Figures are pooled over all held-out items, per batch, per language, per genre (`kind`), and as the share
of legitimate health texts flagged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final, TextIO

from rules.classifier import SecondOpinion, with_second_opinion
from rules.classifier.opinion import RULE_ID_PREFIX
from rules.corpus import Item, reported_categories
from rules.engine import RuleSet

#: Negative genres that are legitimate health text (the share of them flagged must stay tiny).
LEGITIMATE_HEALTH_KINDS: Final = frozenset({
    "patient_education", "drug_leaflet", "licensed_pharmacy", "health_news", "research_abstract",
    "regulator_warning", "crackdown_news", "patient_forum", "medical_qa_answer", "debunking_article",
    "press_release", "hospital_page",
})
DETECTORS: Final = ("rules", "model", "both")


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, expected: bool, got: bool) -> None:
        if expected and got:
            self.tp += 1
        elif expected:
            self.fn += 1
        elif got:
            self.fp += 1
        else:
            self.tn += 1

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def flagged_share_of_negatives(self) -> float:
        return self.fp / (self.fp + self.tn) if self.fp + self.tn else 0.0

    def as_dict(self) -> dict[str, object]:
        return {"items": self.tp + self.fp + self.fn + self.tn, "positives": self.tp + self.fn,
                "precision": round(self.precision, 3), "recall": round(self.recall, 3),
                "negatives_flagged": round(self.flagged_share_of_negatives, 3)}


@dataclass
class Verdicts:
    """One held-out item and what each detector said (flagged or not)."""

    item: Item
    flagged: dict[str, bool]
    categories: dict[str, set[str]]


@dataclass
class Evaluation:
    verdicts: list[Verdicts] = field(default_factory=list)
    method: str = "leave-one-batch-out over the real batches (the model retrained without each)"

    def tally(self, detector: str, keep: Callable[[Item], bool] = lambda item: True) -> Tally:
        tally = Tally()
        for v in self.verdicts:
            if keep(v.item):
                tally.add(v.item.flagged, v.flagged[detector])
        return tally

    def groups(self, key: Callable[[Item], str]) -> list[str]:
        return sorted({key(v.item) for v in self.verdicts})

    def as_dict(self) -> dict[str, object]:
        def by(key: Callable[[Item], str]) -> dict[str, dict[str, object]]:
            return {g: {d: self.tally(d, lambda i, g=g: key(i) == g).as_dict() for d in DETECTORS}
                    for g in self.groups(key)}

        legit = {d: self.tally(d, lambda i: not i.flagged and i.kind in LEGITIMATE_HEALTH_KINDS) for d in DETECTORS}
        return {
            "method": self.method,
            "overall": {d: self.tally(d).as_dict() for d in DETECTORS},
            "legitimate_health_texts_flagged": {
                d: {"items": t.fp + t.tn, "flagged": t.fp, "share": round(t.flagged_share_of_negatives, 3)}
                for d, t in legit.items()
            },
            "by_batch": by(lambda i: i.source),
            "by_language": by(lambda i: i.language),
            "by_genre": by(lambda i: i.kind or "?"),
        }


def real_batches(items: Sequence[Item]) -> list[str]:
    return sorted({i.source for i in items if i.source.startswith("real")})


def leave_one_batch_out(items: Sequence[Item], rules: RuleSet, batches: Sequence[str] | None = None) -> Evaluation:
    """Hold out each batch (default: every real batch) in turn; `rules` must carry no model of its own."""
    from rules.classifier.train import train  # scikit-learn only when evaluating

    plain = RuleSet(rules.rules, rules.digest) if rules.opinion else rules
    evaluation = Evaluation()
    for batch in batches or real_batches(items):
        held_out = [i for i in items if i.source == batch]
        opinion = SecondOpinion.for_rules(train([i for i in items if i.source != batch]), plain.rules)
        evaluation.verdicts.extend(_verdicts(item, plain, opinion) for item in held_out)
    return evaluation


def first_pass(items: Sequence[Item], ruleset: RuleSet) -> Evaluation:
    """Score `items` once with the shipped rules and model, nothing retrained: a new batch's first-pass row."""
    if ruleset.opinion is None:
        raise ValueError("first-pass scoring needs the rules with their second-opinion model")
    plain = RuleSet(ruleset.rules, ruleset.digest)
    return Evaluation([_verdicts(item, plain, ruleset.opinion) for item in items],
                      method="first pass: the shipped rules and model, nothing retrained")


def _verdicts(item: Item, plain: RuleSet, opinion: SecondOpinion) -> Verdicts:
    doc = item.document()
    by_rules = plain.analyse(doc, item.signals or None)
    both = with_second_opinion(by_rules, doc, opinion)
    model_hits = {h.category for h in both.findings if h.rule_id.startswith(RULE_ID_PREFIX)}
    return Verdicts(
        item,
        flagged={"rules": by_rules.flagged, "model": bool(model_hits), "both": both.flagged},
        categories={"rules": reported_categories(by_rules), "model": model_hits, "both": reported_categories(both)},
    )


def render_evaluation(report: dict[str, object], out: TextIO) -> None:
    """The report of `Evaluation.as_dict()` as a table: precision / recall of rules, model and both per group."""
    out.write(f"{report['method']}\n")

    def line(label: str, row: dict[str, dict[str, object]]) -> str:
        first = row[DETECTORS[0]]
        cells = "".join(f"{row[d]['precision']:>9.3f} / {row[d]['recall']:<8.3f}" for d in DETECTORS)
        return f"{label[:20]:<20}{first['items']:>5} {first['positives']:>3}{cells}\n"

    out.write(f"{'':<20}{'items':>5} {'pos':>3}" + "".join(f"{d + ' P / R':^20}" for d in DETECTORS) + "\n")
    out.write(line("overall", report["overall"]))  # type: ignore[arg-type]
    for title in ("by_batch", "by_language", "by_genre"):
        out.write(f"{title.replace('_', ' ')}:\n")
        for group, row in report[title].items():  # type: ignore[attr-defined]
            out.write(line(f"  {group}", row))
    out.write("legitimate health texts flagged:" + "".join(
        f"  {d} {v['flagged']}/{v['items']} ({v['share']:.1%})"
        for d, v in report["legitimate_health_texts_flagged"].items()) + "\n")  # type: ignore[attr-defined]
