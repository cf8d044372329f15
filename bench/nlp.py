"""Benchmark of the intent model; prints ONE JSON object.

- quality on nlp/data/eval.tsv (never trained on): accuracy, macro-F1, out_of_scope recall;
- latency of `IntentModel.analyze` per message (p50, p99, mean) over many messages;
- load time in a fresh interpreter, imports included: cold (train) and from the cache;
- peak RSS of that fresh interpreter (resource.getrusage: the kernel's high-water mark);
- the same model trained and evaluated with each prefix of the normalisation pipeline
  (fold only = no hazm, + hazm, + spacing, + informal), so the value of each step shows;
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

from nlp.evaluation import evaluate, percentile  # noqa: E402
from nlp.intents import IntentModel  # noqa: E402
from nlp.model import EVAL_FILE, TRAIN_FILE, load_or_train, read_tsv  # noqa: E402
from nlp.normalize import STEPS  # noqa: E402

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


def _quality(model: IntentModel, examples: list[tuple[str, str]]) -> dict[str, object]:
    report = evaluate(model, examples)
    return {
        "accuracy": round(report.accuracy, 4),
        "macro_f1": round(report.macro_f1, 4),
        "out_of_scope_recall": round(report.out_of_scope_recall, 4),
        "errors": len(report.errors),
    }


def main() -> None:
    eval_examples = read_tsv(EVAL_FILE)
    train_examples = read_tsv(TRAIN_FILE)
    # Many messages of many shapes: the evaluation and training texts, and two-question joins.
    texts = [t for _, t in eval_examples] + [t for _, t in train_examples]
    texts += [f"{a} و {b}" for a, b in zip(texts[::7], texts[3::7], strict=False)]

    result: dict[str, object] = {"eval_file": str(EVAL_FILE.relative_to(ROOT)), "eval_examples": len(eval_examples),
                                 "train_examples": len(train_examples)}
    with tempfile.TemporaryDirectory() as cache:
        model = IntentModel.load(Path(cache))
        result.update(_quality(model, eval_examples))
        result["latency"] = _latency(model, texts)
        result.update(_load_times())

        pipeline_rows = []
        for count in range(1, len(STEPS) + 1):
            steps = STEPS[:count]
            began = time.perf_counter()
            ablated = IntentModel(load_or_train(Path(cache), steps))
            train_s = time.perf_counter() - began
            row: dict[str, object] = {"steps": "+".join(steps), "train_s": round(train_s, 2)}
            row.update(_quality(ablated, eval_examples))
            row.update({f"latency_{k}": v for k, v in _latency(ablated, texts[:600]).items() if k != "messages"})
            pipeline_rows.append(row)
        result["pipeline"] = pipeline_rows
        result["without_hazm"] = pipeline_rows[0]
    result["hazm_reference_construct_s"] = {k: round(v, 3) for k, v in _run(_HAZM_SCRIPT).items()}
    result["targets"] = {"accuracy": ">= 0.95", "out_of_scope_recall": ">= 0.85", "p99_ms": "< 5",
                         "load_cached_s": "< 2"}
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
