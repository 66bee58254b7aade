"""Citation formats: names split as reference managers expect, LaTeX special characters
escaped so the BibTeX parses back to the same text, arXiv ids and versions in their fields."""

from __future__ import annotations

import datetime as dt
import io
import json

import rispy
from bibtexparser.entrypoint import parse_string
from bibtexparser.middlewares import LatexDecodingMiddleware

from paperfeed.services.cards import Card
from paperfeed.services.citations import export, split_name

HARD = Card(
    id="2106.09685", title="LoRA: 50% fewer {params} & R_&_D for Schrödinger's cat", abstract="",
    published=dt.date(2021, 6, 17), upvotes=0, num_comments=0, version=2,
    authors=["Edward J. Hu", "Ludwig van der Berg", "Wu, Jia", "Plato"], categories=["cs.CL", "cs.LG"],
)  # fmt: skip


def test_names_split_into_given_and_family() -> None:
    assert split_name("Yann LeCun") == ("Yann", "LeCun")
    assert split_name("Ludwig van der Berg") == ("Ludwig", "van der Berg")
    assert split_name("Wu, Jia") == ("Jia", "Wu")
    assert split_name("Plato") == ("", "Plato")


def test_bibtex_escapes_and_parses_back() -> None:
    parsed = parse_string(
        export([HARD, HARD], "bib"), append_middleware=[LatexDecodingMiddleware()]
    )
    assert not parsed.failed_blocks and len(parsed.entries) == 2
    first, second = parsed.entries
    assert first.key != second.key and first.key.startswith("hu2021")
    fields = first.fields_dict
    assert fields["title"].value == HARD.title
    assert fields["eprint"].value == "2106.09685" and fields["version"].value == "2"
    assert fields["primaryclass"].value == "cs.CL" and "doi" not in fields


def test_ris_and_csl_carry_ids_versions_and_names() -> None:
    [ris] = rispy.load(io.StringIO(export([HARD], "ris")))
    assert ris["accession_number"] == "arXiv:2106.09685" and ris["edition"] == "v2"
    assert ris["authors"][:3] == ["Hu, Edward J.", "van der Berg, Ludwig", "Wu, Jia"]
    [item] = json.loads(export([HARD], "csl.json"))
    assert item["number"] == "arXiv:2106.09685" and item["version"] == "2"
    assert item["author"][3] == {"literal": "Plato"}
    assert item["issued"] == {"date-parts": [[2021, 6, 17]]}


def test_bibtex_links_and_dois_stay_verbatim() -> None:
    """Reference managers read ``url`` and ``doi`` as they are: no ``\\url{}``, no ``\\_``."""
    card = Card(
        id="2106.09685", title="Under_scores & more", abstract="", published=None, upvotes=0,
        num_comments=0, doi="10.1000/a_b%c", authors=["Edward J. Hu"],
    )  # fmt: skip
    [entry] = parse_string(export([card], "bib")).entries  # raw: no LaTeX decoding
    fields = entry.fields_dict
    assert fields["url"].value == "https://arxiv.org/abs/2106.09685"
    assert fields["doi"].value == "10.1000/a_b%c"
    assert fields["eprint"].value == "2106.09685"
    assert fields["title"].value == r"Under\_scores \& more"
