"""Follow-up questions: which case, and which question, a message that leans on the previous turn is about.

Two kinds of leaning:
- a case question that names no case, after a turn about one case, is about that case
  («مهلتش کی تموم میشه؟» after «جریمه پرونده ۱۴۰۳۰۵۱۲۳۴ چقدره؟»);
- an elliptical message borrows the previous question: «و مهلتش؟» asks the deadline of the same case,
  «اون یکی چی؟» asks the previous question about the citizen's other case, «پرونده ۱۴۰۳۰۵۹۹۹۹ چی؟»
  asks it about that case.

A message is elliptical when it is short (at most MAX_WORDS words) and made only of connectives,
question words, case references (a number, «پرونده», «اون یکی», «پرونده دیگه») and at most one topic
(«مهلت», «جریمه‌اش», «جلسش»), and something in it leans back: a leading «و», a pronoun suffix, a case
reference. Read this way, not by the model's confidence alone, because the model is sure of the
wrong thing on some of them («اون یکی چی؟» reads as a request for a human). Anything longer or with
other words is a question of its own: the context then only supplies the case, and only when the
message names none and does not ask about all cases («وضعیت همه پرونده‌هام چیه؟»).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from nlp.digits import to_ascii_digits
from services.cases import CaseView, CitizenOverview
from services.conversation.followups import CaseContext

MAX_WORDS = 6

# A topic word names the question; a colloquial form drops the final ه before a suffix (جلسش, جریمش).
_TOPICS: dict[str, tuple[str, ...]] = {
    "appeal_deadline": ("مهلت", "اعتراض", "تجدیدنظر"),
    "fine_amount": ("جریمه", "مبلغ"),
    "payment": ("پرداخت", "قسط", "واریز"),
    "hearing_date": ("جلسه", "رسیدگی", "نوبت"),
    "ruling": ("رای", "حکم"),
    "case_status": ("وضعیت", "وضع"),
}
_CASE_QUESTIONS = frozenset(_TOPICS)  # the six questions answered from a case
_SUFFIXES = ("", "ش", "اش", "م", "ام", "ت", "ات", "شو", "مو", "ی")
_PRONOUNS = frozenset({"ش", "اش", "شو", "اشو", "ش؟"})
_OTHER = frozenset({"دیگه", "دیگر", "دیگری", "دیگم", "دیگرم", "دیگمه", "دیگش", "دیگرش", "دیگهام", "دیگهم"})
_THAT = frozenset({"اون", "آن", "ان"})
_ALL = frozenset({"ها", "هام", "هاش", "هامو", "های", "هایم", "همه", "همش", "همشون", "هردو", "کدوم", "کدام", "کدومش"})
_FILLER = frozenset({
    "و", "چی", "چیه", "چیست", "چطور", "چطوره", "چطوری", "چه", "چند", "چنده", "چقدر", "چقدره", "کی", "کیه",
    "کجا", "اون", "آن", "ان", "این", "یکی", "یکیش", "هم", "همین", "رو", "را", "خب", "خوب", "پس", "اونم", "اینم",
    "اونو", "من", "مال", "برای", "واسه", "درباره", "شماره", "بود", "هست", "هستش", "است", "شد", "؟",
})
_FOLD = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "أ": "ا", "إ": "ا", "ۀ": "ه", "ة": "ه", "\u200c": " "})
_MARKS = re.compile(r"[\u064b-\u065f\u0670]|[?؟!.,،؛;:()«»\"'\-]")


@dataclass(frozen=True)
class Reading:
    elliptical: bool
    topic: str | None  # the question a lone topic word names, when elliptical
    refers_back: bool  # «مهلتش», «جریمه‌اش», «این یکی»: "its", about the last case whatever it holds
    other_case: bool  # «اون یکی», «پرونده دیگه»
    all_cases: bool  # «پرونده‌هام», «همه», «کدوم»: about every case, not the last one


def read(text: str) -> Reading:
    words = _MARKS.sub(" ", to_ascii_digits(text).translate(_FOLD)).split()
    other = _other_case(words)
    every = any(w in _ALL or w.startswith(("پروندهها", "پروندها")) for w in words)
    this_one = _this_one(words)
    topics: set[str] = set()
    refers_back = this_one
    leans = bool(words) and (words[0] == "و" or other or this_one)
    own_words = False  # a word that is none of the above: the message is a question of its own
    for word in words:
        if word.isdigit() or word in _FILLER or word in _OTHER:
            leans = leans or word.isdigit()
        elif word in _PRONOUNS:
            leans = refers_back = True
        elif _is_case_word(word):
            leans = True  # «پرونده ... چی؟»
            refers_back = refers_back or word.endswith("ش")  # «پروندش»
        else:
            topic, pronoun = _topic(word)
            if topic is None:
                own_words = True
                continue
            topics.add(topic)
            leans = leans or pronoun
            refers_back = refers_back or pronoun
    elliptical = leans and not own_words and len(words) <= MAX_WORDS and len(topics) <= 1 and not every
    if not elliptical:
        return Reading(False, None, refers_back and not every, other, every)
    if not topics and "شد" in words:
        topics.add("case_status")  # «پروندم چی شد؟» asks where the case stands, whatever came before
    return Reading(True, next(iter(topics), None), refers_back, other, every)


def _topic(word: str) -> tuple[str | None, bool]:
    """The question a topic word names, and whether it carries a pronoun («مهلتش»: yes)."""
    for intent, stems in _TOPICS.items():
        for stem in stems:
            forms = [stem] + ([stem[:-1]] if stem.endswith("ه") else [])
            for form in forms:
                if word.startswith(form) and word[len(form):] in _SUFFIXES and (form == stem or word != form):
                    return intent, word[len(form):] in ("ش", "اش", "شو")
    return None, False


def _is_case_word(word: str) -> bool:
    """«پرونده», «پرونده‌ام» (folded to two words), «پروندم», «پروندش», «کلاسه»."""
    return (word in ("پرونده", "کلاسه") or (word.startswith("پرونده") and word[6:] in _SUFFIXES)
            or (word.startswith("پروند") and word[5:] in ("م", "ش", "ت", "مو", "شو")))


def _this_one(words: Sequence[str]) -> bool:
    return any(before == "این" and word.startswith("یکی") for before, word in zip(words, words[1:], strict=False))


def _other_case(words: Sequence[str]) -> bool:
    for before, word in zip(words, words[1:], strict=False):
        if before in _THAT and word.startswith("یکی"):
            return True
        if word in _OTHER and (before.startswith("یکی") or _is_case_word(before)):
            return True
    return False


@dataclass(frozen=True)
class Plan:
    """What the case questions of one message are about."""

    intents: list[str]
    among: tuple[CaseView, ...] | None  # the cases to answer about; None: as if there were no context
    leans: bool = False  # elliptical or "its": bound to `among` even where it has nothing to say

    def cases_for(self, intent: str, relevant: Callable[[str, CaseView], bool]) -> tuple[CaseView, ...] | None:
        """The cases one question is about. A question of its own («جریمه‌ام چقدره؟») that the last
        case cannot answer (it has no ruling yet) is about all the cases; «و جریمه‌اش؟» stays on it."""
        if self.among is None or self.leans or any(relevant(intent, case) for case in self.among):
            return self.among
        return None


def plan(text: str, intents: list[str], case_numbers: Sequence[str], context: CaseContext | None,
         overview: CitizenOverview | None) -> Plan:
    """Apply the chat's context to one message's understood intents and named cases."""
    if overview is None or not overview.cases:
        return Plan(intents, None)
    reading = read(text)
    if reading.elliptical:
        # A lone topic names the question; otherwise it is the previous one, else the model's case
        # question, else where the cases stand: never a request for a human («اون یکی چی؟» reads so).
        own = next((i for i in intents if i in _CASE_QUESTIONS), None)
        intents = [reading.topic or (context.intent if context else None) or own or "case_status"]
    if context is None or case_numbers or reading.all_cases:
        return Plan(intents, None)  # a named case is a switch; «همه پرونده‌هام» is about every case
    last = last_case(context, overview)
    if last is None:
        return Plan(intents, None)  # no single case to lean on (a choice was offered)
    if reading.other_case:
        others = tuple(c for c in overview.cases if c is not last)
        return Plan(intents, others or (last,), leans=True)
    return Plan(intents, (last,), leans=reading.elliptical or reading.refers_back)


def last_case(context: CaseContext | None, overview: CitizenOverview | None) -> CaseView | None:
    """The case the chat last talked about, if it is still one of the citizen's own."""
    if context is None or overview is None or context.case_number is None:
        return None
    return next((c for c in overview.cases if c.case_number == context.case_number), None)
