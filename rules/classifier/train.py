"""Training the second opinion from the labelled corpus (needs scikit-learn; running a model does not).

`train(items)` fits, on the same n-grams the model reads at run time, a logistic regression for "should
this page be flagged" (all items) and a multinomial one for "which category" (flagged items, by their
first category in `rules.model.CATEGORIES` order). Deterministic: the same items give the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Final

from rules.classifier.features import ngrams
from rules.classifier.linear import LinearTextModel
from rules.corpus import ITEMS, Item, corpus_digest
from rules.model import CATEGORIES

#: Inverse regularisation strength of both heads.
C: Final = 10.0
#: An n-gram must occur in this many items to become a feature (rarer ones are noise and bloat the file).
MIN_DF: Final = 2
#: Flag probability at or above which the second opinion flags a page.
THRESHOLD: Final = 0.5


def item_text(item: Item) -> str:
    """The text the model learns from: the title (if any) and the text, as a page would join them."""
    return f"{item.title}\n{item.text}" if item.title else item.text


def primary_category(item: Item) -> str:
    return next(c for c in CATEGORIES if c in item.categories)


def train(items: Sequence[Item], metadata: dict[str, object] | None = None,
          threshold: float = THRESHOLD) -> LinearTextModel:
    """Fit both heads on `items` (it needs positives of at least two categories and some negatives)."""
    import sklearn
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(analyzer=ngrams, sublinear_tf=True, min_df=MIN_DF)
    features = vectorizer.fit_transform([item_text(i) for i in items])
    flag_head = LogisticRegression(C=C, max_iter=5000)
    flag_head.fit(features, [i.flagged for i in items])

    flagged = [n for n, i in enumerate(items) if i.flagged]
    labels = [primary_category(items[n]) for n in flagged]
    category_head = LogisticRegression(C=C, max_iter=5000)
    category_head.fit(features[flagged], labels)
    categories = [str(c) for c in category_head.classes_]
    rows = category_head.coef_.T.tolist()
    intercepts = category_head.intercept_.tolist()
    if len(categories) == 2:  # scikit-learn keeps one row for two classes: spell out both
        rows = [[-w / 2, w / 2] for (w,) in rows]
        intercepts = [-intercepts[0] / 2, intercepts[0] / 2]

    return LinearTextModel(
        vocabulary={str(g): int(i) for g, i in vectorizer.vocabulary_.items()},
        idf=vectorizer.idf_.tolist(),
        flag_weights=flag_head.coef_[0].tolist(),
        flag_intercept=float(flag_head.intercept_[0]),
        categories=categories,
        category_weights=rows,
        category_intercepts=intercepts,
        threshold=threshold,
        metadata={**(metadata or {}), "items": len(items), "trained_with": f"scikit-learn {sklearn.__version__}",
                  "C": C, "min_df": MIN_DF},
    )


def training_mismatch(model: LinearTextModel, folder: Path = ITEMS) -> str | None:
    """Why `model` was not trained on the corpus in `folder` as it is now, or None (also when there is no corpus)."""
    if not folder.is_dir() or not any(folder.glob("*.yaml")):
        return None
    trained_on = str(model.metadata.get("corpus_sha256", ""))
    if trained_on == corpus_digest(folder):
        return None
    return (f"the second-opinion model was trained on corpus {trained_on[:16] or '(unrecorded)'}, "
            f"{model.metadata.get('items', '?')} items; the corpus in {folder} is {corpus_digest(folder)[:16]}: "
            f"run `pharmwatch rules train` (or `make model`)")
