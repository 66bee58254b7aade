"""Typed field access for JSON-based sources, with errors worded for the person who wrote the file."""

from __future__ import annotations

import datetime as dt
from typing import Any

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


class FieldError(ValueError):
    """A field has the wrong type or an unreadable value."""


def required_str(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise FieldError(f"missing {key}")
    if not isinstance(value, str):
        raise FieldError(f"{key} must be a string, not {_kind(value)}")
    return value


def optional_str(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldError(f"{key} must be a string, not {_kind(value)}")
    return value or None


def str_list(obj: dict[str, Any], key: str) -> list[str]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise FieldError(f"{key} must be a list of strings, not {_kind(value)}")
    return value


def optional_count(obj: dict[str, Any], key: str) -> int | None:
    """A whole number of at least 0 (a count such as ``upvotes``), or None when not given."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FieldError(f"{key} must be a whole number of at least 0, not {_kind(value)}")
    return value


def iso_date(obj: dict[str, Any], key: str) -> dt.date | None:
    """A ``YYYY-MM-DD`` date; a longer ISO timestamp is cut to its date."""
    text = optional_str(obj, key)
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise FieldError(f"{key} must be a date written YYYY-MM-DD, not {text[:40]!r}") from None


def rfc2822_date(text: str) -> dt.date:
    """The date of an arXiv version stamp such as ``Mon, 2 Apr 2007 19:18:42 GMT``.

    Parsed by hand because ``email.utils`` is ten times slower and this runs twice per record
    of a snapshot with millions of lines.
    """
    try:
        _, day, month, year = text.split(None, 4)[:4]
        return dt.date(int(year), _MONTHS[month], int(day))
    except (ValueError, KeyError):
        raise FieldError(f"unreadable version date {text[:40]!r}") from None


def _kind(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "true/false"}
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), type(value).__name__)
