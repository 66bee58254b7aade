"""Who is asking: the member behind a request's session cookie, looked up once per request."""

from __future__ import annotations

from fastapi import Request

from paperfeed.services import accounts
from paperfeed.services.accounts import Member
from paperfeed.web.rate_limits import MEMBER_KEY


def current_member(request: Request) -> Member | None:
    """The logged-in member, or None (also for a suspended or deleted account)."""
    session_id = request.session.get("sid")
    if not isinstance(session_id, str) or not session_id:
        return None
    cached = request.scope.get(MEMBER_KEY)  # (the rate limits may have looked already)
    if cached is not None:
        return cached if isinstance(cached, Member) else None
    with request.app.state.site.engine.connect() as conn:
        member = accounts.session_member(conn, session_id)
    request.scope[MEMBER_KEY] = member or False
    return member
