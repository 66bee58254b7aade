"""The error answers the API documents: every failure is ``{"detail": "...", "error": "..."}``
(the same sentence twice: FastAPI's clients read ``detail``, the Daily Papers API's clients,
``huggingface_hub`` among them, read ``error``) with the sentence also in the
``X-Error-Message`` header, listed in the OpenAPI schema so clients (and schemathesis) know
what to expect."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from starlette.responses import JSONResponse

HEADER_LENGTH = 500  # a header is not the place for a long text (the body has it whole)


class Problem(BaseModel):
    """What went wrong, in a sentence (the same in both fields)."""

    detail: str
    error: str


def problem_response(
    message: str,
    status_code: int,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    """The JSON answer for a failure: ``message`` in ``detail``, ``error`` and the
    ``X-Error-Message`` header; ``extra`` fields (say, where to log in) beside them."""
    return JSONResponse(
        {**(extra or {}), "detail": message, "error": message},
        status_code=status_code,
        headers={**(headers or {}), "X-Error-Message": header_text(message)},
    )


def header_text(message: str) -> str:
    """``message`` as a header can carry it: one line of Latin-1 (others become ``?``)."""
    one_line = " ".join(message.split())[:HEADER_LENGTH]
    return one_line.encode("latin-1", "replace").decode("latin-1")


def _answers(**codes: str) -> dict[int | str, dict[str, Any]]:
    return {int(code[1:]): {"model": Problem, "description": text} for code, text in codes.items()}


READ_ERRORS = _answers(
    _400="a request that cannot be read (a NUL character, a query the search engine refuses)",
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
