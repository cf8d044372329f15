"""Persian text understanding for eblagh: normalisation, intents, entities. Offline, on the CPU.

Usage::

    from pathlib import Path
    from nlp import IntentModel, extract_entities, normalize

    model = IntentModel.load(cache_dir=Path("var/cache"))   # once per process (~1 s from cache)
    analysis = model.analyze("سلام. جریمه من چقدره و مهلت اعتراضم کی تموم میشه؟")
    analysis.intent, analysis.confidence        # 'fine_amount', 0.9...
    [(p.intent, p.text) for p in analysis.parts] # one part per question, spans into the text
    analysis.parts[0].top                        # [(intent, score), ...]: "closest intents" buttons
    analysis.entities                            # [Entity(type, value, start, end), ...]

    normalize("ميخوام پروندمو ببينم")            # canonical text (colloquial → formal, ي → ی, ...)
    extract_entities("کد ملی ۰۰۱۲۳۴۵۶۷۹")       # [Entity('national_id', '0012345679', 7, 17)]

A part whose best score is under CONFIDENCE_THRESHOLD has intent 'out_of_scope'; its `top` still
lists the closest intents. Labels are INTENTS; entity types are ENTITY_TYPES.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nlp.entities import ENTITY_TYPES, Entity, extract_entities
    from nlp.intents import CONFIDENCE_THRESHOLD, INTENTS, Analysis, IntentModel, PartAnalysis
    from nlp.normalize import normalize

# Loaded on first use (PEP 562), so that importing a small part (nlp.digits) does not bring in the
# model's numpy: `eblagh worker` and `eblagh web` use no intent model.
_HOME = {"ENTITY_TYPES": "nlp.entities", "Entity": "nlp.entities", "extract_entities": "nlp.entities",
         "CONFIDENCE_THRESHOLD": "nlp.intents", "INTENTS": "nlp.intents", "Analysis": "nlp.intents",
         "IntentModel": "nlp.intents", "PartAnalysis": "nlp.intents", "normalize": "nlp.normalize"}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'nlp' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME[name]), name)


__all__ = [
    "CONFIDENCE_THRESHOLD",
    "ENTITY_TYPES",
    "INTENTS",
    "Analysis",
    "Entity",
    "IntentModel",
    "PartAnalysis",
    "extract_entities",
    "normalize",
]
