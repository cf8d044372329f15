"""Intent analysis of one citizen message: split into questions, classify each, extract entities.

A message is first cut at sentence marks (؟ ? ! . ؛ newline) and at «همچنین/ضمناً»; a leading
greeting typed without punctuation is cut off when the rest reads as a question; each piece may
then be cut at a standalone «و» when both sides read as two different substantive questions
with confidence (so «رای و جریمه من چیه» stays whole, «جریمه‌م چقدره و مهلت اعتراضم کیه» splits).
The message's intent is the first part's that is a question about the case (not greeting, thanks,
help or out_of_scope: «سلام. جریمه‌م چقدره؟» is a fine_amount question), else the first help part's,
else out_of_scope if a part is (a greeting or thanks around a question that is not ours), else the
first part's; its confidence is that part's. A leading greeting is also cut off before an
out_of_scope rest of three words or more («سلام ببخشید جریمه رانندگیم چقدره»).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from nlp.entities import Entity, extract_entities
from nlp.finglish import warm_up_in_background
from nlp.normalize import normalize

if TYPE_CHECKING:  # the model (and numpy) only where one is loaded: not in `eblagh worker` or `eblagh web`
    from nlp.model import Classifier

INTENTS: tuple[str, ...] = (
    "greeting", "case_status", "hearing_date", "ruling", "fine_amount", "payment", "appeal_deadline",
    "appeal_howto", "notices", "contact", "human", "account", "thanks", "help", "out_of_scope",
)
OUT_OF_SCOPE = "out_of_scope"
# Below this top probability the message is treated as out_of_scope (the closest intents are still
# in `top`). The evaluation set cannot place it (accuracy is 1.0 for every threshold up to 0.5), so
# it is chosen on out-of-fold predictions over the training set (bench/nlp.py prints the sweep):
# from 0 to 0.40 out_of_scope recall rises ~2 points (0.85 → 0.87) and accuracy does not fall;
# 0.5 buys 2 more points of recall for a third of a point of accuracy, 0.6 costs a full point.
# Probabilities are calibrated, so 0.4 means "right 4 times in 10".
CONFIDENCE_THRESHOLD = 0.40
# A «و» split needs both sides at least this sure of two different substantive intents.
SPLIT_CONFIDENCE = 0.55
TOP_K = 3
_NON_SUBSTANTIVE = frozenset({"greeting", "thanks", "help", OUT_OF_SCOPE})

_SENTENCE_BREAK = re.compile(r"[؟?!؛;\n\r]+|(?<!\d)\.+|\.+(?!\d)|(?:^|\s)(?:همچنین|ضمنا|ضمناً|درضمن|در ضمن)(?=\s|$)")
_AND = re.compile(r"\s+و\s+")
_WORD = re.compile(r"\S+")
_MAX_CHARS = 1000
_MAX_PARTS = 10
_MAX_AND_CANDIDATES = 6
_LEAD_WORDS = 4  # «سلام و عرض ادب خدمت شما» is as long as greetings get before the question
_LEAD_OOS_WORDS = 3  # an out_of_scope rest this long after a greeting is a question, not small talk
_SURE_GREETING = 0.9  # a whole message this sure to be a greeting keeps its tail («سلام، ببخشید مزاحم شدم»)
_HAS_WORD = re.compile(r"[^\W_]")


@dataclass(frozen=True, slots=True)
class PartAnalysis:
    """One question of a message: its span in the original text and its classification."""

    text: str
    start: int
    end: int
    intent: str
    confidence: float
    top: list[tuple[str, float]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything eblagh understood of one message."""

    text: str
    intent: str
    confidence: float
    entities: list[Entity]
    parts: list[PartAnalysis]

    def as_dict(self) -> dict[str, object]:
        """The `eblagh nlp classify` JSON shape (DESIGN.md), plus the parts."""
        return {
            "text": self.text,
            "intent": self.intent,
            "confidence": round(self.confidence, 4),
            "entities": [entity.as_dict() for entity in self.entities],
            "parts": [
                {"text": p.text, "start": p.start, "end": p.end, "intent": p.intent,
                 "confidence": round(p.confidence, 4), "top": [[i, round(s, 4)] for i, s in p.top]}
                for p in self.parts
            ],
        }


