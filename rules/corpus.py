"""The labelled evaluation corpus: loading, validation and scoring (tests, bench/, `rules train|eval`).

Items live in `tests/corpus/items/*.yaml` of a source checkout, a list per file.
Each item is one page, advert or post with its label:
`flagged` (should the analysis put it on the daily list) and `categories` (what a correct analysis
must report; `also` lists further categories that are acceptable). See README.md for every field.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from rules import Analysis, RuleSet, TextDocument
from rules.document import SCOPES
from rules.model import CATEGORIES, DISEASES, FLAG_THRESHOLD, SEVERITY_RANK
from rules.normalise import has_cjk

#: The corpus of a source checkout (absent from an installed wheel: pass a folder instead).
ITEMS = Path(__file__).resolve().parent.parent / "tests" / "corpus" / "items"
_KEYS = {"id", "kind", "flagged", "categories", "also", "diseases", "title", "scope", "text", "signals", "note"}


@dataclass(frozen=True)
class Item:
    id: str
    kind: str
    flagged: bool
    categories: frozenset[str]
    also: frozenset[str]
    diseases: tuple[str, ...]
    title: str
    scope: str
    text: str
    signals: dict[str, object]
    source: str

    @property
    def language(self) -> str:
        """"zh" when the item has Chinese characters, else "en"."""
        return "zh" if has_cjk(self.title + self.text) else "en"

    def document(self) -> TextDocument:
        parts = [("title", self.title)] if self.title else []
        parts.append((self.scope, self.text))
        return TextDocument.from_parts(parts)


def corpus_digest(folder: Path = ITEMS) -> str:
    """SHA-256 over the names and bytes of the corpus files, in name order: what a model was trained on."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.yaml")):
        data = path.read_bytes()
        digest.update(f"{path.name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def load_items(folder: Path = ITEMS) -> list[Item]:
    """Every corpus item, validated; raises ValueError naming each bad item."""
    items: list[Item] = []
    problems: list[str] = []
    for path in sorted(folder.glob("*.yaml")):
        for raw in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            where = f"{path.name}: {raw.get('id', '?')}"
            unknown = set(raw) - _KEYS
            categories = raw.get("categories", [])
            also = raw.get("also", [])
            diseases = raw.get("diseases", [])
            scope = raw.get("scope", "body")
            if unknown:
                problems.append(f"{where}: unknown keys {sorted(unknown)}")
            if not isinstance(raw.get("flagged"), bool):
                problems.append(f"{where}: flagged must be true or false")
            if not (isinstance(raw.get("text"), str) and raw["text"].strip()):
                problems.append(f"{where}: text is empty")
            if raw.get("flagged") and not categories:
                problems.append(f"{where}: a flagged item names at least one expected category")
            if not raw.get("flagged") and categories:
                problems.append(f"{where}: an item that is not flagged expects no categories")
            for name in [*categories, *also]:
                if name not in CATEGORIES:
                    problems.append(f"{where}: unknown category {name!r}")
            for name in diseases:
                if name not in DISEASES:
                    problems.append(f"{where}: unknown disease {name!r}")
            if scope not in SCOPES:
                problems.append(f"{where}: unknown scope {scope!r}")
            items.append(
                Item(
                    id=str(raw.get("id")),
                    kind=str(raw.get("kind", "")),
                    flagged=bool(raw.get("flagged")),
                    categories=frozenset(categories),
                    also=frozenset(also),
                    diseases=tuple(diseases),
                    title=str(raw.get("title") or ""),
                    scope=scope,
                    text=str(raw.get("text", "")),
                    signals=dict(raw.get("signals") or {}),
                    source=path.name,
                )
            )
    duplicates = [i for i, n in Counter(item.id for item in items).items() if n > 1]
    problems += [f"duplicate item id {i!r}" for i in duplicates]
    if problems:
        raise ValueError("\n".join(problems))
    return items


def reported_categories(analysis: Analysis) -> set[str]:
    """Categories of the findings that count towards flagging (severity medium and above)."""
    threshold = SEVERITY_RANK[FLAG_THRESHOLD]
    return {hit.category for hit in analysis.findings if SEVERITY_RANK[hit.severity] >= threshold}


@dataclass
class Score:
    """Item-level and category-level confusion counts, plus the items behind every error."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    cat_tp: int = 0
    cat_fp: int = 0
    cat_fn: int = 0
    errors: list[str] = field(default_factory=list)

    @staticmethod
    def _ratio(a: int, b: int) -> float:
        return a / (a + b) if a + b else 1.0

    @property
    def precision(self) -> float:
        return self._ratio(self.tp, self.fp)

    @property
    def recall(self) -> float:
        return self._ratio(self.tp, self.fn)

    @property
    def category_precision(self) -> float:
        return self._ratio(self.cat_tp, self.cat_fp)

    @property
    def category_recall(self) -> float:
        return self._ratio(self.cat_tp, self.cat_fn)

    def summary(self) -> str:
        return (
            f"items={self.tp + self.fp + self.fn + self.tn} "
            f"(positives {self.tp + self.fn}, negatives {self.fp + self.tn}) "
            f"precision={self.precision:.3f} recall={self.recall:.3f} "
            f"category precision={self.category_precision:.3f} category recall={self.category_recall:.3f}"
        )


def score(ruleset: RuleSet, items: list[Item]) -> Score:
    result = Score()
    for item in items:
        analysis = ruleset.analyse(item.document(), item.signals or None)
        reported = reported_categories(analysis)
        fired = ", ".join(f"{h.rule_id}[{h.severity}] {h.excerpt[:60]!r}" for h in analysis.findings) or "nothing"
        if item.flagged and analysis.flagged:
            result.tp += 1
        elif item.flagged:
            result.fn += 1
            result.errors.append(f"MISSED {item.id} ({item.source}): fired {fired}")
        elif analysis.flagged:
            result.fp += 1
            result.errors.append(f"FALSE ALARM {item.id} ({item.source}): {fired}")
        else:
            result.tn += 1
        missing = item.categories - reported
        extra = reported - item.categories - item.also
        result.cat_tp += len(item.categories & reported)
        result.cat_fn += len(missing)
        result.cat_fp += len(extra)
        if item.flagged and analysis.flagged and missing:
            result.errors.append(f"CATEGORY MISSED {item.id}: {sorted(missing)}; fired {fired}")
        if item.flagged and extra:
            result.errors.append(f"CATEGORY EXTRA {item.id}: {sorted(extra)}; fired {fired}")
    return result
