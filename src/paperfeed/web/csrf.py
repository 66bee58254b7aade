"""CSRF tokens for forms: a signed, time-limited token in a hidden field.

The token is ``itsdangerous``-signed with the site's secret key and bound to a random value in
an HttpOnly, SameSite=Lax cookie (the double-submit pattern): a page on another site can neither
read the cookie nor forge a token that matches it. Tokens last a day.
"""

from __future__ import annotations

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

    def token_for(self, cookie_value: str) -> str:
        return self._serializer.dumps(cookie_value)

    def valid(self, token: str | None, cookie_value: str | None) -> bool:
        if not token or not cookie_value:
            return False
        try:
            signed = self._serializer.loads(token, max_age=MAX_AGE)
        except BadSignature:
            return False
        return isinstance(signed, str) and secrets.compare_digest(signed, cookie_value)
