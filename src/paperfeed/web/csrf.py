"""CSRF tokens for forms: a signed, time-limited token in a hidden field.

The token is ``itsdangerous``-signed with the site's secret key and bound to a random value in
an HttpOnly, SameSite=Lax cookie (the double-submit pattern): a page on another site can neither
read the cookie nor forge a token that matches it. Once there is a session, the token is bound
to it too (a digest of the session id): someone who could plant or learn the cookie's value
(from a sibling subdomain, say) and take a token for it from their own visit still has no token
for the victim's session. Tokens last a day.
"""

from __future__ import annotations

import hashlib
import secrets

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "paperfeed_csrf"
MAX_AGE = 24 * 3600


class Csrf:
    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="csrf")

    @staticmethod
    def new_cookie_value() -> str:
        return secrets.token_urlsafe(24)

    def token_for(self, cookie_value: str, session_id: str | None = None) -> str:
        return self._serializer.dumps([cookie_value, _session_stamp(session_id)])

    def valid(
        self, token: str | None, cookie_value: str | None, session_id: str | None = None
    ) -> bool:
        if not token or not cookie_value:
            return False
        try:
            signed = self._serializer.loads(token, max_age=MAX_AGE)
        except BadSignature:
            return False
        if not (
            isinstance(signed, list)
            and len(signed) == 2
            and all(isinstance(v, str) for v in signed)
        ):
            return False
        cookie, stamp = signed
        return secrets.compare_digest(cookie, cookie_value) & secrets.compare_digest(
            stamp, _session_stamp(session_id)
        )


def _session_stamp(session_id: str | None) -> str:
    """What a token carries of the session: a digest, never the id itself (pages are cached
    and tokens end up in logs); empty without a session."""
    if not session_id:
        return ""
    return hashlib.sha256(f"csrf:{session_id}".encode()).hexdigest()[:32]
