"""Keyed hashes and masks for personal data (DESIGN.md: never store or log them whole)."""

from __future__ import annotations

import hashlib
import hmac

from nlp.identifiers import clean_national_id, mask_mobile, mask_national_id, normalize_mobile


class Hasher:
    """HMAC-SHA256 with SECRET_KEY, so a leaked table does not reveal IDs or numbers."""

    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("empty secret key")
        self._key = key

    def _digest(self, kind: str, value: str) -> str:
        return hmac.new(self._key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()

    def national_id(self, raw: str) -> str:
        return self._digest("nid", clean_national_id(raw))

    def mobile(self, raw: str) -> str:
        normalized = normalize_mobile(raw)
        if normalized is None:
            raise ValueError("not an Iranian mobile number")
        return self._digest("mobile", normalized)


def masked_national_id(raw: str) -> str:
    return mask_national_id(clean_national_id(raw))


def masked_mobile(raw: str) -> str:
    normalized = normalize_mobile(raw)
    return mask_mobile(normalized) if normalized else "***"
