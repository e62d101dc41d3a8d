"""The second opinion as a finding: the classifier's verdict on a page, shaped like a rule's.

A page is scored passage by passage (`features.passages`); its score is the best passage's. Passages
that do not speak of health at all (`features.about_health`) are not judged: the model has no evidence there.
At or above the model's threshold the verdict is a finding of severity "medium" (it reaches the daily list) with
rule id `pw-model-<category>`, the category's legal basis (the provisions its rules cite most), the
sentence that scored highest as the excerpt, and the score in the page signals (`model_score`,
`model_category`, `model_sha256`) whether it flags or not. The rules keep the last word on scope: a
page the rules read as a warning or enforcement report (`warning_context`) is not flagged by the model,
nor a sentence holding a claim the rules found denied, asked about or reported (`Analysis.scoped`), nor
a page showing a licence for a sale category (`SALE_CATEGORIES`), nor a page whose health text as a whole
reads as ordinary (`PAGE_SCORE_FLOOR`: a boilerplate fragment such as a shop footer can score high on its own);
`model_set_aside` says which.

The opinion also works the other way: a claim rule's finding (`DISPUTABLE_CATEGORIES`, severity up
to high) on a page whose every health passage the model reads as ordinary (`DISPUTE_BELOW`) is
kept but demoted to "low", so it no longer flags the page on its own; `model_disputed` names those
findings and their rule severity. Claim wording is what the model was trained on; a sale, licence,
additive or brand finding rests on facts it cannot see, and is never disputed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final

from rules.classifier.features import about_health, folded, off_topic, passages, sentences
from rules.classifier.linear import LinearTextModel, Vector
from rules.document import TextDocument
from rules.excerpts import excerpt_around
from rules.model import CATEGORY_ZH, FLAG_THRESHOLD, SEVERITY_RANK, Analysis, Rule, RuleHit, ScopedClaim
from rules.normalise import normalise
from rules.scope import SCOPE_KINDS, ScopeCues, ScopeReader, load_scope_cues

#: The model reads at most this many characters of a page (its passages are scored one by one).
MAX_MODEL_CHARS: Final = 200_000
#: Severity of a model finding: enough to reach the daily list, never above a rule's "high".
MODEL_SEVERITY: Final = "medium"
RULE_ID_PREFIX: Final = "pw-model-"
#: Categories whose violation is who sells and with what licence, which wording cannot show: the model
#: does not raise them on a page that shows a licence (the rules and the registry check judge licences).
SALE_CATEGORIES: Final = frozenset({"banned_online_sale", "prescription_without_rx", "unlicensed_sale",
                                    "rogue_pharmacy", "off_platform_sale"})
_ALL_SCOPES: Final = frozenset(SCOPE_KINDS)
#: A passage's finding also needs the page's health text as a whole (the passages that speak of health, up to
#: `PAGE_CHARS` characters) to score this much: menus and unrelated text do not dilute it, a licensed pharmacy's
#: ordinary product pages do.
PAGE_SCORE_FLOOR: Final = 0.3
#: ... unless the passage itself scores this much: a clear advert embedded in a long page of other health text.
#: Not on a page showing a licence the registry did not find invalid (`shows_licence`, `licence_valid` not False): a
#: pharmacy's product title ("苯磺酸氨氯地平片 5mg*28片/盒") can score that high alone, so there the page as a whole
#: must read as a violation. A forged or revoked licence keeps the override.
CONFIDENT_SCORE: Final = 0.8
PAGE_CHARS: Final = 20_000
#: Claim findings are disputed on a page whose best health passage scores below this.
DISPUTE_BELOW: Final = 0.15
DISPUTABLE_CATEGORIES: Final = frozenset({"disease_cure_claim", "forbidden_ad_claim", "non_drug_as_drug"})
DISPUTED_SEVERITY: Final = "low"
#: Provisions cited per category: the ones most of the category's rules cite.
LEGAL_BASIS_COUNT: Final = 3


@dataclass
class SecondOpinion:
    model: LinearTextModel
    legal_basis: Mapping[str, list[str]]
    #: The rules' scope cues (negation, question, reported, warning): see `_scope`.
    cues: ScopeCues

    @classmethod
    def for_rules(cls, model: LinearTextModel, rules: Sequence[Rule], cues: ScopeCues | None = None) -> SecondOpinion:
        cited: dict[str, Counter[str]] = {}
        for rule in rules:
            cited.setdefault(rule.category, Counter()).update(rule.legal_basis)
        return cls(model, {c: [basis for basis, _ in n.most_common(LEGAL_BASIS_COUNT)] for c, n in cited.items()},
                   cues or load_scope_cues())

    def judge(self, doc: TextDocument, page: Mapping[str, object],
              scoped: Sequence[ScopedClaim] = ()) -> tuple[RuleHit | None, dict[str, object]]:
        """The finding (or None) for `doc` and the signals to add.

        `page` holds the rules' page signals and `scoped` the claim matches the rules set aside by
        their scope: a passage whose best sentence holds one ("there is no cure for diabetes") is
        denied, asked about or reported there, whatever its words score, and the next passage is tried.
        `model_set_aside` in the signals says why a score at or above the threshold gave no finding.
        """
        text = doc.text[:MAX_MODEL_CHARS]
        scored: list[tuple[float, tuple[int, int], Vector]] = []
        health: list[str] = []  # the folded passages that speak of health, in page order
        for start, end in passages(text, breaks=off_topic):
            passage = folded(text[start:end])
            if not about_health(passage):
                continue
            health.append(passage)
            vector = self.model.vector_of_folded(passage)
            if vector:
                scored.append((self.model.flag_probability(vector), (start, end), vector))
        scored.sort(key=lambda row: -row[0])
        signals: dict[str, object] = {"model_score": round(scored[0][0], 4) if scored else 0.0,
                                      "model_sha256": self.model.sha256, "model_read_health": bool(scored)}
        if not scored or scored[0][0] < self.model.threshold:
            return None, signals
        # The passages at or above the threshold, best first, each with the category it reads as.
        candidates = [(score, span, self._category(vector)) for score, span, vector in scored
                      if score >= self.model.threshold]
        signals["model_category"] = candidates[0][2]
        if page.get("warning_context") is True:
            signals["model_set_aside"] = "the page reads as a warning or enforcement report"
            return None, signals
        page_score = scored[0][0] if len(health) == 1 else self.model.flag_probability(
            self.model.vector_of_folded(" ".join(health)[:PAGE_CHARS]))
        signals["model_page_score"] = round(page_score, 4)
        licensed = bool(page.get("shows_licence") or page.get("shows_trading_licence"))
        pharmacy = page.get("shows_licence") is True and page.get("licence_valid") is not False
        confident = float("inf") if pharmacy else CONFIDENT_SCORE
        reasons: list[str] = []
        for score, passage, category in candidates:
            if page_score < PAGE_SCORE_FLOOR and score < confident:
                reasons.append(f"the page's health text as a whole reads as ordinary (score {page_score:.2f})")
                continue
            if category in SALE_CATEGORIES and licensed:
                reasons.append(f"{category}: the page shows a licence")
                continue
            a, b = self._best_sentence(text, passage)
            in_scope = next((c.why for c in scoped if c.span[0] < b and a < c.span[1]), None) or self._scope(text[a:b])
            if in_scope is not None:
                reasons.append(in_scope)
            else:
                return self._finding(text, _within_one_section(doc, a, b), category, score), signals
        signals["model_set_aside"] = "; ".join(dict.fromkeys(reasons))
        return None, signals

    def descriptions(self) -> dict[str, str]:
        """Rule id → why a model finding matters, for every category the model can name (like a rule's description)."""
        return {f"{RULE_ID_PREFIX}{category}": (
            f"A classifier trained on the reviewed corpus found this text reads like the "
            f"{category.replace('_', ' ')} passages there, though no rule matched it. It is a lead, not proof: "
            f"a reviewer confirms the wording before the finding is relied on.")
            for category in self.model.categories}

    def _scope(self, sentence: str) -> str | None:
        """Why the sentence's strongest evidence is not its own claim (denied, asked, reported), or None.

        The n-gram that adds most to the sentence's score stands for its claim; the rules' scope reader
        says whether each place it occurs is in a scope. Only when every occurrence is, is the sentence set aside.
        """
        norm = normalise(sentence)
        lowered = norm.text.lower()
        vector = self.model.vector(sentence)
        if len(lowered) != len(norm.text) or not vector:
            return None
        grams = self.model.grams
        contributions = self.model.flag_contributions(vector)
        order = contributions.argsort()[::-1]
        gram = next((grams[i] for i in vector.indices[order[contributions[order] > 0]].tolist()
                     if len(grams[i]) > 1 and grams[i].strip() == grams[i] and grams[i] in lowered), None)
        if gram is None:
            return None
        reader = ScopeReader(self.cues, norm)
        verdict = None
        pos = lowered.find(gram)
        while pos >= 0:
            verdict = reader.verdict((pos, pos + len(gram)), _ALL_SCOPES)
            if verdict is None:
                return None
            pos = lowered.find(gram, pos + 1)
        return verdict.explain() if verdict else None

    def _category(self, vector: Vector) -> str:
        ranked = self.model.category_probabilities(vector)
        return max(ranked, key=ranked.__getitem__)

    def _best_sentence(self, text: str, passage: tuple[int, int]) -> tuple[int, int]:
        """The passage's sentence that scores highest on its own."""
        start, end = passage
        spans = [(start + a, start + b) for a, b in sentences(text[start:end])] or [passage]
        return max(spans, key=lambda s: self.model.flag_probability(self.model.vector(text[s[0]:s[1]])))

    def _finding(self, text: str, sentence: tuple[int, int], category: str, score: float) -> RuleHit:
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
            spans=[sentence],
            excerpt=excerpt_around(text, [sentence]),
        )


