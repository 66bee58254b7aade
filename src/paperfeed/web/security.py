"""Security headers on every answer: a Content-Security-Policy that allows no inline script
(pages load one script file; forms work without it), no framing, no MIME sniffing, and no
referrer sent off the site.

The API explorer at ``/docs`` is Swagger UI, whose page starts it with one inline script: that
script is allowed by its SHA-256 (computed from the page when the app starts), not by
``'unsafe-inline'``.

The headers wrap the whole application (:class:`HeadedApp`), Starlette's error middleware
included, so the 500 answered for an unhandled exception carries them as every other page does.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SITE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def docs_policy(docs_html: str) -> str:
    """The policy for the Swagger UI page: its inline scripts by hash (its widgets set
    ``style`` attributes, so styles may be inline there)."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(docs_html)
    )
    return (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )


class SecurityHeaders:
    """ASGI middleware adding the headers to every HTTP response."""

    def __init__(self, app: ASGIApp, docs: str) -> None:
        self.app, self.docs = app, docs

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = self.docs if scope["path"] == "/docs" else SITE_POLICY

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", policy.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


class HeadedApp(FastAPI):
    """FastAPI with :class:`SecurityHeaders` outside everything. Middleware added the usual way
    sits inside Starlette's ``ServerErrorMiddleware``, so it never sees the 500 that middleware
    answers for an unhandled exception; this one does."""

    docs_policy: str = SITE_POLICY  # the /docs page's policy, set once that page is built

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack(), docs=self.docs_policy)
