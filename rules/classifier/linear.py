"""A trained linear text model and its file: TF-IDF weights per n-gram, a flag head and a category head.

The file is gzipped JSON (data, never pickle: a model file must not be able to run code), written
byte-for-byte reproducibly by `rules.classifier.train`. Scoring is plain Python and needs no
scikit-learn: for a passage, the sublinear TF-IDF vector of its n-grams (the same formula as
scikit-learn's `TfidfVectorizer(sublinear_tf=True)`, L2-normalised) is dotted with each head's weights.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from rules.classifier.features import NGRAM_SIZES, ngrams

#: The model shipped with the bundled packs.
MODEL_PATH: Final = Path(__file__).with_name("claims_model.json.gz")
FORMAT: Final = 1


class ModelFileError(Exception):
    """A model file that cannot be used (missing, corrupt, another format or other features)."""


@dataclass
class LinearTextModel:
    """Weights per n-gram: `idf`, the flag head (`flag_weights`, `flag_intercept`) and one weight row per category.

    `metadata` records what the model was trained on (`corpus_sha256`, `items`, `trained_with`) and
    `threshold`: the flag probability at or above which the second opinion flags a page.
    """

    vocabulary: dict[str, int]
    idf: list[float]
    flag_weights: list[float]
    flag_intercept: float
    categories: list[str]
    category_weights: list[list[float]]  # per feature: one weight per category
    category_intercepts: list[float]
    threshold: float = 0.5
    metadata: dict[str, object] = field(default_factory=dict)
    sha256: str = ""

    @functools.cached_property
    def grams(self) -> list[str]:
        """Feature index → n-gram."""
        grams = [""] * len(self.vocabulary)
        for gram, index in self.vocabulary.items():
            grams[index] = gram
        return grams

    def vector(self, text: str) -> dict[int, float]:
        """The L2-normalised sublinear TF-IDF vector of `text` (feature index → value)."""
        counts = Counter(ngrams(text))
        vocabulary, idf = self.vocabulary, self.idf
        values = {}
        for gram, n in counts.items():
            index = vocabulary.get(gram)
            if index is not None:
                values[index] = (1.0 + math.log(n)) * idf[index]
        norm = math.sqrt(sum(v * v for v in values.values()))
        return {i: v / norm for i, v in values.items()} if norm else {}

    def flag_probability(self, vector: dict[int, float]) -> float:
        weights = self.flag_weights
        return _sigmoid(self.flag_intercept + sum(v * weights[i] for i, v in vector.items()))

    def category_probabilities(self, vector: dict[int, float]) -> dict[str, float]:
        """Softmax over the categories (the head was trained on flagged items only)."""
        scores = list(self.category_intercepts)
        rows = self.category_weights
        for i, v in vector.items():
            for k, w in enumerate(rows[i]):
                scores[k] += v * w
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return {c: e / total for c, e in zip(self.categories, exps, strict=True)}

    # -- the file ------------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        grams = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        document = {
            "format": FORMAT,
            "ngram_sizes": list(NGRAM_SIZES),
            "threshold": self.threshold,
            "metadata": self.metadata,
            "categories": self.categories,
            "flag_intercept": _round(self.flag_intercept),
            "category_intercepts": [_round(x) for x in self.category_intercepts],
            # One row per n-gram: [n-gram, idf, flag weight, category weights...].
            "features": [
                [g, _round(self.idf[i]), _round(self.flag_weights[i]), *(_round(w) for w in self.category_weights[i])]
                for g, i in ((g, self.vocabulary[g]) for g in grams)
            ],
        }
        raw = json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
        return gzip.compress(raw, compresslevel=9, mtime=0)

    @classmethod
    def from_bytes(cls, data: bytes, sha256: str = "") -> LinearTextModel:
        try:
            document = json.loads(gzip.decompress(data))
        except (OSError, EOFError, ValueError) as err:
            raise ModelFileError(f"not a model file (gzipped JSON): {err}") from err
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise ModelFileError(f"model format {document.get('format') if isinstance(document, dict) else '?'}; "
                                 f"this version reads format {FORMAT}")
        if document.get("ngram_sizes") != list(NGRAM_SIZES):
            raise ModelFileError(f"model uses n-grams {document.get('ngram_sizes')}, this version {list(NGRAM_SIZES)}")
        try:
            rows = document["features"]
            categories = list(document["categories"])
            return cls(
                vocabulary={row[0]: i for i, row in enumerate(rows)},
                idf=[float(row[1]) for row in rows],
                flag_weights=[float(row[2]) for row in rows],
                flag_intercept=float(document["flag_intercept"]),
                categories=categories,
                category_weights=[[float(w) for w in row[3:]] for row in rows],
                category_intercepts=[float(x) for x in document["category_intercepts"]],
                threshold=float(document["threshold"]),
                metadata=dict(document.get("metadata") or {}),
                sha256=sha256,
            )
        except (KeyError, IndexError, TypeError, ValueError) as err:
            raise ModelFileError(f"model file is incomplete: {err!r}") from err


def load_model(path: Path = MODEL_PATH) -> LinearTextModel:
    """Read a model file; raises ModelFileError saying what is wrong with it."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ModelFileError(f"cannot read model file {path}: {err.strerror or err}") from err
    return LinearTextModel.from_bytes(data, sha256=hashlib.sha256(data).hexdigest())


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def _round(x: float) -> float:
    # Seven significant digits keep scores identical to four decimals and the file small.
    return float(f"{x:.7g}")
