"""Rate limits per IP address and per member on what costs the most or invites abuse: logging
in, subscribing an address (which mails it), submitting, upvoting, commenting, searching.
Over the limit, a 429 with Retry-After (JSON for the API and in-page requests, a page for
people).

Counted by the ``limits`` library in each web node's memory (a moving window): with N nodes a
client could do N times the limit if the proxy spread its requests, which is still a limit;
nodes share nothing for it, so it costs no database write per request.
"""

from __future__ import annotations

import math
import re
import time

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.datastructures import Headers
from starlette.responses import HTMLResponse, JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from paperfeed.web.problems import problem_response

#: (method, path pattern, action); the first match counts.
ROUTES = [
    ("POST", re.compile(r"^/login$"), "login"),
    ("POST", re.compile(r"^/subscribe$"), "subscribe"),
    ("POST", re.compile(r"^(/api/v1)?/submit$"), "submit"),
    ("POST", re.compile(r"/upvote$"), "upvote"),
    ("DELETE", re.compile(r"^/api/v1/papers/.+/upvote$"), "upvote"),
    ("POST", re.compile(r"/comments(/\d+/edit)?$"), "comment"),
    ("GET", re.compile(r"^/(search(\.rss|\.atom)?|api/papers/search|api/v1/search)$"), "search"),
]
#: Per IP and, separately, per member: generous for people, tight for scripts run amok.
LIMITS: dict[str, RateLimitItem] = {
    "login": parse("20/minute"),
    "subscribe": parse("10/hour"),  # each one can mail a stranger
    "submit": parse("20/minute"),
    "upvote": parse("120/minute"),
    "comment": parse("20/minute"),
    "search": parse("120/minute"),
}


class RateLimits:
    """ASGI middleware; it runs inside the session middleware, so it can tell members apart."""

    def __init__(self, app: ASGIApp, enabled: bool = True) -> None:
        self.app, self.enabled = app, enabled
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        action = self._action(scope) if self.enabled and scope["type"] == "http" else None
        if action is not None:
            wait = self._over(scope, action)
            if wait is not None:
                await self._refuse(scope, action, wait)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _action(self, scope: Scope) -> str | None:
        for method, pattern, action in ROUTES:
            if scope["method"] == method and pattern.search(scope["path"]):
                return action
        return None

    def _over(self, scope: Scope, action: str) -> int | None:
        """Seconds to wait if this request is over a limit, else None (and it is counted)."""
        item = LIMITS[action]
        keys = [f"ip:{scope['client'][0] if scope.get('client') else '?'}"]
        session = scope.get("session") or {}
        if isinstance(session.get("sid"), str):
            keys.append(f"member:{session['sid']}")
        token = Headers(scope=scope).get("authorization", "")
        if token.lower().startswith("bearer "):
            keys.append(f"token:{token[7:][:80]}")
        for key in keys:
            if not self.limiter.hit(item, action, key):
                reset = self.limiter.get_window_stats(item, action, key).reset_time
                return max(1, math.ceil(reset - time.time()))
        return None

    @staticmethod
    def _refuse(scope: Scope, action: str, wait: int) -> HTMLResponse | JSONResponse:
        message = f"Too many {action} requests: try again in {wait} s."
        headers = {"Retry-After": str(wait)}
        accept = Headers(scope=scope).get("accept", "")
        if scope["path"].startswith("/api/") or "application/json" in accept:
            return problem_response(message, 429, headers)
        page = f"<!doctype html><title>Too many requests</title><h1>Slow down</h1><p>{message}</p>"
        return HTMLResponse(page, status_code=429, headers=headers)


class ConfirmationMails:
    """Confirmation mails to one address, whoever asks (:data:`PER_ADDRESS`): the subscribe box
    must not be a way to flood a stranger's inbox from many IP addresses. One per site, like
    the middleware's counts."""

    PER_ADDRESS = parse("3/day")

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def may_send(self, address: str) -> bool:
        """Whether one more may go to ``address`` (counted if so)."""
        return not self.enabled or self.limiter.hit(self.PER_ADDRESS, "confirm", address)