def _within_one_section(doc: TextDocument, start: int, end: int) -> tuple[int, int]:
    """`[start, end)` cut back to the end of the section it starts in (a finding lies in one scope)."""
    if doc.scope_at(start, end) is None:
        end = min((s.end for s in doc.sections if s.start <= start < s.end), default=end)
    return start, max(end, start + 1)


def with_second_opinion(analysis: Analysis, doc: TextDocument, opinion: SecondOpinion) -> Analysis:
    """`analysis` (the rules') with the model's signals added, its finding if any among the findings,
    and the claim findings it disputes demoted (see the module's docstring)."""
    hit, signals = opinion.judge(doc, analysis.signals, analysis.scoped)
    page = {**analysis.signals, **signals}
    findings = [*analysis.findings, hit] if hit is not None else list(analysis.findings)
    if signals.get("model_read_health") and float(signals["model_score"]) < DISPUTE_BELOW:  # type: ignore[arg-type]
        disputed = {h.rule_id: h.severity for h in findings if h.category in DISPUTABLE_CATEGORIES
                    and SEVERITY_RANK[DISPUTED_SEVERITY] < SEVERITY_RANK[h.severity] <= SEVERITY_RANK["high"]}
        if disputed:
            findings = [replace(h, severity=DISPUTED_SEVERITY) if h.rule_id in disputed else h for h in findings]
            page["model_disputed"] = disputed
    findings.sort(key=lambda h: (-SEVERITY_RANK[h.severity], h.rule_id))
    risk = findings[0].severity if findings else "none"
    return replace(analysis, findings=findings, signals=page, risk=risk,
                   flagged=SEVERITY_RANK[risk] >= SEVERITY_RANK[FLAG_THRESHOLD])
