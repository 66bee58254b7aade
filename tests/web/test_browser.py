"""The site in a real browser: Debian's Chromium driven by Playwright, against a real Uvicorn.

Screenshots of every page go to ``tests/artifacts/`` (git-ignored) for a person to look at.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import Engine

from paperfeed.config import Settings
from paperfeed.search.embedder import HashingEmbedder
from paperfeed.services.accounts import confirm, confirmation_token, create_admin, sign_up
from paperfeed.services.submissions import arxiv_fetcher
from paperfeed.store.engine import make_engine, write_transaction
from paperfeed.store.migrate import upgrade
from paperfeed.web.app import create_app
from tests.conftest import new_postgres_database
from tests.servers import Inbox, free_port, smtp_server
from tests.sources.replay import Replay
from tests.sync.conftest import recorded
from tests.web.conftest import fill_store

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
# Without the background-networking flags Chromium keeps trying to reach Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    """A real SMTP server on loopback that keeps what it receives."""
    with smtp_server() as box:
        yield box


@pytest.fixture(scope="module")
def arxiv() -> Iterator[Replay]:
    """The arXiv API, replaying a recorded answer for 1707.08567."""
    replay = Replay()
    replay.add(
        "/api/query", {"id_list": "1707.08567"}, recorded("id_1707.08567_s0_m100_6a1afebfc6a3.json")
    )
    with replay.running():
        yield replay


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A store for the browser tests' server: once SQLite, once a PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('browser-store') / 'paperfeed.db'}"
        return
    with new_postgres_database() as url:
        yield url


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, store_url: str, inbox: Inbox, arxiv: Replay
) -> Iterator[str]:
    """A real HTTP server on a loopback port, over a store of the test corpus."""
    home = tmp_path_factory.mktemp("browser-home")
    url = store_url
    engine: Engine = make_engine(url)
    upgrade(engine)
    fill_store(engine, home)
    engine.dispose()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(
        home=home, db=url, base_url=base, smtp_host="127.0.0.1",
        smtp_port=inbox.port, smtp_security="none",
    )  # fmt: skip
    app = create_app(settings, HashingEmbedder)
    app.state.site.fetch_paper = arxiv_fetcher(arxiv.url + "/api/query")
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    yield base
    uv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            "Debian's Chromium is missing: `make test` installs it (apt-get install chromium)"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_feed_days_tabs_search_paper_and_similar(server: str, browser: Browser) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server + "/")
    expect(page.locator("h2")).to_have_text("Friday, June 12, 2026")
    expect(page.locator(".card")).to_have_count(30)
    shot(page, "feed")

    page.get_by_role("link", name="Previous day").click()
    expect(page.locator("h2")).to_have_text("Thursday, June 11, 2026")
    expect(page.get_by_text("No papers were featured on this day")).to_be_visible()
    page.get_by_role("link", name="Jun 9, 2026").click()
    expect(page.locator(".card")).to_have_count(5)
    shot(page, "feed-earlier-day")

    page.get_by_role("link", name="Weekly").click()
    expect(page.locator("h2")).to_contain_text("Week 24")
    expect(page.locator(".card")).to_have_count(35)
    page.get_by_role("link", name="upvotes", exact=True).click()
    votes = [int(v) for v in page.locator(".card .votes .count").all_inner_texts()]
    assert votes == sorted(votes, reverse=True) and votes[0] > 0

    page.keyboard.press("/")
    page.keyboard.type("sparse representation classification")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{server}/search?q=sparse+representation+classification")
    first = page.locator(".card .title a").first
    expect(first).to_have_text("Deep Sparse Representation-based Classification")
    expect(page.locator(".card mark").first).to_be_visible()
    shot(page, "search")

    page.get_by_label("Mode").select_option("keyword")
    page.get_by_label("Category").fill("cs.HC")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page).to_have_url(
        f"{server}/search?q=sparse+representation+classification&mode=keyword&cat=cs.HC&year_from=&year_to="
    )

    page.goto(server + "/search?q=sparse+representation+classification")
    page.locator(".card .title a").first.click()
    expect(page.locator("h1")).to_have_text("Deep Sparse Representation-based Classification")
    similar = page.locator(".similar .card .title a")
    expect(similar).to_have_count(6)
    target = similar.first.inner_text()
    shot(page, "paper")
    similar.first.click()
    expect(page.locator("h1")).to_have_text(target)

    page.goto(server + "/papers/2412.99999")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    page.get_by_role("button", name="Search").last.click()
    expect(page).to_have_url(f"{server}/search?q=2412.99999")
    expect(page.get_by_text("No papers match")).to_be_visible()
    page.close()


def test_dark_theme_and_phone_layout(server: str, browser: Browser) -> None:
    dark = browser.new_page(color_scheme="dark", viewport={"width": 1280, "height": 900})
    dark.goto(server + "/")
    background = dark.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(15, 17, 21)"
    shot(dark, "feed-dark")
    dark.close()

    light = browser.new_page(color_scheme="light")
    light.goto(server + "/")
    assert light.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"
    light.close()

    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    for path, name in (
        ("/", "phone-feed"),
        ("/papers/1904.11093", "phone-paper"),
        ("/search?q=gesture", "phone-search"),
    ):
        phone.goto(server + path)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (path, width)  # nothing sticks out sideways
        shot(phone, name)
    phone.close()


def test_the_api_explorer_renders_without_the_internet(server: str, browser: Browser) -> None:
    page = browser.new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(server) else None)
    page.goto(server + "/docs")
    expect(page.get_by_text("/api/daily_papers", exact=True)).to_be_visible()
    shot(page, "api-docs")
    page.goto(server + "/")
    page.goto(server + "/papers/1904.11093")
    assert outside == []  # no CDN, no web fonts, nothing fetched from elsewhere
    page.close()


def test_keyboard_reaches_every_card(server: str, browser: Browser) -> None:
    page = browser.new_page()
    page.goto(server + "/?date=2026-06-09")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("j")
    page.keyboard.press("j")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == page.locator(".card .title a").nth(1).inner_text()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text(focused)
    page.close()


def test_a_visitor_joins_submits_upvotes_and_comments(
    server: str, browser: Browser, inbox: Inbox
) -> None:
    address = f"grace-{server.rsplit(':', 1)[-1]}@lab.org"  # one inbox serves both stores' servers
    page = browser.new_page()
    page.goto(server + "/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("E-mail address").fill(address)
    page.get_by_label("User name").fill("grace")
    page.get_by_label("Name shown on your submissions and comments").fill("Grace H.")
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Create the account").click()
    expect(page.get_by_text("Check your inbox")).to_be_visible()
    page.goto(server + inbox.link(address, server))
    page.get_by_role("button", name="Confirm my address").click()
    expect(page.get_by_role("heading", name="Address confirmed")).to_be_visible()
    page.get_by_role("link", name="Log in").last.click()
    page.get_by_label("E-mail address").fill(address)
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()

    page.get_by_role("link", name="Submit").click()
    page.get_by_label("arXiv id or link").fill("https://arxiv.org/pdf/1707.08567v1")
    page.get_by_role("button", name="Submit").last.click()
    expect(page.locator("h1")).to_have_text(
        "Proceedings of Workshop AEW10: Concepts in Information Theory and Communications"
    )
    expect(page.get_by_text("the paper is on today's feed")).to_be_visible()
    votes = page.locator(".actions .vote .count")
    expect(votes).to_have_text("1")
    page.locator(".actions .vote").click()  # take the vote back, in place (JavaScript)
    expect(votes).to_have_text("0")
    page.locator(".actions .vote").click()
    expect(votes).to_have_text("1")

    page.get_by_label("Add a comment (Markdown)").fill("Worth reading for **section 3**.")
    page.get_by_role("button", name="Comment").click()
    expect(page.locator(".comment .body strong")).to_have_text("section 3")
    expect(page.get_by_role("heading", name="Comments (1)")).to_be_visible()
    shot(page, "paper-with-comment")

    today = time.strftime("%Y-%m-%d", time.gmtime())
    page.goto(f"{server}/?date={today}")
    expect(page.locator(".card .title a")).to_have_text(
        ["Proceedings of Workshop AEW10: Concepts in Information Theory and Communications"]
    )
    expect(page.get_by_text("submitted by Grace H.")).to_be_visible()
    shot(page, "feed-with-submission")
    page.close()


def test_tokens_claims_and_moderation_in_the_browser(
    server: str, store_url: str, browser: Browser, inbox: Inbox
) -> None:
    port = server.rsplit(":", 1)[-1]
    engine = make_engine(store_url)
    with write_transaction(engine) as conn:
        now = dt.datetime.now(dt.UTC)
        create_admin(
            conn, f"boss-{port}@lab.org", f"boss{port}", "The Boss", "a long enough password", now
        )
        member = sign_up(
            conn, f"lin-{port}@lab.org", f"lin{port}", "Lin", "a long enough password", now
        )
        confirm(
            conn,
            Settings(home=Path("/nonexistent"), secret_key="x").signing_key(),
            confirmation_token(conn, "x", member.id),
            now,
        )
    engine.dispose()

    page = browser.new_page()
    log_in_as(page, server, f"lin-{port}@lab.org")
    page.goto(server + "/settings")
    page.get_by_label("New token's name").fill("my bot")
    page.get_by_role("button", name="Create a token").click()
    expect(page.locator("code.token")).to_contain_text("pf_")
    page.goto(server + "/settings")
    expect(page.locator("code.token")).to_have_count(0)  # shown once
    expect(page.get_by_role("cell", name="my bot")).to_be_visible()
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("No tokens.")).to_be_visible()

    page.goto(server + "/papers/1904.11093")
    page.get_by_text("Organization and authorship").click()
    page.get_by_label("I am").select_option(index=0)
    page.get_by_role("button", name="Claim this author").click()
    expect(page.get_by_text("Your claim waits for an admin's confirmation.")).to_be_visible()
    page.get_by_role("button", name="Log out").click()

    log_in_as(page, server, f"boss-{port}@lab.org")
    page.goto(server + "/admin")
    page.get_by_role("button", name="Confirm").first.click()
    expect(page.get_by_role("cell", name="confirmed author claim").first).to_be_visible()
    page.goto(server + "/papers/2008.03186")
    page.get_by_role("button", name="Hide from the feed (admin)").click()
    expect(page.get_by_text("A moderator took this paper off the feed.")).to_be_visible()
    page.goto(server + "/admin")
    expect(page.get_by_role("cell", name="hide paper").first).to_be_visible()
    shot(page, "admin")
    page.goto(f"{server}/u/lin{port}")
    expect(page.get_by_role("heading", name="Papers")).to_be_visible()
    page.close()


def log_in_as(page: Page, server: str, email: str) -> None:
    page.goto(server + "/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_save_list_reorder_share_export_and_for_you_in_the_browser(
    server: str, store_url: str, browser: Browser
) -> None:
    port = server.rsplit(":", 1)[-1]
    engine = make_engine(store_url)
    with write_transaction(engine) as conn:
        now = dt.datetime.now(dt.UTC)
        member = sign_up(
            conn, f"mae-{port}@lab.org", f"mae{port}", "Mae", "a long enough password", now
        )
        confirm(conn, Settings(home=Path("/nonexistent"), secret_key="x").signing_key(),
                confirmation_token(conn, "x", member.id), now)  # fmt: skip
    engine.dispose()
    page = browser.new_page()
    log_in_as(page, server, f"mae-{port}@lab.org")

    page.goto(server + "/for-you")  # a new member: asked to pick categories, never an empty page
    expect(page.get_by_text("Nothing to go on yet")).to_be_visible()
    page.get_by_role("button", name="Follow cs.HC").click()
    expect(page.locator(".why").first).to_have_text("in cs.HC, which you follow")

    page.goto(server + "/?date=2026-06-09")  # save three papers: a click, and "s" on a focused card
    saves = page.locator(".card .save-button")
    saves.nth(0).click()
    expect(saves.nth(0)).to_have_text("Saved")
    saves.nth(1).click()
    page.locator(".card .title a").nth(2).focus()
    page.keyboard.press("s")
    expect(saves.nth(2)).to_have_attribute("aria-pressed", "true")
    saved = page.locator(".card").evaluate_all(
        "cards => cards.slice(0, 3).map(c => c.dataset.paper)"
    )
    page.goto(server + "/saved")
    expect(page.locator(".card")).to_have_count(3)

    page.goto(server + "/for-you")
    expect(page.locator(".why", has_text="you saved").first).to_be_visible()
    first = page.locator(".card").first
    dismissed = first.get_attribute("data-paper")
    first.get_by_role("button", name="Not interested").click()
    expect(page.locator(f'.card[data-paper="{dismissed}"]')).to_have_count(0)
    shot(page, "for-you")
    page.get_by_role("button", name="Reset my recommendations").click()
    expect(page.locator(".why", has_text="you saved")).to_have_count(0)

    for n, paper in enumerate(saved):  # a list: the first from a paper page, then the others
        page.goto(f"{server}/papers/{paper}")
        page.get_by_text("Add to a list").click()
        if n == 0:
            page.get_by_label("New list's name").fill("Group reading")
            page.get_by_role("button", name="Create and add").click()
        else:
            page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator(".cards .card")).to_have_count(3)
    page.get_by_role(
        "button", name=f"Move {page.locator('.card .title a').nth(2).inner_text()} up"
    ).click()
    order = page.locator(".card").evaluate_all("cards => cards.map(c => c.dataset.paper)")
    assert order == [saved[0], saved[2], saved[1]]
    page.get_by_label("Who can see it").select_option("unlisted")
    page.get_by_role("button", name="Save", exact=True).click()
    link = page.url
    with page.expect_download() as download:
        page.get_by_role("link", name="BibTeX").click()
    assert "@misc{" in Path(download.value.path()).read_text()
    shot(page, "reading-list")

    stranger = browser.new_page()  # the shared link, logged out
    stranger.goto(link)
    expect(stranger.locator(".card")).to_have_count(3)
    expect(stranger.get_by_role("button", name="Delete this list")).to_have_count(0)
    stranger.close()
    page.close()


def test_no_page_breaks_the_content_security_policy(server: str, browser: Browser) -> None:
    page = browser.new_page()
    blocked: list[str] = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    for path in ("/", "/trending", "/search?q=gesture", "/papers/1812.06145", "/docs", "/signup"):
        page.goto(server + path)
        page.wait_for_load_state("networkidle")
        if path == "/docs":  # the explorer's inline start script ran
            expect(page.locator(".swagger-ui .info")).to_be_visible()
    assert blocked == []
    page.close()
