"""Digests end to end, on SQLite and PostgreSQL: double opt-in, the mail received by a real SMTP
server on loopback (headers, both parts, links), one-click unsubscribe, exactly once per period,
no paper twice, temporary SMTP refusals, a malformed address."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
from email.message import Message
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import sync_playwright
from sqlalchemy import Engine, func, insert, select

from paperfeed.digest.schedule import parse_time, send_if_due
from paperfeed.digest.send import Sender, send_digests
from paperfeed.models import Delivery, DigestItem, Subscription
from paperfeed.search.embedder import HashingEmbedder
from paperfeed.search.hybrid import PaperSearch
from paperfeed.store.locks import job_lock
from tests.servers import Inbox
from tests.web.helpers import join, outbox_drained, press_link, token
from tests.web.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

DAY = dt.date(2026, 6, 12)


def subscribe(site: TestClient, inbox: Inbox, address: str) -> None:
    site.post("/subscribe", data={"email": address, "csrf_token": token(site)})
    outbox_drained(site)
    assert len([m for m in inbox.messages if m["To"] == address]) == 1  # the confirmation only
    done = press_link(site, inbox.link(address))
    assert done.status_code == 200 and "Subscribed" in done.text


def send(site: TestClient, engine: Engine, day: dt.date = DAY, **options: object):  # type: ignore[no-untyped-def]
    settings = site.app.state.site.settings
    return send_digests(
        engine, settings, None, "daily", day, sender=Sender(settings, lambda _: None), **options
    )


def digests_to(inbox: Inbox, address: str) -> list[Message]:
    return [m for m in inbox.messages if m["To"] == address and m["List-Unsubscribe"]]


def papers_in(mail: Message) -> list[str]:
    text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    return re.findall(r"http://testserver/papers/(\S+)", text)


def test_double_opt_in_then_one_digest_a_period(
    site: TestClient, inbox: Inbox, engine: Engine
) -> None:
    site.post("/subscribe", data={"email": "reader@lab.org", "csrf_token": token(site)})
    assert send(site, engine).sent == 0  # nothing before the link is clicked
    assert press_link(site, inbox.link("reader@lab.org")).status_code == 200

    dry = send(site, engine, dry_run=True)
    assert (
        dry.sent == 0
        and len(dry.previews) == 1
        and "Subject: paperfeed: 10 papers" in dry.previews[0]
    )
    with engine.connect() as conn:
        assert (
            conn.scalar(select(func.count()).select_from(Delivery)) == 0
        )  # a dry run records nothing

    first = send(site, engine)
    assert first.sent == 1
    [mail] = digests_to(inbox, "reader@lab.org")
    assert mail.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in mail.iter_parts()] == ["text/plain", "text/html"]
    assert mail["Message-ID"].startswith("<digest.2026-06-12.") and mail["Date"]
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = mail.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert 'style="' in html and "<style" not in html  # CSS inlined for mail clients
    assert (
        len(papers_in(mail)) == 10
        and "trending on the feed of 12 June 2026"
        in mail.get_body(preferencelist=("plain",)).get_content()
    )  # type: ignore[union-attr]
    assert f'href="http://testserver/papers/{papers_in(mail)[0]}"' in html

    again = send(site, engine)
    assert again.sent == 0 and again.already == 1 and len(digests_to(inbox, "reader@lab.org")) == 1


def test_no_paper_twice_and_one_click_unsubscribe(
    site: TestClient, inbox: Inbox, engine: Engine
) -> None:
    subscribe(site, inbox, "reader@lab.org")
    for offset in range(3):
        assert send(site, engine, DAY + dt.timedelta(days=offset)).sent == 1
    mails = digests_to(inbox, "reader@lab.org")
    sent = [paper for mail in mails for paper in papers_in(mail)]
    assert len(mails) == 3 and len(sent) == 30 and len(set(sent)) == 30  # 35 featured: never twice

    url = re.search(r"<(http://testserver(/unsubscribe/[^>]+))>", mails[-1]["List-Unsubscribe"])
    assert url is not None
    gone = TestClient(site.app).post(url[2])  # what a mail client does: no cookie, no token
    assert gone.status_code == 200 and "Unsubscribed" in gone.text
    assert send(site, engine, DAY + dt.timedelta(days=3)).sent == 0
    assert len(digests_to(inbox, "reader@lab.org")) == 3


def test_temporary_refusals_are_retried_and_bad_addresses_reported(
    site: TestClient, inbox: Inbox, engine: Engine
) -> None:
    subscribe(site, inbox, "reader@lab.org")
    with engine.begin() as conn:
        conn.execute(
            insert(Subscription).values(
                email="not an address", status="active", created_at=dt.datetime.now(dt.UTC)
            )
        )
    inbox.busy = 2  # the server says 451 twice, then accepts
    before = inbox.received
    report = send(site, engine)
    assert inbox.received - before == 3  # two refusals, then the mail
    assert report.sent == 1 and [address for address, _ in report.failed] == ["not an address"]
    assert len(digests_to(inbox, "reader@lab.org")) == 1
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(DigestItem)) == 10


def test_a_sender_killed_mid_batch_never_sends_a_mail_twice(
    site: TestClient, inbox: Inbox, engine: Engine, site_home: Path, db_url: str
) -> None:
    addresses = [f"r{n}@lab.org" for n in range(6)]
    for address in addresses:
        subscribe(site, inbox, address)
    env = {
        **os.environ, "PAPERFEED_HOME": str(site_home), "PAPERFEED_DB": db_url,
        "PAPERFEED_BASE_URL": "http://testserver", "PAPERFEED_SMTP_HOST": "127.0.0.1",
        "PAPERFEED_SMTP_PORT": str(inbox.port), "PAPERFEED_SMTP_SECURITY": "none",
    }  # fmt: skip
    command = [sys.executable, "-m", "paperfeed", "digest", "send", "--date", DAY.isoformat()]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    first = inbox.received

    def kill_at_the_fourth_digest(number: int) -> bool:
        if number - first == 4:  # three digests accepted (and marked sent); kill during the fourth
            os.kill(process.pid, signal.SIGKILL)
            return False
        return True

    inbox.before_data = kill_at_the_fourth_digest
    process.wait(120)
    assert process.returncode == -signal.SIGKILL
    inbox.before_data = None
    assert sum(len(digests_to(inbox, a)) for a in addresses) == 3
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert "sent 3, 3 already sent this period" in again.stdout
    assert [len(digests_to(inbox, a)) for a in addresses] == [1] * 6  # each exactly once
    with engine.connect() as conn:
        assert set(conn.scalars(select(Delivery.status))) == {"sent"}


def test_a_digest_renders_in_a_browser(site: TestClient, inbox: Inbox, engine: Engine) -> None:
    subscribe(site, inbox, "reader@lab.org")
    send(site, engine)
    [mail] = digests_to(inbox, "reader@lab.org")
    html = mail.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 700, "height": 900})
        page.set_content(html)
        assert page.locator("a.title").count() == 10
        assert "Helvetica" in page.evaluate("getComputedStyle(document.body).fontFamily")  # inlined
        assert (
            page.evaluate("getComputedStyle(document.querySelector('a.title')).fontWeight") == "700"
        )
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "digest.png"), full_page=True)
        browser.close()


def test_a_member_digest_with_saved_searches_and_categories(
    site: TestClient, inbox: Inbox, engine: Engine, site_home: Path
) -> None:
    join(site, inbox, "ada")
    saved = site.post("/settings/digest", data={"cadence": "weekly", "trending": "0", "searches": "hand gesture recognition",
                                                "categories": "cs.HC", "csrf_token": token(site, "/settings")},
                      follow_redirects=False)  # fmt: skip
    assert saved.status_code == 303
    assert "Digests go to ada@lab.org (weekly)" in site.get("/settings").text
    settings = site.app.state.site.settings
    searcher = PaperSearch(site_home, HashingEmbedder())
    report = send_digests(
        engine, settings, searcher, "weekly", DAY, sender=Sender(settings, lambda _: None)
    )
    assert report.sent == 1
    [mail] = digests_to(inbox, "ada@lab.org")
    text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "matches your search “hand gesture recognition”" in text and "new in cs.HC" in text
    assert "1812.06145" in papers_in(mail)  # the hand-gesture paper of the corpus
    assert mail["Subject"].endswith("for 2026-W24")
    site.post("/settings/digest", data={"stop": "yes", "csrf_token": token(site, "/settings")})
    assert send_digests(engine, settings, searcher, "weekly", DAY + dt.timedelta(days=7)).sent == 0


def test_serving_nodes_send_after_the_hour_once(
    site: TestClient, inbox: Inbox, engine: Engine
) -> None:
    subscribe(site, inbox, "reader@lab.org")
    settings = site.app.state.site.settings
    at = parse_time("07:00")
    monday = dt.datetime(2026, 6, 15, 6, 59, tzinfo=dt.UTC)
    assert send_if_due(engine, settings, lambda: None, at, monday) == []  # not yet
    with job_lock(engine, "digest"):  # another node is sending
        assert send_if_due(engine, settings, lambda: None, at, monday.replace(hour=8)) == []
    assert send_if_due(engine, settings, lambda: None, at, monday.replace(hour=8)) == [
        "daily",
        "weekly",
    ]
    assert send_if_due(engine, settings, lambda: None, at, monday.replace(hour=9)) == [
        "daily",
        "weekly",
    ]
    assert len(digests_to(inbox, "reader@lab.org")) == 1  # the second node's try found it sent
    for bad in ("7", "25:00", "07:60", "noon"):
        with pytest.raises(ValueError, match="not a time of day"):
            parse_time(bad)


def test_dry_run_for_one_address_prints_its_digest_or_says_why_there_is_none(
    site: TestClient, inbox: Inbox, site_home: Path, db_url: str
) -> None:
    env = {**os.environ, "PAPERFEED_HOME": str(site_home), "PAPERFEED_DB": db_url,
           "PAPERFEED_BASE_URL": "http://testserver"}  # fmt: skip

    def dry_run(*options: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "paperfeed", "digest", "send", "--dry-run",
                   "--date", DAY.isoformat(), *options]  # fmt: skip
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)

    site.post("/subscribe", data={"email": "reader@lab.org", "csrf_token": token(site)})
    pending = dry_run("--to", "reader@lab.org")
    assert pending.returncode == 1 and "has not confirmed its subscription" in pending.stderr
    assert press_link(site, inbox.link("reader@lab.org")).status_code == 200
    shown = dry_run("--to", "READER@lab.org")
    assert shown.returncode == 0, shown.stderr
    assert (
        "To: reader@lab.org" in shown.stdout and "trending on the feed of 12 June" in shown.stdout
    )
    assert "daily digests: would send 1," in shown.stdout
    weekly = dry_run("--to", "reader@lab.org", "--cadence", "weekly")
    assert weekly.returncode == 1 and "gets daily digests: add --cadence daily" in weekly.stderr
    unknown = dry_run("--to", "nobody@lab.org")
    assert unknown.returncode == 1 and "nobody@lab.org has no subscription" in unknown.stderr
    assert len(digests_to(inbox, "reader@lab.org")) == 0  # a dry run sends nothing
