"""The learned second opinion: a text classifier trained on the labelled corpus, beside the rules.

Rules are precise where their authors foresaw the wording; real text keeps bringing wording they did
not foresee. This package adds a statistical classifier (character 1–3-gram TF-IDF features and
logistic regression, see `features` and `linear`) whose verdicts become findings like any rule's
(`opinion`), so the daily list, cases and `check --json` carry them unchanged. Training lives in
`train` (scikit-learn, only needed to train); running a trained model needs nothing but this package
and its model file, `claims_model.json.gz`, which records the corpus it was trained on.
"""

from rules.classifier.linear import MODEL_PATH, LinearTextModel, ModelFileError, load_model
from rules.classifier.opinion import SecondOpinion, with_second_opinion

__all__ = ["MODEL_PATH", "LinearTextModel", "ModelFileError", "SecondOpinion", "load_model", "with_second_opinion"]
