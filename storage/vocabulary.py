"""The domain's vocabularies, defined once: imports, segments, settings and the tables all use these."""

from __future__ import annotations

from enum import StrEnum


class CaseStatus(StrEnum):
    REGISTERED = "registered"
    AWAITING_DEFENSE = "awaiting_defense"
    HEARING_SCHEDULED = "hearing_scheduled"
    RULING_ISSUED = "ruling_issued"
    UNDER_APPEAL = "under_appeal"
    FINAL = "final"
    CLOSED = "closed"


class RulingKind(StrEnum):
    FINE = "fine"
    DEMOLITION = "demolition"
    RESTORATION = "restoration"
    OTHER = "other"


class Commission(StrEnum):
    FIRST = "first"  # first instance: may be appealed
    APPEAL = "appeal"  # final


class Platform(StrEnum):
    TELEGRAM = "telegram"
    BALE = "bale"


DISTRICTS = range(1, 23)  # Tehran's 22 municipal districts
