"""The search box: filters come out of the text, and nothing a user types breaks parsing."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from paperfeed.search.query import Filters, parse_query


def test_filters_are_taken_out_of_the_text() -> None:
    query = parse_query('diffusion author:"Yann LeCun" cat:cs.LG year:2020-2023 policy')
    assert query.text == "diffusion policy"
    assert query.filters == Filters(
        categories=("cs.LG",), authors=("Yann LeCun",), year_from=2020, year_to=2023
    )


def test_a_minus_or_not_before_a_filter_leaves_its_papers_out() -> None:
    query = parse_query('diffusion -author:"Yann LeCun" NOT cat:cs.CV cat:cs.LG NOT author:hinton')
    assert query.text == "diffusion"
    assert query.filters == Filters(
        categories=("cs.LG",), not_categories=("cs.CV",), not_authors=("Yann LeCun", "hinton")
    )
    assert parse_query("not-author:x").text == "not-author:x"  # a word, not a filter
    assert parse_query('diffusion -author:. author:""').filters == Filters()  # no name in them


def test_year_forms() -> None:
    assert (
        parse_query("year:2024").filters.year_from
        == 2024
        == parse_query("year:2024").filters.year_to
    )
    assert (
        parse_query("year:2021-").filters.year_from,
        parse_query("year:2021-").filters.year_to,
    ) == (2021, None)
    assert (
        parse_query("year:..2019").filters.year_from,
        parse_query("year:..2019").filters.year_to,
    ) == (None, 2019)
    assert parse_query("year:soon").filters == Filters()


def test_unbalanced_quote_and_control_characters() -> None:
    assert parse_query('"diffusion policy').text == "diffusion policy"
    assert parse_query("a\x00b\x07c").text == "a b c"


def test_form_filters_merge_with_typed_ones() -> None:
    query = parse_query("cat:cs.AI vision", Filters(categories=("cs.CV",), has_code=True))
    assert query.filters.categories == ("cs.CV", "cs.AI") and query.filters.has_code


@given(st.text(max_size=3000))
def test_any_text_parses(text: str) -> None:
    query = parse_query(text)
    assert len(query.text) <= 2000
    assert query.text.count('"') % 2 == 0
