"""Build `nlp/data/hazm_normalizer.json` from hazm's Normalizer (run by hand, not at runtime).

The ``hazm`` normalisation step uses only hazm's table-driven parts: its character translation table
and three lists of (pattern, replacement) rules (diacritics, unicode replacements, special marks).
Importing hazm to read them costs ~140 MB of memory in every process that understands text (hazm
brings nltk and scikit-learn along), so they are kept here as data; tests/nlp/test_hazm_tables.py
checks the file still equals what the installed hazm has:

    .venv/bin/python -m nlp.make_hazm_tables
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).parent / "data" / "hazm_normalizer.json"


def build() -> dict[str, Any]:
    from hazm import Normalizer  # heavy: only here

    # The options nlp.normalize has always used: only the table-driven steps.
    normalizer = Normalizer(correct_spacing=False, decrease_repeated_chars=False, seperate_mi=False,
                            persian_style=False, persian_numbers=False)
    return {
        "translation_src": normalizer.translation_src,
        "translation_dst": normalizer.translation_dst,
        "diacritics": [list(rule) for rule in normalizer.diacritics_patterns],
        "unicodes": [list(rule) for rule in normalizer.replacements],
        "specials": [list(rule) for rule in normalizer.specials_chars_patterns],
    }


def main() -> None:
    OUTPUT.write_text(json.dumps(build(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
