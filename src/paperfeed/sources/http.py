"""A polite HTTP client for the sources: one request at a time, spaced out, retried.

arXiv asks harvesters for one request every three seconds and answers ``503`` with a
``Retry-After`` when they go faster; other providers do similar. So every request waits until
``delay`` seconds have passed since the previous one, a ``503``/``429`` waits what
``Retry-After`` asks (capped), and network errors and other ``5xx`` are retried with
exponential backoff. What still fails raises :class:`FetchError` with the URL and the reason,
and the caller decides whether the run goes on.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

import httpx

from paperfeed import __version__

USER_AGENT = f"paperfeed/{__version__} (self-hosted research papers; +https://github.com/)"


class FetchError(RuntimeError):
    """A request that failed for good (after the retries it was allowed)."""


@dataclass(slots=True)
class Politeness:
    delay: float = 3.0  # seconds between requests
    retries: int = 4
    backoff: float = 5.0  # first wait after a failure; doubles each time
    max_wait: float = 600.0  # never wait longer than this for one Retry-After
    timeout: float = 60.0


class PoliteClient:
    def __init__(
        self, politeness: Politeness | None = None, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.politeness = politeness or Politeness()
        self._sleep = sleep
        self._last = 0.0
        self.requests = 0
        self._client = httpx.Client(
            timeout=self.politeness.timeout,
            headers={"User-Agent": USER_AGENT},
            follow_redirects=True,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(
        self,
        url: str,
        params: Mapping[str, str | int] | None = None,
        allow: Collection[int] = (),
    ) -> httpx.Response:
        """The response to a GET (status < 400, or one in ``allow``), after waits and retries."""
        rules = self.politeness
        wait = rules.backoff
        problem = ""
        for attempt in range(rules.retries + 1):
            self._space_out()
            try:
                response = self._client.get(url, params=params)
            except httpx.HTTPError as error:
                problem = f"{type(error).__name__}: {error}"
            else:
                if response.status_code < 400 or response.status_code in allow:
                    return response
                problem = f"HTTP {response.status_code}"
                if (
                    response.status_code in (429, 503)
                    and (asked := retry_after(response.headers.get("Retry-After"))) is not None
                ):
                    if attempt < rules.retries:
                        self._sleep(min(asked, rules.max_wait))
                    continue
                if response.status_code < 500:
                    break  # the request itself is wrong: retrying will not help
            if attempt < rules.retries:
                self._sleep(wait)
                wait *= 2
        raise FetchError(f"{url}: {problem}")

    def _space_out(self) -> None:
        gap = self.politeness.delay - (time.monotonic() - self._last)
        if gap > 0 and self.requests:
            self._sleep(gap)
        self._last = time.monotonic()
        self.requests += 1


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (a number of seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)
