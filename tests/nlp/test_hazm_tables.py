"""The `hazm` normalisation step runs on hazm's tables kept as data: they must stay hazm's, exactly."""

from __future__ import annotations

import json

from nlp.make_hazm_tables import OUTPUT, build
from nlp.model import DATA_DIR, read_tsv
from nlp.normalize import _hazm


def test_the_kept_tables_are_the_installed_hazms() -> None:
    assert json.loads(OUTPUT.read_text(encoding="utf-8")) == build()


def test_the_step_writes_what_hazms_normalizer_writes() -> None:
    from hazm import Normalizer, maketrans

    normalizer = Normalizer(correct_spacing=False, decrease_repeated_chars=False, seperate_mi=False,
                            persian_style=False, persian_numbers=False)
    table = maketrans(normalizer.translation_src, normalizer.translation_dst)

    def hazms(text: str) -> str:
        text = normalizer.remove_diacritics(text.translate(table))
        return normalizer.remove_specials_chars(normalizer.unicodes_replacement(text))

    texts = [text for path in sorted(DATA_DIR.glob("*.tsv")) if path.name != "informal.tsv"
             for _, text in read_tsv(path)]
    texts += ["پیامبر اکرم ﷺ", "۱۰۰ ﷼", "قَلباً مُتشکّرم", "ﻣﻬﻠﺖ اﻋﺘﺮاﺿﻢ", "كيك عربي", "ـــ سلام ـــ", "ﷲ"]
    assert len(texts) > 1000
    different = [(text, _hazm(text), hazms(text)) for text in texts if _hazm(text) != hazms(text)]
    assert different == []
