from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from nlp.model import (
    TRAIN_FILE,
    Classifier,
    _vectorizers,
    cache_key,
    char_ngrams,
    load_or_train,
    read_tsv,
    train,
    word_ngrams,
)
from nlp.normalize import features_text, normalize


def test_hand_written_ngrams_match_scikit_learn() -> None:
    texts = [features_text(normalize(t)) for _, t in read_tsv(TRAIN_FILE)] + ["a", "ab", "abc  x", " x  y "]
    char, word = (v.build_analyzer() for v in _vectorizers())
    for text in texts:
        assert sorted(char(text)) == sorted(char_ngrams(text))
        assert sorted(word(text)) == sorted(word_ngrams(text))


def test_cache_is_written_and_reused(model_cache: Path) -> None:
    first = load_or_train(model_cache)
    path = model_cache / f"intents-{cache_key()}.pkl"
    assert path.exists()
    second = load_or_train(model_cache)
    assert np.array_equal(first.weights, second.weights)


def test_a_broken_cache_means_training_again(tmp_path: Path) -> None:
    (tmp_path / f"intents-{cache_key()}.pkl").write_bytes(b"not a pickle")
    assert isinstance(load_or_train(tmp_path), Classifier)
    with (tmp_path / f"intents-{cache_key()}.pkl").open("rb") as handle:
        assert isinstance(pickle.load(handle), Classifier)


def test_training_is_deterministic() -> None:
    examples = read_tsv(TRAIN_FILE)[::3]
    a, b = train(examples), train(examples)
    assert np.array_equal(a.weights, b.weights) and a.temperature == b.temperature


def test_cache_key_changes_with_the_steps() -> None:
    assert cache_key(("fold",)) != cache_key()
