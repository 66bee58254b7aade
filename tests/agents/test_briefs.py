"""A paper's brief: a one-line summary cut where a sentence or a word ends, unknown fields left
out rather than guessed."""

from __future__ import annotations

import datetime as dt

from paperfeed.agents.briefs import SUMMARY_CHARS, brief, one_line, reply
from paperfeed.services.cards import Card


def test_the_summary_is_the_first_sentence_cut_at_a_word() -> None:
    assert one_line("We study graphs.  It works.\nMore.") == "We study graphs."
    assert one_line("Results on e.g. CIFAR-10 hold. Next") == "Results on e.g. CIFAR-10 hold."
    assert one_line("As J. Smith et al. Show, it is. Then") == "As J. Smith et al. Show, it is."
    assert one_line("Is it? Yes") == "Is it?"
    long = "word " * 100 + "end."
    cut = one_line(long)
    assert cut is not None and cut.endswith("word…") and len(cut) <= SUMMARY_CHARS + 1
    assert one_line("  \n ") is None


def test_what_is_not_known_is_left_out() -> None:
    card = Card(
        id="demo:1", title="A title", abstract="", published=None, upvotes=0, num_comments=0
    )
    assert reply(brief(card)).structured_content == {
        "id": "demo:1",
        "title": "A title",
        "upvotes": 0,
    }
    card.authors = ["A", "B", "C", "D"]
    card.published, card.day = dt.date(2024, 5, 1), dt.date(2024, 5, 3)
    shown = brief(card)
    assert (shown.authors, shown.author_count) == (["A", "B", "C"], 4)
    assert (shown.published, shown.featured_on) == ("2024-05-01", "2024-05-03")
