"""Scoring an IntentModel on labelled messages: accuracy, macro-F1, confusions, latency.

Shared by `eblagh nlp eval` and bench/nlp.py so both report the same numbers the same way.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from nlp.finglish import is_finglish
from nlp.intents import OUT_OF_SCOPE, IntentModel

SCRIPTS = ("persian", "finglish")


@dataclass(frozen=True)
class ScriptScore:
    """Accuracy on the examples written in one script (Persian letters, or Persian in Latin ones)."""

    total: int
    accuracy: float
    out_of_scope_recall: float


@dataclass(frozen=True)
class Report:
    total: int
    accuracy: float
    macro_f1: float
    out_of_scope_recall: float
    per_intent_f1: dict[str, float]
    confusions: list[tuple[str, str, int]]  # (gold, predicted, count), most frequent first
    errors: list[tuple[str, str, str]]  # (gold, predicted, text)
    latency_ms_p50: float
    latency_ms_p99: float
    by_script: dict[str, ScriptScore]

    def as_dict(self) -> dict[str, object]:
        return {
            "total": self.total,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "out_of_scope_recall": round(self.out_of_scope_recall, 4),
            "per_intent_f1": {k: round(v, 4) for k, v in self.per_intent_f1.items()},
            "confusions": [{"gold": g, "predicted": p, "count": n} for g, p, n in self.confusions],
            "errors": [{"gold": g, "predicted": p, "text": t} for g, p, t in self.errors],
            "latency_ms_p50": round(self.latency_ms_p50, 3),
            "latency_ms_p99": round(self.latency_ms_p99, 3),
            "by_script": {name: {"total": score.total, "accuracy": round(score.accuracy, 4),
                                 "out_of_scope_recall": round(score.out_of_scope_recall, 4)}
                          for name, score in self.by_script.items()},
        }


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def evaluate(model: IntentModel, examples: Sequence[tuple[str, str]]) -> Report:
    """Classify every (intent, text) pair as a whole message (analyze, with splitting)."""
    if not examples:
        raise ValueError("no examples to evaluate")
    predicted: list[str] = []
    latencies: list[float] = []
    for _, text in examples:
        began = time.perf_counter()
        predicted.append(model.analyze(text).intent)
        latencies.append((time.perf_counter() - began) * 1000)
    gold = [intent for intent, _ in examples]
    labels = sorted(set(gold) | set(predicted))
    f1: dict[str, float] = {}
    for label in labels:
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g == p == label)
        fp = sum(1 for g, p in zip(gold, predicted, strict=True) if p == label != g)
        fn = sum(1 for g, p in zip(gold, predicted, strict=True) if g == label != p)
        f1[label] = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0
    gold_labels = sorted(set(gold))
    oos = [p for g, p in zip(gold, predicted, strict=True) if g == OUT_OF_SCOPE]
    confusions = Counter((g, p) for g, p in zip(gold, predicted, strict=True) if g != p)
    return Report(
        total=len(examples),
        accuracy=sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(examples),
        macro_f1=sum(f1[label] for label in gold_labels) / len(gold_labels),
        out_of_scope_recall=(sum(p == OUT_OF_SCOPE for p in oos) / len(oos)) if oos else 1.0,
        per_intent_f1={label: f1[label] for label in gold_labels},
        confusions=[(g, p, n) for (g, p), n in confusions.most_common()],
        errors=[(g, p, text) for (g, text), p in zip(examples, predicted, strict=True) if g != p],
        latency_ms_p50=percentile(latencies, 50),
        latency_ms_p99=percentile(latencies, 99),
        by_script=_by_script(examples, predicted),
    )


def _by_script(examples: Sequence[tuple[str, str]], predicted: Sequence[str]) -> dict[str, ScriptScore]:
    """Scores for the Persian-script and the Finglish examples, for the scripts present."""
    scores: dict[str, ScriptScore] = {}
    for script in SCRIPTS:
        pairs = [(gold, guess) for (gold, text), guess in zip(examples, predicted, strict=True)
                 if (script == "finglish") == is_finglish(text)]
        if not pairs:
            continue
        oos = [guess for gold, guess in pairs if gold == OUT_OF_SCOPE]
        scores[script] = ScriptScore(
            total=len(pairs),
            accuracy=sum(gold == guess for gold, guess in pairs) / len(pairs),
            out_of_scope_recall=(sum(guess == OUT_OF_SCOPE for guess in oos) / len(oos)) if oos else 1.0)
    return scores
