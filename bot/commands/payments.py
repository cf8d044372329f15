"""`eblagh payments export --format jsonl|csv [--output FILE]`: fines paid in the chat (Bale).

One record per payment received (pending, confirmed or failed); invoices never paid are left out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from bot.commands.exporting import add_export
from bot.runtime import Runtime
from services.payments import PAYMENT_FIELDS, export_payments


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("payments", help="fines paid in the chat (Bale)")
    actions = parser.add_subparsers(dest="payments_action", required=True)
    add_export(actions, "one record per payment", PAYMENT_FIELDS, payment_rows)


async def payment_rows(runtime: Runtime) -> AsyncIterator[dict[str, Any]]:
    async for row in export_payments(runtime.database):
        yield row
