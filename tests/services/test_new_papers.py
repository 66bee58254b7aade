"""The papers new since a moment, searched on their own: saved searches match by every word or
by meaning, only among new papers, with the site's filters; likeness to a member's papers
names the paper each is most like."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine, func, select

from paperfeed.models import Paper
from paperfeed.search.embedder import HashingEmbedder
from paperfeed.search.hybrid import PaperSearch
from paperfeed.services.new_papers import NewPapers
from tests.digest.test_sources import only_new


def test_a_saved_search_finds_new_papers_with_its_words_only_among_new_ones(
    engine: Engine, site_home: Path
) -> None:
    with engine.connect() as conn:
        gesture = list(conn.scalars(select(Paper.id).where(Paper.title.ilike("%gesture%"))))
        total = conn.scalar(select(func.count()).select_from(Paper))
    assert gesture
    only_new(engine, [*gesture[1:], "2008.03186"])
    search = PaperSearch(site_home, HashingEmbedder())
    with engine.connect() as conn:
        pool = NewPapers(conn, search, dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
    assert len(pool) == len(gesture)  # the new ones only, out of all `total`
    assert total and total > len(pool)
    found = pool.matches("gesture", 10)
    assert set(gesture[1:]) <= set(found) and gesture[0] not in found  # the old one is not new
    assert pool.matches("gesture cat:q-bio.NC", 10) == []  # the site's filters apply
    assert pool.matches("zzzz unheard words", 10) == []


def test_likeness_names_the_closest_paper_and_keeps_out_negatives(
    engine: Engine, site_home: Path
) -> None:
    with engine.connect() as conn:
        gesture = list(
            conn.scalars(select(Paper.id).where(Paper.title.ilike("%gesture%")).order_by(Paper.id))
        )
    search = PaperSearch(site_home, HashingEmbedder())
    with engine.connect() as conn:
        pool = NewPapers(conn, search, dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
    liked = pool.liked(gesture[:1], [], 5)
    assert liked and all(like == gesture[0] for _, _, like in liked)
    assert all(score >= 0.5 for _, score, _ in liked) and gesture[0] not in [p for p, _, _ in liked]
    scores = [score for _, score, _ in liked]
    assert scores == sorted(scores, reverse=True)
    dismissed = liked[0][0]
    assert dismissed not in [p for p, _, _ in pool.liked(gesture[:1], [dismissed], 5)]
    assert pool.liked([], [], 5) == [] and pool.liked(["no-such-paper"], [], 5) == []


def test_a_saved_search_never_matches_a_paper_holding_what_it_excludes(
    engine: Engine, site_home: Path
) -> None:
    with engine.connect() as conn:
        gesture = list(
            conn.execute(
                select(Paper.id, Paper.title, Paper.abstract)
                .where(Paper.title.ilike("%gesture%"))
                .order_by(Paper.id)
            )
        )
    search = PaperSearch(site_home, HashingEmbedder())
    with engine.connect() as conn:
        pool = NewPapers(conn, search, dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
    paper = gesture[0]
    assert paper.id in pool.matches(paper.title, 10)  # close in meaning, and every word
    title_words = {word.lower() for word in paper.title.split()}
    word = next(
        w
        for w in paper.abstract.split()
        if w.isalpha() and len(w) > 6 and w.lower() not in title_words
    )
    # its title still says what it is about, but it holds the excluded word: neither side keeps it
    found = pool.matches(f"{paper.title} -{word}", 10)
    assert paper.id not in found
    assert pool.matches(f'{paper.title} NOT "{word}"', 10) == found
