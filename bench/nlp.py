"""Benchmark of the intent model; prints ONE JSON object.

- quality on nlp/data/eval.tsv (never trained on): accuracy, macro-F1, out_of_scope recall; the same
  on nlp/data/holdout.tsv ("holdout": citizens' phrasings with many near-domain out_of_scope traps,
  written before the model saw them) and nlp/data/holdout_blind.tsv ("holdout_blind": a second such
  set, scored only after the modelling changes), each with its confusions;
- latency of `IntentModel.analyze` per message (p50, p99, mean) over many messages;
- load time in a fresh interpreter, imports included: cold (train) and from the cache;
- peak RSS of that fresh interpreter (resource.getrusage: the kernel's high-water mark);
- the same model trained and evaluated with each prefix of the normalisation pipeline
  (fold only = no hazm, + hazm, + spacing, + informal), so the value of each step shows, on three
  measures: the evaluation set; the evaluation set typed carelessly (Arabic ي/ك, half-spaces as
  spaces, elongation, diacritics, Arabic presentation forms, Arabic-Indic digits); and 5-fold
  cross-validated accuracy on the training set (a larger sample than the evaluation set, and one
  that no modelling decision was tuned on);
- for reference, what hazm's own full Normalizer and InformalNormalizer cost to construct.

    .venv/bin/python bench/nlp.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nlp.digits import to_ascii_digits  # noqa: E402
from nlp.evaluation import evaluate, percentile  # noqa: E402
from nlp.intents import CONFIDENCE_THRESHOLD, OUT_OF_SCOPE, IntentModel  # noqa: E402
from nlp.model import (  # noqa: E402
    BLIND_FILE,
    EVAL_FILE,
    FINGLISH_EVAL_FILE,
    FINGLISH_HOLDOUT_FILE,
    HOLDOUT_FILE,
    TRAIN_FILE,
    load_or_train,
    read_tsv,
    train,
)
from nlp.normalize import STEPS, normalize  # noqa: E402

LATENCY_ROUNDS = 5

_LOAD_SCRIPT = """
import json, resource, sys, time
began = time.perf_counter()
from pathlib import Path
from nlp import IntentModel
model = IntentModel.load(Path(sys.argv[1]))
model.analyze("سلام، جریمه من چقدره؟")
elapsed = time.perf_counter() - began
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": elapsed, "peak_rss_mb": peak_kb / 1024}))
"""

_HAZM_SCRIPT = """
import json, time
from hazm import InformalNormalizer, Normalizer
began = time.perf_counter(); Normalizer(); normalizer = time.perf_counter() - began
began = time.perf_counter(); InformalNormalizer(); informal = time.perf_counter() - began
print(json.dumps({"normalizer_s": normalizer, "informal_normalizer_s": informal}))
"""


def _run(script: str, *args: str) -> dict[str, float]:
    output = subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return result


def _load_times() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as cache:
        cold = _run(_LOAD_SCRIPT, cache)
        warm = _run(_LOAD_SCRIPT, cache)
    return {
        "load_cold_train_s": round(cold["seconds"], 3),
        "load_cached_s": round(warm["seconds"], 3),
        "peak_rss_mb_cold": round(cold["peak_rss_mb"], 1),
        "peak_rss_mb_cached": round(warm["peak_rss_mb"], 1),
    }


def _latency(model: IntentModel, texts: list[str]) -> dict[str, float]:
    for text in texts[:50]:  # warm-up: first calls pay lazy imports and caches
        model.analyze(text)
    samples = []
    for _ in range(LATENCY_ROUNDS):
        for text in texts:
            began = time.perf_counter()
            model.analyze(text)
            samples.append((time.perf_counter() - began) * 1000)
    return {
        "messages": len(samples),
        "p50_ms": round(percentile(samples, 50), 3),
        "p99_ms": round(percentile(samples, 99), 3),
        "mean_ms": round(sum(samples) / len(samples), 3),
    }


def _quality(model: IntentModel, examples: list[tuple[str, str]], confusions: bool = False) -> dict[str, object]:
    report = evaluate(model, examples)
    result: dict[str, object] = {
        "accuracy": round(report.accuracy, 4),
        "macro_f1": round(report.macro_f1, 4),
        "out_of_scope_recall": round(report.out_of_scope_recall, 4),
        "errors": len(report.errors),
    }
    if confusions:
        result["examples"] = report.total
        result["confusions"] = [f"{gold}->{predicted}: {count}" for gold, predicted, count in report.confusions]
    return result


_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_FATHA = "\u064e"


def careless(text: str) -> str:
    """The same message as a hurried citizen types it (deterministic)."""
    text = text.replace("ی", "ي").replace("ک", "ك").replace("\u200c", " ")
    text = to_ascii_digits(text).translate(_ARABIC_INDIC)
    words = text.split(" ")
    if words and words[0][-1:].isalpha():
        words[0] += words[0][-1] * 3  # سلامممم
    if len(words) > 1 and len(words[1]) > 2:
        words[1] = words[1][0] + "\u0640\u0640" + words[1][1:]  # tatweel
    text = " ".join(words)
    text = text.replace("ه ", "\ufeea ")  # final heh as a presentation form
    return "".join(c + _FATHA if i % 5 == 2 and "\u0627" <= c <= "\u06cc" else c for i, c in enumerate(text))


def out_of_fold(examples: list[tuple[str, str]], steps: tuple[str, ...], folds: int = 5) -> list[tuple[str, str, float]]:
    """(gold, predicted, confidence) of whole-text classification, each by a model not trained on it."""
    seen: dict[str, int] = {}
    fold_of = []
    for intent, _ in examples:
        fold_of.append(seen.get(intent, 0) % folds)
        seen[intent] = seen.get(intent, 0) + 1
    rows: list[tuple[str, str, float]] = []
    for fold in range(folds):
        held = [example for example, f in zip(examples, fold_of, strict=True) if f == fold]
        model = train([example for example, f in zip(examples, fold_of, strict=True) if f != fold], steps)
        probabilities = model.probabilities([normalize(text, steps) for _, text in held])
        rows.extend((intent, model.labels[int(row.argmax())], float(row.max()))
                    for row, (intent, _) in zip(probabilities, held, strict=True))
    return rows


def threshold_sweep(rows: list[tuple[str, str, float]]) -> list[dict[str, float]]:
    """Accuracy and out_of_scope recall if answers under each threshold became out_of_scope."""
    sweep = []
    for threshold in (0.0, 0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6):
        predicted = [(gold, guess if score >= threshold else OUT_OF_SCOPE) for gold, guess, score in rows]
        oos = [guess for gold, guess in predicted if gold == OUT_OF_SCOPE]
        sweep.append({
            "threshold": threshold,
            "accuracy": round(sum(g == p for g, p in predicted) / len(predicted), 4),
            "out_of_scope_recall": round(sum(p == OUT_OF_SCOPE for p in oos) / max(1, len(oos)), 4),
        })
    return sweep


def main() -> None:
    eval_examples = read_tsv(EVAL_FILE)
    held_out = {"holdout": (HOLDOUT_FILE, read_tsv(HOLDOUT_FILE)), "holdout_blind": (BLIND_FILE, read_tsv(BLIND_FILE)),
                "eval_finglish": (FINGLISH_EVAL_FILE, read_tsv(FINGLISH_EVAL_FILE)),
                "holdout_finglish": (FINGLISH_HOLDOUT_FILE, read_tsv(FINGLISH_HOLDOUT_FILE))}
    train_examples = read_tsv(TRAIN_FILE)
    # Many messages of many shapes: the evaluation, held-out and training texts, two-question joins.
    texts = [t for _, t in eval_examples] + [t for _, (_, pairs) in held_out.items() for _, t in pairs]
    texts += [t for _, t in train_examples]
    texts += [f"{a} و {b}" for a, b in zip(texts[::7], texts[3::7], strict=False)]

    result: dict[str, object] = {"eval_file": str(EVAL_FILE.relative_to(ROOT)), "eval_examples": len(eval_examples),
                                 "train_examples": len(train_examples)}
    with tempfile.TemporaryDirectory() as cache:
        model = IntentModel.load(Path(cache))
        result.update(_quality(model, eval_examples))
        for name, (path, examples) in held_out.items():
            result[name] = {"file": str(path.relative_to(ROOT)), **_quality(model, examples, confusions=True)}
        result["confidence_threshold"] = CONFIDENCE_THRESHOLD
        result["latency"] = _latency(model, texts)
        result.update(_load_times())

        pipeline_rows = []
        # Each prefix of the pipeline after the Finglish step (fold alone is the first), then the whole
        # pipeline without the Finglish step: the last two rows compare it side by side.
        prefixes = [("finglish", *STEPS[1:count]) for count in range(2, len(STEPS) + 1)]
        for steps in [*prefixes, STEPS[1:]]:
            began = time.perf_counter()
            ablated = IntentModel(load_or_train(Path(cache), steps))
            train_s = time.perf_counter() - began
            row: dict[str, object] = {"steps": "+".join(steps), "train_s": round(train_s, 2)}
            row.update(_quality(ablated, eval_examples))
            noisy = _quality(ablated, [(intent, careless(text)) for intent, text in eval_examples])
            row.update({f"careless_{k}": v for k, v in noisy.items()})
            row.update({f"holdout_{k}": v for k, v in _quality(ablated, held_out["holdout"][1]).items()})
            row.update({f"holdout_finglish_{k}": v
                        for k, v in _quality(ablated, held_out["holdout_finglish"][1]).items()})
            oof = out_of_fold(train_examples, steps)
            row["train_cv_accuracy"] = round(sum(g == p for g, p, _ in oof) / len(oof), 4)
            if steps == STEPS:
                result["train_cv_threshold_sweep"] = threshold_sweep(oof)
            row.update({f"latency_{k}": v for k, v in _latency(ablated, texts[:600]).items() if k != "messages"})
            pipeline_rows.append(row)
        result["pipeline"] = pipeline_rows
        result["without_hazm"] = pipeline_rows[0]
    result["hazm_reference_construct_s"] = {k: round(v, 3) for k, v in _run(_HAZM_SCRIPT).items()}
    result["targets"] = {"accuracy": ">= 0.95", "out_of_scope_recall": ">= 0.85", "p99_ms": "< 5",
                         "load_cached_s": "< 2", "applies_to": "eval, holdout and holdout_blind alike",
                         "finglish": {"holdout_accuracy": ">= 0.95", "holdout_out_of_scope_recall": ">= 0.90",
                                      "persian_script_sets": "no loss against the model without the Finglish step"}}
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
