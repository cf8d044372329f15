"""`eblagh nlp classify` and `eblagh nlp eval`: the intent model on the command line.

    echo "جریمه من چقدره؟" | eblagh nlp classify
    eblagh nlp eval nlp/data/eval.tsv [--json] [--sweep]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    """Add `nlp` with its `classify` and `eval` subcommands."""
    parser = subparsers.add_parser("nlp", help="classify citizen messages (intents, entities)")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="where the trained model is cached (default: $XDG_CACHE_HOME/eblagh)")
    parser.add_argument("--no-cache", action="store_true", help="train in memory, write no cache")
    commands = parser.add_subparsers(dest="nlp_command", required=True)

    classify = commands.add_parser("classify", help="one message a line on stdin -> one JSON line each")
    classify.add_argument("--parts", action="store_true", help="also print the parts and top intents")
    classify.set_defaults(func=_classify)

    evaluate = commands.add_parser("eval", help="accuracy, macro-F1, confusions, latency on a TSV")
    evaluate.add_argument("file", type=Path, help="intent<TAB>text lines")
    evaluate.add_argument("--json", action="store_true", help="one JSON object instead of text")
    evaluate.add_argument("--sweep", action="store_true", help="also try confidence thresholds")
    evaluate.set_defaults(func=_eval)


def _cache_dir(args: argparse.Namespace) -> Path | None:
    if args.no_cache:
        return None
    if args.cache_dir is not None:
        return Path(args.cache_dir)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "eblagh"


def _load(args: argparse.Namespace) -> Any:
    from nlp import IntentModel

    return IntentModel.load(_cache_dir(args))


def _classify(args: argparse.Namespace) -> int:
    model = _load(args)
    try:
        for line in sys.stdin:
            text = line.rstrip("\r\n")
            result = model.analyze(text).as_dict()
            if not args.parts:
                result.pop("parts")
            sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
            sys.stdout.flush()  # a pipe reader sees each answer as soon as it is ready
    except BrokenPipeError:  # the reader (e.g. `head`) has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _eval(args: argparse.Namespace) -> int:
    from nlp import IntentModel
    from nlp.evaluation import evaluate
    from nlp.model import read_tsv

    try:
        examples = read_tsv(args.file)
    except (OSError, ValueError) as error:
        print(f"eblagh nlp eval: {error}", file=sys.stderr)
        return 2
    if not examples:
        print(f"eblagh nlp eval: {args.file}: no examples", file=sys.stderr)
        return 2
    model = _load(args)
    report = evaluate(model, examples)
    sweep = []
    if args.sweep:
        for threshold in (0.1, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7):
            swept = evaluate(IntentModel(model.classifier, threshold), examples)
            sweep.append({"threshold": threshold, "accuracy": round(swept.accuracy, 4),
                          "out_of_scope_recall": round(swept.out_of_scope_recall, 4)})
    if args.json:
        output = report.as_dict()
        if sweep:
            output["sweep"] = sweep
        print(json.dumps(output, ensure_ascii=False))
        return 0
    print(f"examples   {report.total}")
    print(f"accuracy   {report.accuracy:.4f}")
    print(f"macro-F1   {report.macro_f1:.4f}")
    print(f"out_of_scope recall {report.out_of_scope_recall:.4f}")
    print(f"latency    p50 {report.latency_ms_p50:.2f} ms, p99 {report.latency_ms_p99:.2f} ms")
    for script, score in report.by_script.items():
        print(f"{script:<10} {score.total} examples, accuracy {score.accuracy:.4f}, "
              f"out_of_scope recall {score.out_of_scope_recall:.4f}")
    if report.confusions:
        print("confusions (gold -> predicted: count)")
        for gold, predicted, count in report.confusions:
            print(f"  {gold} -> {predicted}: {count}")
        print("errors")
        for gold, predicted, text in report.errors:
            print(f"  [{gold} -> {predicted}] {text}")
    for row in sweep:
        print(f"threshold {row['threshold']:.2f}: accuracy {row['accuracy']:.4f}, "
              f"out_of_scope recall {row['out_of_scope_recall']:.4f}")
    return 0
