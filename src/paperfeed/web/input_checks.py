"""Input no route should ever see: NUL characters, refused for every request in one place; and
the type of row ids, which bounds them to what the store can hold.

A NUL (``\\0``) has no business in a search, a name, a comment or an id, and PostgreSQL cannot
store one in a text column (the driver raises, and the request would end in a 500). So the path,
the query string, and the text of form and JSON bodies are checked before routing, and a
request with a NUL gets a 400 that says which part held it. Files uploaded in a multipart form
are left alone: a file may hold any bytes, and the route that reads one decides.

GET requests cost a substring test on the path and the query string; only bodies of the kinds
above are read here (and handed on unchanged).
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

import annotated_types
from starlette.datastructures import Headers
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperfeed.web.problems import problem_response

#: An id of a row (a comment, a token, a claim) in a path, a form or a JSON body: the store's
#: integers are 64-bit, and a larger number made the database driver raise (a 500) rather
#: than find nothing. Validated like any field, so the answer is a 422 that says the bound.
RowId = Annotated[int, annotated_types.Interval(ge=1, le=2**63 - 1)]

_ENCODED_NUL = re.compile(rb"%00|\x00")
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.I)


class RefuseNul:
    """ASGI middleware: a 400 for a request with a NUL in its path, query or text fields."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        where = _in_address(scope)
        if where is None and scope["method"] in ("POST", "PUT", "PATCH", "DELETE"):
            body, receive = await _read_body(receive)
            where = _in_body(Headers(scope=scope).get("content-type", ""), body)
        if where is not None:
            await _refusal(scope, where)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _in_address(scope: Scope) -> str | None:
    if "\x00" in scope["path"]:
        return "the address"
    if _ENCODED_NUL.search(scope.get("query_string", b"")):
        return "the query string"
    return None


def _in_body(content_type: str, body: bytes) -> str | None:
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        return "a form field" if _ENCODED_NUL.search(body) else None
    if _parsed_as_json(kind):
        escaped = b"\\u0000" in body.lower() and _json_has_nul(body)
        return "the JSON body" if escaped or b"\x00" in body else None
    if kind == "multipart/form-data" and (boundary := _BOUNDARY.search(content_type)):
        return "a form field" if _multipart_text_has_nul(body, boundary[1].encode()) else None
    return None


def _parsed_as_json(kind: str) -> bool:
    """Whether FastAPI reads a body of this type as JSON: ``application/json``, any
    ``application/…+json``, and a body sent with no type at all (an attack sent
    ``application/vnd.x+json`` and a NUL reached PostgreSQL, which refuses it with a 500)."""
    return kind in ("", "application/json") or (
        kind.startswith("application/") and kind.endswith("+json")
    )


def _json_has_nul(body: bytes) -> bool:
    try:
        value = json.loads(body)
    except ValueError:
        return False  # not JSON: the route's validation says so
    return _has_nul(value)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _multipart_text_has_nul(body: bytes, boundary: bytes) -> bool:
    """A NUL in a part that is not a file (files may hold any bytes)."""
    for part in body.split(b"--" + boundary):
        head, _, content = part.partition(b"\r\n\r\n")
        if b"filename=" not in head.lower() and b"\x00" in content:
            return True
    return False


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    """The whole body, and a ``receive`` that hands the same messages on to the app."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break

    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return b"".join(chunks), replay


def _refusal(scope: Scope, where: str) -> Response:
    message = f"NUL characters are not allowed: remove the one in {where}."
    path = scope["path"]
    if path.startswith("/api/") or "." in path.rsplit("/", 1)[-1]:
        return problem_response(message, 400)
    page = f"<!doctype html><title>Bad request</title><h1>Bad request</h1><p>{message}</p>"
    return HTMLResponse(page, status_code=400)
