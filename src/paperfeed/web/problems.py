"""The error answers the API documents: every failure is ``{"detail": "..."}`` with its status,
listed in the OpenAPI schema so clients (and schemathesis) know what to expect."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class Problem(BaseModel):
    """What went wrong, in a sentence."""

    detail: str


def _answers(**codes: str) -> dict[int | str, dict[str, Any]]:
    return {int(code[1:]): {"model": Problem, "description": text} for code, text in codes.items()}


READ_ERRORS = _answers(
    _404="no such paper, list or page",
    _422="a parameter is not valid",
    _429="too many requests: see Retry-After",
    _503="the search index or the database is not available right now",
)
WRITE_ERRORS = READ_ERRORS | _answers(
    _401="no token, or not a valid one",
    _403="the member cannot do this (address not confirmed, suspended)",
    _409="already done (a paper already featured: the vote is added)",
)
