"""The second opinion as a finding: the classifier's verdict on a page, shaped like a rule's.

A page is scored passage by passage (`features.passages`); its score is the best passage's. Passages
that do not speak of health at all (`features.about_health`) are not judged: the model has no evidence there.
At or above the model's threshold the verdict is a finding of severity "medium" (it reaches the daily list) with
rule id `pw-model-<category>`, the category's legal basis (the provisions its rules cite most), the
sentence that scored highest as the excerpt, and the score in the page signals (`model_score`,
`model_category`, `model_sha256`) whether it flags or not. The rules keep the last word on scope: a
page the rules read as a warning or enforcement report (`warning_context`) is not flagged by the model,
nor is a page showing a licence flagged for a sale category (`SALE_CATEGORIES`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from rules.classifier.features import about_health, folded, passages, sentences
from rules.classifier.linear import LinearTextModel
from rules.document import TextDocument
from rules.excerpts import excerpt_around
from rules.model import CATEGORY_ZH, FLAG_THRESHOLD, SEVERITY_RANK, Analysis, Rule, RuleHit

#: The model reads at most this many characters of a page (its passages are scored one by one).
MAX_MODEL_CHARS: Final = 200_000
#: Severity of a model finding: enough to reach the daily list, never above a rule's "high".
MODEL_SEVERITY: Final = "medium"
RULE_ID_PREFIX: Final = "pw-model-"
#: Categories whose violation is who sells and with what licence, which wording cannot show: the model
#: does not raise them on a page that shows a licence (the rules and the registry check judge licences).
SALE_CATEGORIES: Final = frozenset({"banned_online_sale", "prescription_without_rx", "unlicensed_sale",
                                    "rogue_pharmacy", "off_platform_sale"})
#: Provisions cited per category: the ones most of the category's rules cite.
LEGAL_BASIS_COUNT: Final = 3


@dataclass
class SecondOpinion:
    model: LinearTextModel
    legal_basis: Mapping[str, list[str]]

    @classmethod
    def for_rules(cls, model: LinearTextModel, rules: Sequence[Rule]) -> SecondOpinion:
        cited: dict[str, Counter[str]] = {}
        for rule in rules:
            cited.setdefault(rule.category, Counter()).update(rule.legal_basis)
        return cls(model, {c: [basis for basis, _ in n.most_common(LEGAL_BASIS_COUNT)] for c, n in cited.items()})

    def judge(self, doc: TextDocument, page: Mapping[str, object]) -> tuple[RuleHit | None, dict[str, object]]:
        """The finding (or None) for `doc` and the signals to add; `page` holds the rules' page signals."""
        text = doc.text[:MAX_MODEL_CHARS]
        best_p, best_span, best_vector = 0.0, (0, 0), {}
        for start, end in passages(text):
            if not about_health(folded(text[start:end])):
                continue
            vector = self.model.vector(text[start:end])
            p = self.model.flag_probability(vector)
            if p > best_p:
                best_p, best_span, best_vector = p, (start, end), vector
        signals: dict[str, object] = {"model_score": round(best_p, 4), "model_sha256": self.model.sha256}
        if not best_vector:
            return None, signals
        ranked = self.model.category_probabilities(best_vector)
        category = max(ranked, key=ranked.__getitem__)
        signals["model_category"] = category
        if best_p < self.model.threshold or page.get("warning_context") is True:
            return None, signals
        if category in SALE_CATEGORIES and (page.get("shows_licence") or page.get("shows_trading_licence")):
            return None, signals
        return self._finding(text, best_span, category, best_p), signals

    def _finding(self, text: str, passage: tuple[int, int], category: str, score: float) -> RuleHit:
        start, end = passage
        # The excerpt is the passage's sentence that scores highest on its own.
        spans = [(start + a, start + b) for a, b in sentences(text[start:end])] or [passage]
        best = max(spans, key=lambda s: self.model.flag_probability(self.model.vector(text[s[0]:s[1]])))
        a, b = best
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        return RuleHit(
            rule_id=f"{RULE_ID_PREFIX}{category}",
            rule_version=1,
            rule_sha256=self.model.sha256,
            title_zh=f"统计模型判定：疑似{CATEGORY_ZH.get(category, category)}（评分 {score:.2f}）",
            title_en=f"Learned classifier: likely {category.replace('_', ' ')} (score {score:.2f})",
            category=category,
            severity=MODEL_SEVERITY,
            diseases=[],
            legal_basis=list(self.legal_basis.get(category, [])),
            spans=[(a, b)],
            excerpt=excerpt_around(text, [(a, b)]),
        )


def with_second_opinion(analysis: Analysis, doc: TextDocument, opinion: SecondOpinion) -> Analysis:
    """`analysis` (the rules') with the model's signals added and its finding, if any, among the findings."""
    hit, signals = opinion.judge(doc, analysis.signals)
    page = {**analysis.signals, **signals}
    findings = [*analysis.findings, hit] if hit is not None else list(analysis.findings)
    findings.sort(key=lambda h: (-SEVERITY_RANK[h.severity], h.rule_id))
    risk = findings[0].severity if findings else "none"
    return Analysis(findings=findings, signals=page, risk=risk,
                    flagged=SEVERITY_RANK[risk] >= SEVERITY_RANK[FLAG_THRESHOLD])