class IntentModel:
    """Loads the classifier once; `analyze` is then pure and thread-safe."""

    def __init__(self, classifier: Classifier, threshold: float = CONFIDENCE_THRESHOLD) -> None:
        self._classifier = classifier
        self.threshold = threshold

    @classmethod
    def load(cls, cache_dir: Path | None = None) -> IntentModel:
        """Train (or read from `cache_dir`) the model; pass a cache dir in production."""
        from nlp.model import load_or_train

        classifier = load_or_train(cache_dir)
        normalize("سلام", classifier.steps)  # read the normalisation tables now, not on the first message
        if "finglish" in classifier.steps:
            warm_up_in_background()  # the transliterator's word list (~2.5 s) while the bot starts
        return cls(classifier)

    @property
    def classifier(self) -> Classifier:
        return self._classifier

    def analyze(self, text: str) -> Analysis:
        """Parts, intents and entities of `text`; never raises on any string."""
        # Intents come from the first _MAX_CHARS characters (a pasted ruling must not cost seconds:
        # every «و» is a split candidate); entities come from the whole text.
        head = text[:_MAX_CHARS]
        spans = (_split_sentences(head) or [(0, len(head))])[:_MAX_PARTS]
        parts: list[PartAnalysis] = []
        for start, end in spans:
            for piece_start, piece_end in self._split_lead(head, start, end):
                parts.extend(self._split_and(head, piece_start, piece_end))
        return Analysis(text, *_overall(parts), extract_entities(text), parts)

    def classify(self, text: str) -> PartAnalysis:
        """One piece of text as one question (no splitting)."""
        return self._classify_spans(text, [(0, len(text))])[0]

    def _classify_spans(self, text: str, spans: list[tuple[int, int]]) -> list[PartAnalysis]:
        pieces = [text[s:e] for s, e in spans]
        steps = self._classifier.steps  # normalise exactly as the training data was
        probabilities = self._classifier.probabilities([normalize(piece, steps) for piece in pieces])
        labels = self._classifier.labels
        result = []
        for (start, end), piece, row in zip(spans, pieces, probabilities, strict=True):
            ranked = sorted(zip(labels, (float(p) for p in row), strict=True), key=lambda pair: -pair[1])
            intent, score = ranked[0]
            if score < self.threshold and intent != OUT_OF_SCOPE:
                # Unsure: out_of_scope, with the chance the best guess is wrong as its confidence.
                intent, score = OUT_OF_SCOPE, 1.0 - score
            result.append(PartAnalysis(piece, start, end, intent, score, ranked[:TOP_K]))
        return result

    def _split_lead(self, text: str, start: int, end: int) -> list[tuple[int, int]]:
        """Cut off a leading greeting typed without punctuation («سلام وقت بخیر پروندم چی شد»)."""
        words = list(_WORD.finditer(text, start, end))
        if len(words) < 2 or self._classify_spans(text, [(start, words[0].end())])[0].intent != "greeting":
            return [(start, end)]  # the usual case, decided by one short classification
        candidates: list[tuple[int, int]] = []
        for count in range(1, min(_LEAD_WORDS, len(words) - 1) + 1):
            rest = _trim(text, words[count].start(), end)
            if rest is not None:
                candidates += [(start, words[count - 1].end()), rest]
        results = self._classify_spans(text, [*candidates, (start, end)])
        whole = results.pop()
        # An out_of_scope rest counts only when the whole is not plainly a greeting: «سلام، ببخشید
        # مزاحم شدم» is one, whatever its tail reads as alone.
        plain_greeting = whole.intent == "greeting" and whole.confidence >= _SURE_GREETING
        for index in range(0, len(results), 2):
            first, second = results[index], results[index + 1]
            # The rest is a question about the case, or (at some length: «سلام خوبین خوشین» stays a
            # greeting) a question that is not ours: «سلام ببخشید جریمه رانندگیم چقدره» is out_of_scope.
            wanted = second.intent not in _NON_SUBSTANTIVE or (
                second.intent == OUT_OF_SCOPE and not plain_greeting
                and _words(text, *candidates[index + 1]) >= _LEAD_OOS_WORDS)
            if first.intent == "greeting" and first.confidence >= SPLIT_CONFIDENCE \
                    and wanted and second.confidence >= SPLIT_CONFIDENCE:
                return [candidates[index], candidates[index + 1]]
        return [(start, end)]

    def _split_and(self, text: str, start: int, end: int) -> list[PartAnalysis]:
        """Classify text[start:end], cut at the first «و» that separates two questions."""
        whole = self._classify_spans(text, [(start, end)])[0]
        for match in itertools.islice(_AND.finditer(text, start, end), _MAX_AND_CANDIDATES):
            left = _trim(text, start, match.start())
            right = _trim(text, match.end(), end)
            if left is None or right is None or min(_words(text, *left), _words(text, *right)) < 2:
                continue
            first, second = self._classify_spans(text, [left, right])
            if first.intent != second.intent and {first.intent, second.intent}.isdisjoint(_NON_SUBSTANTIVE) \
                    and min(first.confidence, second.confidence) >= SPLIT_CONFIDENCE:
                return [first, *self._split_and(text, *right)]
        return [whole]


def _words(text: str, start: int, end: int) -> int:
    return len(text[start:end].split())


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The span without surrounding spaces and punctuation, or None when no word is left."""
    while start < end and not _HAS_WORD.match(text[start]):
        start += 1
    while end > start and not _HAS_WORD.match(text[end - 1]):
        end -= 1
    return (start, end) if start < end else None


def _split_sentences(text: str) -> list[tuple[int, int]]:
    spans = []
    position = 0
    for match in _SENTENCE_BREAK.finditer(text):
        spans.append((position, match.start()))
        position = match.end()
    spans.append((position, len(text)))
    return [trimmed for s, e in spans if (trimmed := _trim(text, s, e)) is not None]


def _overall(parts: list[PartAnalysis]) -> tuple[str, float]:
    # A courtesy around a question that is not ours («سلام. قبض برقم چقدره؟») is out_of_scope.
    for wanted in (lambda p: p.intent not in _NON_SUBSTANTIVE, lambda p: p.intent == "help",
                   lambda p: p.intent == OUT_OF_SCOPE, lambda p: p.intent != OUT_OF_SCOPE):
        for part in parts:
            if wanted(part):
                return part.intent, part.confidence
    return OUT_OF_SCOPE, 1.0  # no parts at all (nothing but spaces and marks)
