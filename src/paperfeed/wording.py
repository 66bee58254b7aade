"""Counts in words, the same on the site, in mails and in the CLI: "1 paper", "3,257 papers"."""

from __future__ import annotations


def plural(noun: str, n: int, plural_form: str | None = None) -> str:
    """``noun`` as it reads after the number ``n`` (an irregular plural can be given)."""
    if n == 1:
        return noun
    return plural_form or noun + "s"


def count(n: int, noun: str, plural_form: str | None = None) -> str:
    """``n`` with thousands separators and ``noun`` agreeing with it."""
    return f"{n:,} {plural(noun, n, plural_form)}"
