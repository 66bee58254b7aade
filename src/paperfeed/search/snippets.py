"""Search-result excerpts that read as text: they begin at a sentence (or with a clear "…"),
never in the middle of a word, and end at a word boundary.

Tantivy picks the best-matching fragment of an abstract but cuts it at any character, so a
result read "ained models show…". Here the fragment is widened back to the start of its
sentence when that is close, otherwise trimmed to whole words and marked with an ellipsis.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

ELLIPSIS = "…"
# How far before tantivy's fragment we look for the start of the sentence it is in.
REACH_BACK = 80
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*\s+")


def snippet_html(
    text: str, fragment: tuple[int, int], highlights: Sequence[tuple[int, int]]
) -> str:
    """An HTML excerpt of ``text`` (escaped; matches in ``<b>``).

    ``fragment`` is the (start, end) character range tantivy chose, ``highlights`` the
    matched ranges, in characters of ``text``.
    """
    start, end = _start(text, fragment[0], highlights), _end(text, fragment[1])
    parts = [] if _begins_sentence(text, start) else [ELLIPSIS + " "]
    at = start
    for low, high in sorted(highlights):
        low, high = max(low, at), min(high, end)
        if low >= high:
            continue
        parts += [html.escape(text[at:low]), "<b>", html.escape(text[low:high]), "</b>"]
        at = high
    parts.append(html.escape(text[at:end]))
    if end < len(text):
        parts.append(" " + ELLIPSIS)
    return "".join(parts)


def char_ranges(text: str, byte_ranges: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Byte offsets into ``text``'s UTF-8 (as tantivy gives them) as character offsets."""
    if text.isascii():
        return list(byte_ranges)
    encoded = text.encode()
    return [
        (len(encoded[:low].decode(errors="ignore")), len(encoded[:high].decode(errors="ignore")))
        for low, high in byte_ranges
    ]


def _start(text: str, start: int, highlights: Sequence[tuple[int, int]]) -> int:
    """The start of the sentence holding ``start`` if it is near, else the next word's start."""
    if start <= 0:
        return 0
    first_match = min((low for low, _ in highlights), default=len(text))
    window = text[max(0, start - REACH_BACK) : min(max(start, first_match), len(text))]
    ends = [m.end() for m in _SENTENCE_END.finditer(window)]
    if ends:
        return max(0, start - REACH_BACK) + ends[-1]
    if start - REACH_BACK <= 0:
        return 0
    while start < len(text) and not text[start - 1].isspace():
        start += 1  # a cut word: begin after it
    while start < len(text) and text[start].isspace():
        start += 1
    if start <= first_match:
        return start
    while first_match > 0 and not text[first_match - 1].isspace():
        first_match -= 1  # never skip a match: begin at the whole word holding it
    return first_match


def _begins_sentence(text: str, start: int) -> bool:
    return start == 0 or text[:start].rstrip().endswith((".", "!", "?"))


def _end(text: str, end: int) -> int:
    """``end`` moved back to the end of a whole word."""
    if end >= len(text):
        return len(text)
    if not text[end].isspace() and not text[end - 1].isspace():
        cut = text.rfind(" ", 0, end)
        end = cut if cut > 0 else end
    return len(text[:end].rstrip(" ,;:"))
