"""Text normalisation for classification: one canonical spelling for the many ways citizens type.

The pipeline is a sequence of named steps so the benchmark can switch each one off:

- ``finglish``: a text typed mostly in Latin letters is Persian in Latin letters (or English):
  its Latin words are written in Persian script (nlp.finglish), English words kept.
- ``fold``: Persian/Arabic-Indic digits to ASCII, Arabic ي/ك to Persian, lower case (nlp.digits).
- ``hazm``: hazm's Normalizer for what it does well and cheaply: Arabic presentation forms and rare
  letter variants, diacritics, special marks, ligatures (its tables, kept as data: hazm itself is
  not imported at run time). Its spacing, "mi"-separation and repeat
  fixes need word lists that take ~1 s to load, so they are off; ``spacing`` does the part we need.
- ``spacing``: canonical tokens: punctuation split off, elongations (سلامممم, ـــ) collapsed, the
  prefix می/نمی and the suffixes ها/های/ام/... joined to their word with a half-space whether the
  citizen typed a space, a half-space or nothing.
- ``informal``: colloquial forms to formal ones (میخوام → می‌خواهم, تموم → تمام), from a table
  precomputed from hazm's shipped informal data by ``nlp/make_informal.py`` (hazm's
  InformalNormalizer itself takes ~4.5 s to construct).

Entities are extracted from the original text, never from this output: the steps move characters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path
from types import MappingProxyType

from nlp.digits import fold
from nlp.finglish import to_persian

ZWNJ = "\u200c"
STEPS: tuple[str, ...] = ("finglish", "fold", "hazm", "spacing", "informal")

_INFORMAL_FILE = Path(__file__).parent / "data" / "informal.tsv"
_HAZM_FILE = Path(__file__).parent / "data" / "hazm_normalizer.json"
# Words, with half-spaces inside; everything else that is not a space is a one-character token.
_TOKEN = re.compile(r"[^\W_]+(?:\u200c+[^\W_]+)*|[^\s\u200c]", re.UNICODE)
_ELONGATION = re.compile(r"(\D)\1{2,}")
_TATWEEL = re.compile("\u0640+")
_PREFIXES = frozenset({"می", "نمی"})
_SUFFIXES = frozenset({"ها", "های", "هایی", "هایم", "هایت", "هایش", "ام", "ات", "اش", "ایم", "اید", "اند",
                       "تر", "ترین"})
# Invisible marks citizens' keyboards leave behind (LRM/RLM, ZWJ, BOM, bidi controls).
_INVISIBLE = re.compile("[\u200b\u200d-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


@cache
def _informal_table() -> Mapping[str, str]:
    """The colloquial→formal table (read once; read-only)."""
    table: dict[str, str] = {}
    for line in _INFORMAL_FILE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("\t")
            table[key] = value
    return MappingProxyType(table)


class _HazmTables:
    """hazm's Normalizer restricted to its table-driven steps, in hazm's order.

    The translation table and the rules are hazm's own, kept as data (nlp/data/hazm_normalizer.json,
    written by nlp/make_hazm_tables.py and checked against hazm by a test): importing hazm to read them
    costs ~140 MB in every process that normalises text. The table is built and the patterns compiled
    once (hazm rebuilt its 300-entry table on every call, most of its cost).
    """

    def __init__(self) -> None:
        data = json.loads(_HAZM_FILE.read_text(encoding="utf-8"))
        # As hazm.utils.maketrans: a later duplicate source letter wins.
        self._table = {ord(a): b for a, b in zip(data["translation_src"], data["translation_dst"], strict=True)}
        self._rules = [(re.compile(pattern), replacement)
                       for group in ("diacritics", "unicodes", "specials") for pattern, replacement in data[group]]

    def __call__(self, text: str) -> str:
        text = text.translate(self._table)
        for pattern, replacement in self._rules:
            text = pattern.sub(replacement, text)
        return text


@cache
def _hazm_tables() -> _HazmTables:
    """Built once per process (read-only afterwards)."""
    return _HazmTables()


def _fold(text: str) -> str:
    return fold(text).lower()


def _hazm(text: str) -> str:
    return _hazm_tables()(text)


def _spacing(text: str) -> str:
    text = _INVISIBLE.sub("", _TATWEEL.sub("", text))
    text = _ELONGATION.sub(r"\1", text)
    tokens: list[str] = []
    for match in _TOKEN.finditer(text):
        token = re.sub("\u200c+", ZWNJ, match.group())
        if tokens and (tokens[-1] in _PREFIXES or token in _SUFFIXES) and tokens[-1][-1:].isalpha() \
                and token[:1].isalpha() and not tokens[-1].isascii():
            tokens[-1] = tokens[-1] + ZWNJ + token
        else:
            tokens.append(token)
    return " ".join(tokens)


def _informal(text: str) -> str:
    table = _informal_table()
    return " ".join(table.get(token.replace(ZWNJ, ""), token) for token in text.split(" "))


_STEP_FUNCTIONS: Mapping[str, Callable[[str], str]] = MappingProxyType(
    {"finglish": to_persian, "fold": _fold, "hazm": _hazm, "spacing": _spacing, "informal": _informal}
)


def normalize(text: str, steps: Sequence[str] = STEPS) -> str:
    """Canonical form of `text` for matching and classification (tokens separated by one space).

    Idempotent: normalize(normalize(t)) == normalize(t). `steps` selects pipeline steps (for the
    benchmark); unknown names raise ValueError.
    """
    unknown = set(steps) - set(STEPS)
    if unknown:
        raise ValueError(f"unknown normalisation steps: {sorted(unknown)}")
    for name in STEPS:  # always in pipeline order, whatever order `steps` lists them in
        if name in steps:
            text = _STEP_FUNCTIONS[name](text)
    return text.strip()


def features_text(normalized: str) -> str:
    """What the classifier sees: half-spaces dropped (so پرونده‌ام = پروندهام), digits as 0."""
    return re.sub(r"\d", "0", normalized.replace(ZWNJ, ""))
