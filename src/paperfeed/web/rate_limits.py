"""Rate limits per IP address and per member on what costs the most or invites abuse: logging
in, subscribing an address (which mails it), submitting, upvoting, commenting, searching.
Over the limit, a 429 with Retry-After (JSON for the API and in-page requests, a page for
people).

Counted by the ``limits`` library in each web node's memory (a moving window): with N nodes a
client could do N times the limit if the proxy spread its requests, which is still a limit;
nodes share nothing for it, so it costs no database write per request. (Daily limits that must
hold across nodes, such as submissions and list imports, are counted in the store instead:
``store/counters.py``.)

A member's count is keyed on the member's id, not on the session or token that speaks for
them: two tokens, or two browsers, of one member share one budget. The member is looked up
only for a request that a limit applies to and that carries a session or a token, and the
lookup is left in the request's scope, where the route's own lookup finds it (so it costs no
extra query: those routes look the member up anyway).
"""

from __future__ import annotations

import math
import re
import time

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import HTMLResponse, JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from paperfeed.services import accounts, tokens
from paperfeed.web.problems import problem_response

#: Where a request's member, once looked up, is kept in its scope (``False``: nobody).
MEMBER_KEY = "paperfeed.member"
BEARER_KEY = "paperfeed.bearer"
#: (method, path pattern, action); the first match counts.
ROUTES = [
    ("POST", re.compile(r"^/login$"), "login"),
    ("POST", re.compile(r"^/subscribe$"), "subscribe"),
    ("POST", re.compile(r"^(/api/v1)?/submit$"), "submit"),
    ("POST", re.compile(r"/upvote$"), "upvote"),
    ("DELETE", re.compile(r"^/api/v1/papers/.+/upvote$"), "upvote"),
    ("POST", re.compile(r"/comments(/\d+/edit)?$"), "comment"),
    (
        "GET",
        re.compile(r"^/(search(\.rss|\.atom|/export\.[^/]+)?|api/papers/search|api/v1/search)$"),
        "search",
    ),
    # Each MCP message is one POST (stateless): agents' tool calls share the search budget.
    ("POST", re.compile(r"^/mcp$"), "search"),
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
            keys = [f"ip:{scope['client'][0] if scope.get('client') else '?'}"]
            member_id = await self._member_id(scope)
            if member_id is not None:
                keys.append(f"member:{member_id}")
            wait = self._over(action, keys)
            if wait is not None:
                await self._refuse(scope, action, wait)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _action(self, scope: Scope) -> str | None:
        for method, pattern, action in ROUTES:
            if scope["method"] == method and pattern.search(scope["path"]):
                return action
        return None

    @staticmethod
    async def _member_id(scope: Scope) -> int | None:
        """The id of the member a bearer token or the session speaks for, if any."""
        authorization = Headers(scope=scope).get("authorization", "")
        secret = authorization[7:].strip() if authorization[:7].lower() == "bearer " else ""
        sid = (scope.get("session") or {}).get("sid")
        session_id = sid if isinstance(sid, str) else ""
        if not secret and not session_id:
            return None
        return await run_in_threadpool(_look_up_member, scope, secret, session_id)

    def _over(self, action: str, keys: list[str]) -> int | None:
        """Seconds to wait if this request is over a limit, else None (and it is counted)."""
        item = LIMITS[action]
        for key in keys:
            if not self.limiter.hit(item, action, key):
                reset = self.limiter.get_window_stats(item, action, key).reset_time
                return max(1, math.ceil(reset - time.time()))
        return None

    @staticmethod
    def _refuse(scope: Scope, action: str, wait: int) -> HTMLResponse | JSONResponse:
        message = f"Too many {action} requests: try again in {wait} s."
        headers = {"Retry-After": str(wait)}
        if scope["path"] == "/mcp":  # an MCP client shows the message of a JSON-RPC error
            error = {"jsonrpc": "2.0", "id": None, "error": {"code": -32000, "message": message}}
            return JSONResponse(error, status_code=429, headers=headers)
        accept = Headers(scope=scope).get("accept", "")
        if scope["path"].startswith("/api/") or "application/json" in accept:
            return problem_response(message, 429, headers)
        page = f"<!doctype html><title>Too many requests</title><h1>Slow down</h1><p>{message}</p>"
        return HTMLResponse(page, status_code=429, headers=headers)


def _look_up_member(scope: Scope, secret: str, session_id: str) -> int | None:
    """The member's id, from the token if one is sent, else from the session; the finding is
    left in the scope under the keys the routes' own lookups read (``web/session.py``,
    ``web/write_api.py``)."""
    engine = scope["app"].state.site.engine
    with engine.connect() as conn:
        if secret:
            found = tokens.bearer(conn, secret)
            scope[BEARER_KEY] = (secret, found)
            return found.member.id if found is not None else None
        member = accounts.session_member(conn, session_id)
    scope[MEMBER_KEY] = member or False
    return member.id if member is not None else None
