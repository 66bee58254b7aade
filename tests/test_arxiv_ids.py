"""arXiv id parsing: every decoration a user may paste gives the same canonical id."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paperfeed.arxiv_ids import ArxivId, is_arxiv_id, parse_arxiv_id

ARCHIVES = [
    "hep-th",
    "hep-ph",
    "quant-ph",
    "gr-qc",
    "math",
    "cond-mat",
    "astro-ph",
    "cs",
    "q-bio",
    "nlin",
]


@st.composite
def new_style(draw: st.DrawFn) -> str:
    year = draw(st.integers(7, 29))
    month = draw(st.integers(4 if year == 7 else 1, 12))
    digits = 5 if year >= 15 else 4
    number = draw(st.integers(1, 10**digits - 1))
    return f"{year:02d}{month:02d}.{number:0{digits}d}"


@st.composite
def old_style(draw: st.DrawFn) -> str:
    year = draw(st.sampled_from([*range(91, 100), *range(0, 8)]))
    month = draw(st.integers(1, 3 if year == 7 else 12))
    return f"{draw(st.sampled_from(ARCHIVES))}/{year:02d}{month:02d}{draw(st.integers(1, 999)):03d}"


DECORATIONS = [
    "{}",
    "arXiv:{}",
    "arxiv:{}",
    "  {}\n",
    "https://arxiv.org/abs/{}",
    "http://arxiv.org/abs/{}",
    "https://arxiv.org/pdf/{}",
    "https://arxiv.org/pdf/{}.pdf",
    "https://export.arxiv.org/abs/{}",
    "https://www.arxiv.org/abs/{}?context=cs",
    "oai:arXiv.org:{}",
]


@given(
    st.one_of(new_style(), old_style()),
    st.sampled_from(DECORATIONS),
    st.none() | st.integers(1, 30),
)
def test_every_decoration_gives_the_canonical_id(
    paper_id: str, decoration: str, version: int | None
) -> None:
    text = paper_id if version is None else f"{paper_id}v{version}"
    assert parse_arxiv_id(decoration.format(text)) == ArxivId(paper_id, version)


@given(st.one_of(new_style(), old_style()), st.none() | st.integers(1, 30))
def test_str_round_trips(paper_id: str, version: int | None) -> None:
    parsed = ArxivId(paper_id, version)
    assert parse_arxiv_id(str(parsed)) == parsed


@given(st.text(max_size=400))
def test_any_text_parses_or_raises_value_error(text: str) -> None:
    try:
        parsed = parse_arxiv_id(text)
    except ValueError as error:
        assert str(error).startswith("not an arXiv id")
    else:
        assert parse_arxiv_id(parsed.id).id == parsed.id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("math.GT/0309136", ArxivId("math/0309136")),
        ("cond-mat.str-el/0501001v2", ArxivId("cond-mat/0501001", 2)),
        ("hep-th/9901001", ArxivId("hep-th/9901001")),
        ("0704.0001", ArxivId("0704.0001")),
        ("1501.00001v3", ArxivId("1501.00001", 3)),
        ("https://arxiv.org/abs/2304.01234v2/", ArxivId("2304.01234", 2)),
    ],
)
def test_known_ids(text: str, expected: ArxivId) -> None:
    assert parse_arxiv_id(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2304.1234",  # 2023 ids have five digits
        "1412.01234",  # 2014 ids have four
        "0703.0001",  # new-style ids start in April 2007
        "2313.01234",  # no 13th month
        "hep-th/0801001",  # old-style ids end in March 2007
        "2304.01234v0",
        "hello/world",
        "x" * 1000,
    ],
)
def test_not_ids(text: str) -> None:
    assert not is_arxiv_id(text)
    with pytest.raises(ValueError, match="not an arXiv id"):
        parse_arxiv_id(text)
