"""A trained linear text model and its file: TF-IDF weights per n-gram, a flag head and a category head.

The file is gzipped JSON (data, never pickle: a model file must not be able to run code), written
byte-for-byte reproducibly by `rules.classifier.train`. Scoring needs numpy only, not scikit-learn:
for a passage, the sublinear TF-IDF vector of its n-grams (the same formula as scikit-learn's
`TfidfVectorizer(sublinear_tf=True)`, L2-normalised; a sparse `Vector`) is dotted with each head's weights.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np

from rules.classifier.features import NGRAM_SIZES, folded

#: The model shipped with the bundled packs.
MODEL_PATH: Final = Path(__file__).with_name("claims_model.json.gz")
FORMAT: Final = 1


@dataclass(frozen=True)
class Vector:
    """A sparse TF-IDF vector: feature indices and their values (L2-normalised; empty when no n-gram is known)."""

    indices: np.ndarray
    values: np.ndarray

    def __bool__(self) -> bool:
        return bool(self.indices.size)


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

    @functools.cached_property
    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """idf, flag weights, category weights (feature × category) and intercepts, as arrays for scoring."""
        return (np.asarray(self.idf), np.asarray(self.flag_weights),
                np.asarray(self.category_weights).reshape(len(self.idf), len(self.categories)),
                np.asarray(self.category_intercepts))

    def vector(self, text: str) -> Vector:
        """The L2-normalised sublinear TF-IDF vector of `text`."""
        return self.vector_of_folded(folded(text))

    def vector_of_folded(self, folded_text: str) -> Vector:
        """`vector` of a text already passed through `features.folded`.

        Counted in numpy: each n-gram is one 63-bit number (`gram_keys`), looked up by bisection in the
        vocabulary's sorted numbers, so no Python object is made per n-gram.
        """
        keys, counts = np.unique(gram_keys(folded_text), return_counts=True)
        vocabulary_keys, features = self._vocabulary_keys
        at = np.minimum(np.searchsorted(vocabulary_keys, keys), vocabulary_keys.size - 1)
        known = vocabulary_keys[at] == keys
        indices = features[at[known]]
        values = (1.0 + np.log(counts[known].astype(np.float64))) * self._arrays[0][indices]
        norm = math.sqrt(float(values @ values))
        return Vector(indices, values / norm) if norm else Vector(indices[:0], values[:0])

    @functools.cached_property
    def _vocabulary_keys(self) -> tuple[np.ndarray, np.ndarray]:
        """The vocabulary's n-grams as `gram_keys` numbers, sorted, and their feature indices in that order."""
        keys = np.array([_gram_key(gram) for gram in self.grams], dtype=np.int64)
        order = np.argsort(keys, kind="stable")
        return keys[order], order.astype(np.int64)

    def flag_contributions(self, vector: Vector) -> np.ndarray:
        """Each feature's share of the flag head's score, in the order of `vector.indices`."""
        return vector.values * self._arrays[1][vector.indices]

    def flag_probability(self, vector: Vector) -> float:
        return _sigmoid(self.flag_intercept + float(self.flag_contributions(vector).sum()))

    def category_probabilities(self, vector: Vector) -> dict[str, float]:
        """Softmax over the categories (the head was trained on flagged items only)."""
        _, _, rows, intercepts = self._arrays
        scores = intercepts + vector.values @ rows[vector.indices]
        exps = np.exp(scores - scores.max())
        return {c: float(e) for c, e in zip(self.categories, exps / exps.sum(), strict=True)}

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


# An n-gram of up to three characters as one number: (code point + 1) of each character in 21 bits, first
# character lowest. Code points stay below 2**21, so n-grams of different lengths never share a number.
_CHAR_BITS: Final = 21


def gram_keys(folded_text: str) -> np.ndarray:
    """The numbers of every 1-, 2- and 3-gram of `folded_text` (see `_gram_key`), as `features.grams_of_folded`."""
    chars = np.frombuffer(folded_text.encode("utf-32-le", "surrogatepass"), dtype="<u4").astype(np.int64) + 1
    parts = [chars]
    if chars.size > 1:
        parts.append(chars[:-1] | (chars[1:] << _CHAR_BITS))
    if chars.size > 2:
        parts.append(chars[:-2] | (chars[1:-1] << _CHAR_BITS) | (chars[2:] << 2 * _CHAR_BITS))
    return np.concatenate(parts)


def _gram_key(gram: str) -> int:
    return sum((ord(ch) + 1) << (_CHAR_BITS * i) for i, ch in enumerate(gram))
