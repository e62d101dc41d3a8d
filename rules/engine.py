"""`RuleSet`: a loaded, compiled rule pack and the entry point for analysing documents.

Owns `RuleSet` and `load_ruleset()`. Compilation lives in `rules.compiled`, the analysis of a
document in `rules.evaluate`, the static facts about conditions (also used by `rules lint`) in
`rules.static_analysis`.

Rule attributes other layers may read (e.g. for `pharmwatch rules list`): `RuleSet.rules` is a list
of `rules.model.Rule` with `id`, `version`, `status`, `category`, `severity`, `title_zh`,
`title_en`, `diseases`, `legal_basis`, `scope`, `path` and `sha256`; `RuleSet.digest` identifies
the whole pack. `RuleSet.opinion` is the learned second opinion (`rules.classifier`) attached to the
bundled packs, or None; its findings have rule ids `pw-model-<category>` that are not in `rules`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from rules.classifier import MODEL_PATH, ModelFileError, SecondOpinion, load_model, with_second_opinion
from rules.compiled import CompiledRules, compile_rules
from rules.database_cache import cached_databases
from rules.document import TextDocument
from rules.evaluate import ANALYSIS_TIME_BUDGET, MAX_ANALYSED_CHARS, analyse_document
from rules.model import Analysis, Rule, RulePackError


class RuleSet:
    """A validated set of rules, ready to analyse documents. Build it with `load_ruleset()`."""

    def __init__(self, rules: list[Rule], digest: str, opinion: SecondOpinion | None = None):
        self.rules = list(rules)
        self.digest = digest
        self.opinion = opinion
        #: The compiled form `analyse` runs on (one record per rule, in the order of `rules`).
        self.compiled: CompiledRules = compile_rules(self.rules)
        self._by_id = {rule.id: rule for rule in self.rules}

    def __len__(self) -> int:
        return len(self.rules)

    def rule(self, rule_id: str) -> Rule:
        return self._by_id[rule_id]

    def descriptions(self) -> dict[str, str]:
        """Rule id → description, for the rules and for the second opinion's findings."""
        return {**(self.opinion.descriptions() if self.opinion else {}),
                **{rule.id: rule.description for rule in self.rules}}

    @property
    def term_key_count(self) -> int:
        """Keys in the shared automaton (terms, evasive spellings and page-signal words)."""
        return self.compiled.matcher.key_count

    @property
    def matcher_backend(self) -> str:
        """"hyperscan" or "ahocorasick" (see rules.matcher)."""
        return self.compiled.matcher.backend

    def analyse(self, doc: TextDocument, signals: Mapping[str, object] | None = None, *,
                time_budget: float = ANALYSIS_TIME_BUDGET) -> Analysis:
        """Run every rule on `doc`. `signals` (e.g. licence checks) override the computed page signals.

        A long document is read whole in windows, within `time_budget` seconds (see `rules.evaluate`).
        """
        analysis = analyse_document(self.compiled, doc, signals, time_budget=time_budget)
        return with_second_opinion(analysis, doc, self.opinion) if self.opinion else analysis


def load_ruleset(paths: list[Path] | None = None, *, model: Path | None = None,
                 cache_dir: Path | None = None) -> RuleSet:
    """Load rule packs (None = the bundled packs) or raise one RulePackError listing every problem.

    The bundled packs come with the bundled second-opinion model; other packs get a model only when
    `model` names its file. `cache_dir`: a folder where compiled automata are kept between loads
    (`rules.database_cache`; the packs are read and validated every time, only compiling is skipped).
    """
    with cached_databases(cache_dir):
        return _load_ruleset(paths, model)


def _load_ruleset(paths: list[Path] | None, model: Path | None) -> RuleSet:
    from rules.loader import load_rules

    rules, digest = load_rules(paths)
    model_path = model if model is not None else (MODEL_PATH if paths is None else None)
    if model_path is None:
        return RuleSet(rules, digest)
    try:
        opinion = SecondOpinion.for_rules(load_model(model_path), rules)
    except ModelFileError as err:
        raise RulePackError(model_path, 1, f"second-opinion model: {err}") from err
    return RuleSet(rules, digest, opinion)


__all__ = ["MAX_ANALYSED_CHARS", "RuleSet", "load_ruleset"]
