"""Finglish (Persian typed in Latin letters) to Persian script, so the one pipeline understands it.

Many citizens type Persian in Latin letters on phones without a Persian keyboard («jarime man
chande?», «mohlat eteraz key tamoom mishe»). A text whose letters are mostly Latin is rewritten word
by word before normalisation:

1. digits, punctuation and Persian-script words stay as they are;
2. English words citizens type as English («help», «menu», «ok», «case status») stay too, so the
   English examples the model already knows keep working;
3. this domain's words and the colloquial forms that matter for it come from a small table with
   their usual spellings (jarime/jarimeh, eteraz/etiraz, mohlat, komision, eblaghiye...), also
   with a possessive or object suffix (jarimam, parvandamo, mohlatesh);
4. anything else goes to the `finglish` package (dictionary- and frequency-based, offline), one
   word at a time, cached.

The `finglish` package reads a 400,000-word frequency list (~2.5 s, ~130 MB, ~50 MB once pruned)
and prints while it loads; it is imported only when the first Finglish text arrives (or by `warm_up`), with its output
silenced, since `eblagh nlp classify` owns standard output.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import io
import re
import threading
from collections.abc import Callable
from functools import cache, lru_cache
from types import MappingProxyType
from typing import Any

# A text is Finglish when at least this share of its letters is Latin (and it has at least two).
LATIN_SHARE = 0.6
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_LATIN_LETTER = re.compile(r"[A-Za-z]")
_MIN_FREQUENCY = 3
_LATIN_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*")

# English words citizens type as English; kept so «case status» or «thx» read as before. Words that
# are also Finglish (in = این, to = تو, do = دو, man = من) are not here.
ENGLISH = frozenset((
    "a", "about", "account", "address", "agent", "amount", "and", "appeal", "are", "at", "atm", "bot",
    "bye", "can", "case", "commands", "contact", "date", "deadline", "does", "english", "faq", "fine",
    "for", "good", "hearing", "hello", "help", "hey", "hi", "how", "i", "inbox", "is", "it", "joke",
    "link", "log", "login", "logout", "me", "menu", "morning", "much", "my", "name", "night", "no",
    "notice", "notices", "number", "of", "ok", "okay", "operator", "pay", "payment", "person", "phone",
    "please", "real", "ruling", "sign", "start", "status", "talk", "test", "thank", "thanks", "the",
    "there", "this", "thx", "verdict", "weather", "what", "where", "who", "why", "with", "world", "yes",
    "you", "your",
))

# This field's words and the colloquial forms around them, by their usual Latin spellings.
_DOMAIN: dict[str, tuple[str, ...]] = {
    "جریمه": ("jarime", "jarimeh", "jarima", "jarimeye", "jarimeie", "jarime'i"),
    "اعتراض": ("eteraz", "etiraz", "etraz", "eterazz", "e'teraz", "eetraz", "etteraz"),
    "پرونده": ("parvande", "parvandeh", "parvanda", "parvendeh", "parvende", "parvandeye"),
    "مهلت": ("mohlat", "mohlate", "mohlet", "mehlat"),
    "کمیسیون": ("komision", "komisione", "komisyon", "kommission", "commission", "komission", "comision",
                "komisiun"),
    "ابلاغیه": ("eblaghiye", "eblaghiyeh", "eblaghie", "eblaghieh", "eblaghiyye", "eblaqiye", "eblaghiya"),
    "ابلاغ": ("eblagh", "eblaq", "eblag"),
    "کارشناس": ("karshenas", "karshnas", "kaarshenaas", "karshenass"),
    "تجدیدنظر": ("tajdidnazar", "tajdid-nazar", "tajdidenazar"),
    "تجدید": ("tajdid",),
    "نظر": ("nazar",),
    "شهرداری": ("shahrdari", "shahrdary", "shardari", "shahrdaari"),
    "منطقه": ("mantaghe", "mantaqe", "mantaghe'", "mantagheh", "mantaqeh"),
    "رای": ("ray", "raye", "rai", "ra'y", "ra'ye", "raay"),
    "حکم": ("hokm", "hokme"),
    "جلسه": ("jalase", "jalaseh", "jalasa", "jalaseye", "jalse"),
    "رسیدگی": ("rasidegi", "rasidgi", "residegi"),
    "پرداخت": ("pardakht", "pardakhte", "pardaxt"),
    "قسط": ("ghest", "qest"),
    "اقساط": ("aghsat", "aqsat"),
    "واریز": ("variz",),
    "ساختمان": ("sakhteman", "sakhtemaan", "saxteman"),
    "ساختمون": ("sakhtemoon", "sakhtemun"),
    "تخریب": ("takhrib", "taxrib"),
    "قلع": ("ghal", "qal", "gha'l"),
    "بنا": ("bana",),
    "دیوان": ("divan", "diwan"),
    "عدالت": ("edalat", "adalat"),
    "اداری": ("edari",),
    "شکایت": ("shekayat", "shekayet", "shekaiat"),
    "ماده": ("madde", "made", "maade", "madeh", "maddeh"),
    "صد": ("sad",),
    "دبیرخانه": ("dabirkhane", "dabirkhaneh", "dabirxane", "dabirkhoone"),
    "پشتیبان": ("poshtiban", "poshtibaan"),
    "پشتیبانی": ("poshtibani",),
    "اپراتور": ("operator", "oprator", "operatur", "aperator"),
    "کد": ("kod", "code", "cod"),
    "ملی": ("melli", "meli", "mellie"),
    "کدملی": ("kodmelli", "kodmeli", "codemeli", "codmelli"),
    "ورود": ("vorood", "vorud", "vurud"),
    "خروج": ("khorooj", "khoruj", "xorooj"),
    "حساب": ("hesab", "hesaab"),
    "موبایل": ("mobile", "mobail", "mobayl"),
    "شماره": ("shomare", "shomareh", "shomareye", "shomara"),
    "تلفن": ("telefon", "telephone", "telfon"),
    "آدرس": ("adres", "adress", "aadres"),
    "تماس": ("tamas", "tamaas"),
    "مراجعه": ("moraje'e", "morajee", "moraje", "morajeh", "moraaje'e"),
    "تومان": ("toman", "tomaan", "tomen", "tomn"),
    "ریال": ("rial", "riyal", "ryal"),
    "هزار": ("hezar", "hezaar", "hazar"),
    "میلیون": ("million", "milion", "milyon", "milioun", "melyoon", "melyun", "milyun", "mil"),
    "میلیارد": ("milliard", "miliard", "milyard", "melyard"),
    "سلام": ("salam", "salaam", "slm", "sallam", "salamm"),
    "مرسی": ("mersi", "merci", "merc", "mrc", "mersii"),
    "ممنون": ("mamnoon", "mamnun", "mamnoun", "mmnon"),
    "ممنونم": ("mamnoonam", "mamnunam"),
    "راهنما": ("rahnama", "raahnamaa"),
    "راهنمایی": ("rahnamayi", "rahnamaei", "rahnamaii", "rahnamaee"),
    "چنده": ("chande", "chandeh", "chand'e"),
    "چند": ("chand", "chan"),
    "چقدر": ("cheghadr", "cheqadr", "cheghad", "chegadr", "chghadr"),
    "چقدره": ("cheghadre", "cheqadre", "chegadre", "cheghadreh"),
    "کی": ("key", "kei", "kay"),
    "کیه": ("kie", "kiye", "kaye"),
    "تموم": ("tamoom", "tamum", "tamom", "tamoum"),
    "تمام": ("tamam", "tamaam"),
    "میشه": ("mishe", "misheh", "mishah"),
    "نمیشه": ("nemishe", "nemisheh"),
    "میخوام": ("mikham", "mikhaam", "mixam", "mikhom"),
    "چیه": ("chie", "chiye", "chiyeh"),
    "چی": ("chi",),
    "کجا": ("koja", "kojaa", "koja'"),
    "کجاست": ("kojast", "kojaast"),
    "چطور": ("chetor", "chetour", "chtor"),
    "چطوری": ("chetori", "chetoori", "chejoori", "chejuri"),
    "بده": ("bede",),
    "بدم": ("bedam",),
    "بدید": ("bedid", "bedin"),
    "وقت": ("vaght", "vaqt", "vakht"),
    "تاریخ": ("tarikh", "tarix"),
    "ساعت": ("saat", "sa'at", "saate"),
    "روز": ("rooz", "ruz", "roz", "rouz"),
    "هنوز": ("hanooz", "hanuz"),
    "آخرین": ("akharin", "aakharin"),
    "با": ("ba",),
    "به": ("be",),
    "از": ("az",),
    "تا": ("ta",),
    "من": ("man",),
    "و": ("va", "o"),
    "یه": ("ye", "yek"),
}
# Suffixes a domain word may carry: possessive, object marker, plural (longest first).
_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("hamo", "هامو"), ("haye", "های"), ("hay", "های"), ("ha", "ها"),
    ("amo", "مو"), ("am", "م"), ("at", "ت"), ("esh", "ش"), ("ash", "ش"), ("mo", "مو"), ("ro", "رو"),
    ("m", "م"), ("o", "و"),
)


@cache
def _domain_table() -> MappingProxyType[str, str]:
    table: dict[str, str] = {}
    for persian, spellings in _DOMAIN.items():
        for spelling in spellings:
            table.setdefault(spelling, persian)
    return MappingProxyType(table)


def is_finglish(text: str) -> bool:
    """True when most of the letters are Latin: Persian typed on a Latin keyboard (or English)."""
    letters = _LETTER.findall(text)
    if len(letters) < 2:
        return False
    latin = sum(1 for letter in letters if _LATIN_LETTER.match(letter))
    return latin / len(letters) >= LATIN_SHARE


def to_persian(text: str) -> str:
    """Each Latin word of a Finglish text in Persian script; other texts unchanged."""
    if not is_finglish(text):
        return text
    return _LATIN_WORD.sub(lambda match: transliterate_word(match.group()), text)


def transliterate_with_offsets(text: str) -> tuple[str, list[int], list[int]]:
    """`text` with its Latin words in Persian script, and for each character of the result the span
    [starts[i], ends[i]) of the original it came from (a whole word for a transliterated word)."""
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    position = 0
    for match in _LATIN_WORD.finditer(text):
        pieces.append(text[position:match.start()])
        starts.extend(range(position, match.start()))
        ends.extend(range(position + 1, match.start() + 1))
        word = transliterate_word(match.group())
        pieces.append(word)
        starts.extend([match.start()] * len(word))
        ends.extend([match.end()] * len(word))
        position = match.end()
    pieces.append(text[position:])
    starts.extend(range(position, len(text)))
    ends.extend(range(position + 1, len(text) + 1))
    return "".join(pieces), starts, ends


@lru_cache(maxsize=20_000)
def transliterate_word(word: str) -> str:
    lowered = word.lower()
    if lowered in ENGLISH:
        return word
    domain = _domain_word(lowered)
    if domain is not None:
        return domain
    return _package_word()(lowered)


def _domain_word(word: str) -> str | None:
    table = _domain_table()
    if word in table:
        return table[word]
    for suffix, persian_suffix in _SUFFIXES:
        stem = word[: -len(suffix)]
        if word.endswith(suffix) and len(stem) >= 3 and stem in table:
            return _join(table[stem], persian_suffix)
        # jarimam = jarime + m: the stem's final e dropped before the suffix vowel
        if word.endswith(suffix) and len(stem) >= 3 and stem + "e" in table:
            return _join(table[stem + "e"], persian_suffix)
    return None


def _join(stem: str, suffix: str) -> str:
    # After a final silent ه (جریمه) the possessive takes a half-space: جریمه‌م.
    return f"{stem}\u200c{suffix}" if stem.endswith("ه") else stem + suffix


def warm_up() -> None:
    """Load the `finglish` package now rather than on the first Finglish message."""
    _package_word()


def warm_up_in_background() -> None:
    """Load it in a daemon thread: start-up is not delayed, and the first Finglish message rarely waits.

    A message that needs it before the thread is done waits on Python's import lock, not twice.
    """
    threading.Thread(target=warm_up, name="finglish-warm-up", daemon=True).start()


_LOAD_LOCK = threading.Lock()


def _package_word() -> Callable[[str], str]:
    with _LOAD_LOCK:  # the warm-up thread and a message may ask at once: load and prune once
        return _load_package()


@cache
def _load_package() -> Callable[[str], str]:
    with contextlib.redirect_stdout(io.StringIO()):  # it prints "Loading ..." while importing
        package: Any = importlib.import_module("finglish.f2p")
    # Its frequency list ranks candidate spellings. Words seen fewer than 3 times in its corpus (two
    # thirds of 406,000) never win a ranking that matters here; dropping them saves ~80 MB.
    package.word_freq = {word: count for word, count in package.word_freq.items() if count >= _MIN_FREQUENCY}
    gc.collect()

    def best(word: str) -> str:
        result: str = package.f2p_word(word)[0][0] if word else word
        return result

    return best
