"""Reading Bot API requests and writing error answers the way Telegram does."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from tests.botapi.rules import ApiError, bad_request, json_field


def kind_of(update: dict[str, Any]) -> str:
    return next(k for k in update if k != "update_id")


def error_response(error: ApiError) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": error.status, "description": error.description}
    if error.parameters:
        body["parameters"] = error.parameters
    return web.json_response(body, status=error.status)


async def read_params(request: web.Request) -> dict[str, Any]:
    """Query string plus a JSON, urlencoded or multipart body, as Telegram accepts all of them."""
    params: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON object") from None
            if not isinstance(body, dict):
                raise bad_request("can't parse JSON object")
            params.update(body)
        else:
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


def as_int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"field \"{name}\" must be of type Integer") from None


def as_bool(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))


def chat_of(params: dict[str, Any]) -> int | None:
    try:
        return int(params["chat_id"])
    except (KeyError, TypeError, ValueError):
        return None


def reply_target(params: dict[str, Any]) -> tuple[int, bool] | None:
    if params.get("reply_parameters") not in (None, ""):
        reply = json_field(params["reply_parameters"], "reply parameters")
        if not isinstance(reply, dict) or "message_id" not in reply:
            raise bad_request("can't parse reply parameters JSON object")
        return as_int(reply["message_id"], "message_id"), bool(reply.get("allow_sending_without_reply"))
    if params.get("reply_to_message_id") not in (None, ""):
        return (as_int(params["reply_to_message_id"], "reply_to_message_id"),
                as_bool(params.get("allow_sending_without_reply")))
    return None


def preview_disabled(params: dict[str, Any]) -> bool | None:
    if params.get("link_preview_options") not in (None, ""):
        options = json_field(params["link_preview_options"], "link preview options")
        return bool(options.get("is_disabled")) if isinstance(options, dict) else None
    if params.get("disable_web_page_preview") not in (None, ""):
        return as_bool(params["disable_web_page_preview"])
    return None


def source_html(params: dict[str, Any]) -> str | None:
    return str(params["text"]) if params.get("parse_mode") else None


def scope_key(params: dict[str, Any]) -> str:
    scope = json_field(params.get("scope"), "scope") if params.get("scope") not in (None, "") else {"type": "default"}
    return json.dumps({"scope": scope, "language_code": params.get("language_code") or ""}, sort_keys=True)
