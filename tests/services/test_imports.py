"""Reading references: arXiv ids in any form, DOIs (arXiv's own DOIs become arXiv ids), BibTeX
entries by eprint, DOI or URL, and a clear reason for every entry that names neither."""

from __future__ import annotations

from paperfeed.services.imports import Reference, from_bibtex, from_lines


def test_lines_of_ids_and_dois() -> None:
    found, problems = from_lines(
        "2106.09685v2\nhttps://arxiv.org/pdf/1706.03762\narXiv:hep-th/9901001\n# a comment\n"
        "10.1145/3377811.3380411\n10.48550/arXiv.2106.09685\n\nnot a reference\n"
    )
    assert [(r.arxiv_id, r.doi) for r in found] == [
        ("2106.09685", None), ("1706.03762", None), ("hep-th/9901001", None),
        (None, "10.1145/3377811.3380411"), ("2106.09685", None),
    ]  # fmt: skip
    assert problems == [("not a reference", "neither an arXiv id nor a DOI")]


def test_bibtex_entries() -> None:
    found, problems = from_bibtex(
        "@misc{a, eprint={2106.09685}, archivePrefix={arXiv}}\n"
        "@article{b, doi={10.1145/3377811.3380411}, journal={ICSE}}\n"
        "@misc{c, url={https://arxiv.org/abs/1706.03762v5}}\n"
        "@book{d, title={No identifier}}\n"
        "@misc{e, eprint={12345}, archivePrefix={PubMed}}\n"
    )
    assert found == [
        Reference("a", arxiv_id="2106.09685"), Reference("b", doi="10.1145/3377811.3380411"),
        Reference("c", arxiv_id="1706.03762"),
    ]  # fmt: skip
    assert [entry for entry, _ in problems] == ["d", "e"]
    nothing, trouble = from_bibtex("@misc{x, title={unclosed\n")
    assert nothing == [] and trouble and trouble[0][1] == "not valid BibTeX"
