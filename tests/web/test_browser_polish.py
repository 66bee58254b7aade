# ruff: noqa: F401, F811  (pytest fixtures imported from test_browser, used as parameters)
"""Rough edges a new user met on the site, checked in the real browser (issue 21): how an
organization is named, where imported comment counts live, the About page, the feed's heading
after subscribing, form fields that look alike, and placeholders that do not look like filters.
"""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests.web.test_browser import (
    ARTIFACTS,
    arxiv,
    browser,
    inbox,
    server,
    shot,
    store_url,
)


def docs_shot(page: Page, name: str) -> None:
    """What the window shows (not the whole page): the docs site's and README's screenshots,
    copied there by `make screenshots`."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"docs-{name}.png"))


WITH_ORG = "2606.00467"  # the recorded Daily Papers entry: organization "California institute…"


def test_an_organization_is_named_once_and_linked(server: str, browser: Browser) -> None:
    page = browser.new_page()
    page.goto(server + "/")
    links = page.locator(".card a.org")
    assert links.count() > 3
    for i in range(links.count()):
        link = links.nth(i)
        slug = (link.get_attribute("href") or "").removeprefix("/orgs/")
        name = link.inner_text().strip()
        assert name == link.get_attribute("title"), name  # the name, once
        assert slug and (slug not in name.split() or slug == name), name
    page.goto(f"{server}/papers/{WITH_ORG}")
    org = page.locator("main a.org").first
    expect(org).to_have_text("California institute of technology")
    page.close()


def test_imported_comment_counts_say_where_the_comments_are(server: str, browser: Browser) -> None:
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    page.goto(f"{server}/papers/{WITH_ORG}")
    docs_shot(page, "paper")
    expect(page.locator("#comments-h")).to_have_text("Comments (0)")
    expect(page.locator(".comments .elsewhere")).to_contain_text(
        "The Daily Papers site this paper was imported from counts 2 comments on it"
    )
    page.close()


def test_the_about_page_reads_as_prose(server: str, browser: Browser) -> None:
    page = browser.new_page()
    page.goto(server + "/about")
    text = page.locator("main").inner_text()
    assert "``" not in text and "docstring" not in text
    expect(page.locator(".formula")).to_contain_text("upvotes ÷ (hours since featured + 2)")
    shot(page, "about")
    page.close()


def test_the_feed_heading_stays_put_after_subscribing(server: str, browser: Browser) -> None:
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    page.goto(server + "/")
    before = page.locator("h1").bounding_box()
    docs_shot(page, "feed")
    page.goto(server + "/?subscribed=1")
    expect(page.get_by_role("status")).to_contain_text("a confirmation link is on its way")
    after = page.locator("h1").bounding_box()
    assert before is not None and after is not None
    assert abs(after["y"] - before["y"]) < 1, (before, after)
    shot(page, "feed-subscribed")
    page.close()


def test_signup_fields_look_alike(server: str, browser: Browser) -> None:
    page = browser.new_page()
    page.goto(server + "/signup")
    looks = [
        page.locator(f"#{field}").evaluate(
            "e => { const s = getComputedStyle(e);"
            " return [s.borderTopWidth, s.borderTopStyle, s.borderRadius, s.paddingLeft, s.width]; }"
        )
        for field in ("email", "handle", "name", "password")
    ]
    assert all(look == looks[0] for look in looks), looks
    page.close()


def test_search_filters_do_not_look_applied(server: str, browser: Browser) -> None:
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    page.goto(server + "/search?q=attention")
    docs_shot(page, "search")
    for label in ("Category", "From", "to"):
        field = page.get_by_label(label, exact=True)
        expect(field).to_have_value("")
        assert field.get_attribute("placeholder") == "any"
    page.close()
