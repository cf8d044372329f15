"""Logs hold no national ID, mobile, token or secret, whoever wrote the line (DESIGN.md).

The libraries log what they are given at DEBUG (python-telegram-bot every request's parameters
and every update, httpx and PTB the request URL with the bot token in it, SQLAlchemy every query's
parameters, a citizen's question among them). Rather than silence them one by one, one filter on
the handlers rewrites every record before it is written:

- a bot token (`123456:AA...`) keeps its public bot id only: `123456:***`;
- an integration API key keeps its kind only (`ebk_live_***`), a callback secret too (`whsec_***`);
- the deployment's own secrets (token, webhook secret, SECRET_KEY, database and Redis passwords)
  become `***` wherever they appear (Bale puts the webhook secret in the URL path);
- a valid national ID (10 digits, checksum) becomes its mask, 001****679;
- an Iranian mobile, in any form (09.., 9.., 98.., +98.., 0098.., grouped with spaces or dashes),
  becomes +98912***4567.

Digits may be Latin, Persian, Arabic-Indic or JSON/Python-escaped Persian (\\u06f0), with invisible
marks between them. `install()` puts the generic filter on the root handlers (the CLI does, for
every command); `private_logs(settings)` adds this deployment's secrets while a command runs.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from bot.settings import Settings
from bot.webhook import webhook_secret
from nlp.identifiers import is_valid_national_id, mask_mobile, mask_national_id

_TOKEN = re.compile(r"(\d{5,}):[A-Za-z0-9_-]{20,}")
# Integration API keys (services/api_keys.py) and callback secrets (whsec_..., services/webhooks.py).
_API_KEY = re.compile(r"\b(ebk_(?:live|test)_)[A-Za-z0-9_-]{8,}")
_WHSEC = re.compile(r"\b(whsec_)[A-Za-z0-9+/=]{8,}")
# One digit: Latin, Persian, Arabic-Indic, or Persian/Arabic-Indic written as an escape.
_DIGIT = r"(?:[0-9\u06f0-\u06f9\u0660-\u0669]|\\u06(?:[fF]|6)[0-9])"
# Invisible marks between digits (ZWSP..RLM, bidi embeddings and isolates, word joiner, BOM), raw or escaped.
_MARK = r"(?:[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]|\\u(?:200[bcdefBCDEF]|202[a-eA-E]|206[0-9]|[fF][eE][fF][fF]|00[aA][dD]))"
_RUN = re.compile(rf"\+?(?<![0-9\u06f0-\u06f9\u0660-\u0669]){_DIGIT}(?:{_MARK}*{_DIGIT})*")
# Digit groups split by one space or dash: how people write a mobile (0912 123 4567) or an ID (001-234567-9).
_GROUPS = re.compile(rf"{_RUN.pattern}(?:[ \-]{_RUN.pattern})+")
_MARKS = re.compile(_MARK)
_MOBILE = re.compile(r"(?:0098|98|0)?(9\d{9})")
_FOLD = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "0123456789" * 2)
_ESCAPED_DIGIT = re.compile(r"\\u06(?:[fF]|6)([0-9])")
_NOT_DIGIT = re.compile(r"[^0-9]")


def _digits(text: str) -> str:
    # Escaped marks first: the digits of «\u200c» are not the citizen's.
    return _NOT_DIGIT.sub("", _ESCAPED_DIGIT.sub(r"\1", _MARKS.sub("", text)).translate(_FOLD))


def _masked_run(match: re.Match[str]) -> str:
    """One unbroken run of digits: a mobile or a valid national ID is masked."""
    digits = _digits(match.group())
    mobile = _MOBILE.fullmatch(digits)
    if mobile is not None:
        return mask_mobile("+98" + mobile.group(1))
    if len(digits) == 10 and is_valid_national_id(digits):
        return mask_national_id(digits)
    return match.group()


def _masked_groups(match: re.Match[str]) -> str:
    """Digit groups: a mobile however grouped, or an ID written 3-6-1 (dates and times stay as they are)."""
    groups = [_digits(g) for g in re.split(r"[ \-]", match.group())]
    digits = "".join(groups)
    mobile = _MOBILE.fullmatch(digits)
    if mobile is not None:
        return mask_mobile("+98" + mobile.group(1))
    if [len(g) for g in groups] == [3, 6, 1] and is_valid_national_id(digits):
        return mask_national_id(digits)
    return match.group()


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with tokens, the given secrets, national IDs and mobiles masked."""
    for secret in secrets:
        text = text.replace(secret, "***")
    text = _TOKEN.sub(r"\1:***", text)
    text = _API_KEY.sub(r"\1***", text)
    text = _WHSEC.sub(r"\1***", text)
    text = _RUN.sub(_masked_run, text)  # whole runs first, so a masked one no longer joins a group
    return _GROUPS.sub(_masked_groups, text)


class PrivacyFilter(logging.Filter):
    """Rewrites each record's message (arguments merged in) and traceback; never drops a record."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Longest first, so a secret that contains another is replaced whole.
        self.secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: leave it to the handler to report
            return True
        cleaned = redact(message, self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True


def secrets_of(settings: Settings) -> list[str]:
    """This deployment's secret values: the token's secret half, the webhook secret, the key, passwords."""
    found = [(settings.bot_token or "").partition(":")[2], settings.secret_key or "", settings.webhook_secret or ""]
    if settings.bot_token:
        found.append(webhook_secret(settings))  # derived from the token when WEBHOOK_SECRET is unset
    for url in (settings.database_url, settings.redis_url):
        if url:
            found.append(urlsplit(url).password or "")
    return [s for s in found if s]


def install(secrets: Iterable[str] = ()) -> PrivacyFilter:
    """Put a filter on every handler of the root logger (where every library's records end up)."""
    privacy = PrivacyFilter(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(privacy)
    return privacy


@contextmanager
def private_logs(settings: Settings) -> Iterator[PrivacyFilter]:
    """While the block runs, the root handlers also hide this deployment's secrets."""
    privacy = install(secrets_of(settings))
    try:
        yield privacy
    finally:
        for handler in logging.getLogger().handlers:
            handler.removeFilter(privacy)
