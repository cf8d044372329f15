"""The intent classifier: TF-IDF over character and word n-grams, logistic regression, temperature.

Features are char_wb 2-5 grams (robust to typos, suffixes and joined/split words) plus word
unigrams and bigrams (word order: «مهلت اعتراض» vs «مهلت پرداخت») of the normalised text. The
logistic regression's probabilities are over-confident on a small training set, so they are
calibrated by one temperature fitted on 5-fold out-of-fold scores of the training data.

Training is deterministic (fixed folds, liblinear-free lbfgs, no randomness) and takes a few
seconds; `load_or_train` caches the result in a pickle keyed by a hash of the training data, the
colloquial table, the pipeline steps, this code's version and scikit-learn's version. The cache is
an optimisation only: any problem reading it means training again.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nlp.normalize import STEPS, features_text, normalize

DATA_DIR = Path(__file__).parent / "data"
TRAIN_FILE = DATA_DIR / "train.tsv"
EVAL_FILE = DATA_DIR / "eval.tsv"
# Bump when features, training or the pickled layout change: old cache files are then ignored.
CODE_VERSION = "intent-model-3"
_REGULARISATION_C = 20.0
_FOLDS = 5
_TEMPERATURES = np.exp(np.linspace(np.log(0.05), np.log(5.0), 120))

log = logging.getLogger(__name__)


def read_tsv(path: Path) -> list[tuple[str, str]]:
    """(intent, text) pairs from an `intent<TAB>text` file; blank lines and # comments skipped."""
    pairs: list[tuple[str, str]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        intent, tab, text = line.partition("\t")
        if not tab:
            raise ValueError(f"{path}:{number}: expected intent<TAB>text")
        pairs.append((intent.strip(), text.strip()))
    return pairs


@dataclass
class Classifier:
    """A trained model: turns normalised texts into calibrated probabilities over `labels`."""

    labels: tuple[str, ...]
    steps: tuple[str, ...]
    vectorizers: list[Any] = field(repr=False)
    weights: Any = field(repr=False)  # scipy/numpy (n_features, n_labels)
    bias: Any = field(repr=False)
    temperature: float = 1.0

    def features(self, normalized: Sequence[str]) -> Any:
        from scipy.sparse import hstack

        texts = [features_text(text) for text in normalized]
        return hstack([vectorizer.transform(texts) for vectorizer in self.vectorizers]).tocsr()

    def probabilities(self, normalized: Sequence[str]) -> np.ndarray:
        """Rows of calibrated probabilities, one row per text, columns in `labels` order."""
        logits = np.asarray(self.features(normalized) @ self.weights) + self.bias
        return _softmax(logits / self.temperature)


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    result: np.ndarray = exp / exp.sum(axis=1, keepdims=True)
    return result


def _vectorizers() -> list[Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return [
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=1, dtype=np.float32),
        TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, min_df=1,
                        token_pattern=r"(?u)[^\s]+", dtype=np.float32),
    ]


def _fit_linear(texts: Sequence[str], labels: Sequence[str], label_order: tuple[str, ...]) -> tuple[list[Any], Any, Any]:
    from scipy.sparse import hstack
    from sklearn.linear_model import LogisticRegression

    vectorizers = _vectorizers()
    feature_texts = [features_text(text) for text in texts]
    matrix = hstack([v.fit_transform(feature_texts) for v in vectorizers]).tocsr()
    model = LogisticRegression(C=_REGULARISATION_C, max_iter=3000)
    model.fit(matrix, list(labels))
    # Reorder the columns to `label_order` so callers never depend on sklearn's sorting.
    order = [list(model.classes_).index(label) for label in label_order]
    weights = np.ascontiguousarray(model.coef_[order].T.astype(np.float32))
    bias = model.intercept_[order].astype(np.float32)
    return vectorizers, weights, bias


def _fit_temperature(logits: np.ndarray, gold: np.ndarray) -> float:
    """The temperature minimising the negative log-likelihood of the out-of-fold scores."""
    best, best_nll = 1.0, float("inf")
    for temperature in _TEMPERATURES:
        probabilities = _softmax(logits / temperature)
        nll = -float(np.mean(np.log(probabilities[np.arange(len(gold)), gold] + 1e-12)))
        if nll < best_nll:
            best, best_nll = float(temperature), nll
    return best


def train(examples: Sequence[tuple[str, str]], steps: Sequence[str] = STEPS) -> Classifier:
    """Train on (intent, raw text) pairs; deterministic for the same data and steps."""
    label_order = tuple(sorted({intent for intent, _ in examples}))
    normalized = [normalize(text, steps) for _, text in examples]
    labels = [intent for intent, _ in examples]
    gold = np.array([label_order.index(label) for label in labels])

    # Out-of-fold logits for calibration: folds by position within each label, no shuffling.
    fold_of = np.zeros(len(labels), dtype=int)
    seen: dict[str, int] = {}
    for index, label in enumerate(labels):
        fold_of[index] = seen.get(label, 0) % _FOLDS
        seen[label] = seen.get(label, 0) + 1
    oof = np.zeros((len(labels), len(label_order)))
    for fold in range(_FOLDS):
        train_idx = np.flatnonzero(fold_of != fold)
        test_idx = np.flatnonzero(fold_of == fold)
        vectorizers, weights, bias = _fit_linear(
            [normalized[i] for i in train_idx], [labels[i] for i in train_idx], label_order
        )
        partial = Classifier(label_order, tuple(steps), vectorizers, weights, bias)
        oof[test_idx] = np.asarray(partial.features([normalized[i] for i in test_idx]) @ weights) + bias
    temperature = _fit_temperature(oof, gold)

    vectorizers, weights, bias = _fit_linear(normalized, labels, label_order)
    return Classifier(label_order, tuple(steps), vectorizers, weights, bias, temperature)


def cache_key(steps: Sequence[str] = STEPS, train_file: Path = TRAIN_FILE) -> str:
    import sklearn

    digest = hashlib.sha256()
    for part in (CODE_VERSION, sklearn.__version__, ",".join(steps)):
        digest.update(part.encode() + b"\0")
    digest.update(train_file.read_bytes())
    digest.update((DATA_DIR / "informal.tsv").read_bytes())
    return digest.hexdigest()[:24]


def load_or_train(cache_dir: Path | None = None, steps: Sequence[str] = STEPS,
                  train_file: Path = TRAIN_FILE) -> Classifier:
    """The classifier from `cache_dir` when a matching one is there, else trained (and cached)."""
    path = cache_dir / f"intents-{cache_key(steps, train_file)}.pkl" if cache_dir is not None else None
    if path is not None and path.exists():
        try:
            with path.open("rb") as handle:
                cached = pickle.load(handle)
            if isinstance(cached, Classifier):
                return cached
        except Exception:  # a stale or broken cache is never fatal
            log.warning("ignoring unreadable model cache %s", path, exc_info=True)
    classifier = train(read_tsv(train_file), steps)
    if path is not None:
        _write_atomically(path, classifier)
    return classifier


def _write_atomically(path: Path, classifier: Classifier) -> None:
    """Write via a temporary file and rename, so a concurrent reader never sees half a file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".tmp") as handle:
            pickle.dump(classifier, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(handle.name, path)
    except OSError:
        log.warning("could not write model cache %s", path, exc_info=True)
