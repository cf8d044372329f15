"""Callback data for inline buttons: short, versionless, and never trusted on the way back.

Every tap is checked against the tapping chat's own data by the use case it triggers.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Action(StrEnum):
    OPEN_NOTICE = "o"
    LIST_NOTICES = "l"
    HELP = "h"
    LOGIN = "s"
    INTENT = "i"  # answer a suggested question (payload: intent label)
    CASE = "c"  # pick one of several cases (payload: intent:case index)
    CONFIRM = "y"  # staff confirmations (payload: what)
    CANCEL = "n"
    PAY = "p"  # pay a ruling's fine in the chat (payload: notice id)


@dataclass(frozen=True)
class Tap:
    action: Action
    payload: str = ""


def encode(action: Action, payload: str | int = "") -> str:
    return f"{action.value}:{payload}" if payload != "" else action.value


def decode(data: str) -> Tap | None:
    """None for anything that is not ours (old buttons, forged data)."""
    head, _, payload = data.partition(":")
    try:
        action = Action(head)
    except ValueError:
        return None
    if len(payload) > 60:
        return None
    return Tap(action, payload)


def notice_id_of(tap: Tap) -> int | None:
    return int(tap.payload) if tap.payload.isdigit() and len(tap.payload) < 19 else None
