"""Every HTML form of the site, fuzzed (issue 17, finding 9): the forms are found by crawling
the pages a member, an admin and an unconfirmed member see, checked against every ``<form>`` in
the templates, and Hypothesis posts odd values in their fields (NUL and control characters,
64-bit overflows, calendar ends, query syntax, markup, long text) with a valid CSRF token. No
answer may be a 500, and nothing may be logged at ERROR (a traceback)."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, insert, select, update

from paperfeed.config import Settings
from paperfeed.models import AuthorClaim, PaperAuthor, User
from paperfeed.search.embedder import HashingEmbedder
from paperfeed.store.engine import write_transaction
from paperfeed.web.app import create_app
from tests.servers import Inbox
from tests.sources.replay import Replay
from tests.web.helpers import join, log_in, token
from tests.web.test_library import make_list
from tests.web.test_write_api import new_token

TEMPLATES = Path(__file__).parents[2] / "src" / "paperfeed" / "web" / "templates"
#: Forms the crawl does not post, and why: their links come by mail with a one-time token, or
#: posting them ends the session the fuzzing needs (each is tested where it is made).
NOT_FUZZED = {
    "/logout": "ends the session",
    "/settings/delete": "ends the account",
    "/reset/{{ token }}": "needs a mailed token",
    "/unsubscribe/{{ token }}": "needs a mailed token",
}
ODD = st.one_of(
    st.text(max_size=40),
    st.sampled_from([
        "", "0", "-1", str(2**63), str(2**64), "9" * 40, "1e309", "NaN", "9999-12-31",
        "0001-01-01", "9999-W52", "title:*", "x:*", "a\x00b", "\x00", "\x1b[31m", "\u202e",
        "<script>alert(1)</script>", "' OR 1=1 --", "../../etc/passwd", "x" * 3000,
        "🙂" * 50, "a@b", "v0<t@x>", "root,me@x",
    ]),
)  # fmt: skip


@dataclass(frozen=True)
class Form:
    action: str
    fields: tuple[str, ...]  # names, without csrf_token


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._action: str | None = None
        self._fields: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form" and (found.get("method") or "get").lower() == "post":
            self._action, self._fields = found.get("action") or "", []
        elif tag in ("input", "textarea", "select") and self._action is not None:
            name = found.get("name")
            if name and name != "csrf_token" and found.get("type") != "file":
                self._fields.append(name)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._action is not None:
            self.forms.append(Form(self._action, tuple(dict.fromkeys(self._fields))))
            self._action = None


def forms_in(html: str) -> list[Form]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def template_actions() -> set[str]:
    """The action of every post form in the templates, as written there."""
    actions = set()
    for template in TEMPLATES.glob("*.html"):
        for form in re.findall(r"<form\b[^>]*>", template.read_text()):
            if re.search(r'method="post"', form, re.I):
                action = re.search(r'action="([^"]*)"', form)
                actions.add(action[1] if action else "")
    return actions


def matches(template: str, action: str) -> bool:
    if "{{" in template and "'" in template:  # {{ 'a' if x else 'b' }}: either
        return any(matches(a, action) for a in re.findall(r"'([^']+)'", template))
    if re.fullmatch(r"\{\{[^}]*\}\}", template):  # the whole action is a variable (confirm.html):
        return action.startswith("/")  # whatever the page was given; the crawl visits it
    pattern = "".join(
        # a variable is one path segment; a paper's path (the paper_path filter) is /papers/<id>
        ("/papers/.+?" if "paper_path" in part else "[^/]+")
        if part.startswith("{{")
        else re.escape(part)
        for part in re.split(r"(\{\{.*?\}\})", template)
    )
    return re.fullmatch(pattern, action) is not None


@pytest.fixture
def fuzzed_site(site_home: Path, db_url: str, inbox: Inbox, arxiv: Replay) -> Iterator[TestClient]:
    settings_ = Settings(
        home=site_home, db=db_url, base_url="http://testserver", smtp_host="127.0.0.1",
        smtp_port=inbox.port, smtp_security="none", rate_limits=False,
        arxiv_api_url=arxiv.url + "/api/query",
    )  # fmt: skip
    with TestClient(create_app(settings_, HashingEmbedder), raise_server_exceptions=False) as app:
        yield app


def crawl(site: TestClient, inbox: Inbox, engine: Engine) -> list[Form]:
    """The forms a member who is an admin, with a list, a comment, a token and an author
    claim, sees; and those an unconfirmed member sees."""
    join(site, inbox, "ada")
    list_token = make_list(site)
    csrf = token(site)
    site.post(f"/lists/{list_token}/add", data={"paper": "1904.11093", "csrf_token": csrf})
    site.post("/papers/1904.11093/comments", data={"body": "a note", "csrf_token": csrf})
    site.post("/papers/1904.11093/organization", data={"name": "Lab", "csrf_token": csrf})
    site.post("/papers/1904.11093/save", data={"csrf_token": csrf})
    site.post("/follow", data={"kind": "category", "target": "cs.CV", "csrf_token": csrf})
    new_token(site)
    bob = TestClient(site.app)
    join(bob, inbox, "bob")
    bob.post("/papers/1904.11093/comments", data={"body": "bob's", "csrf_token": token(bob)})
    bob.post("/papers/2008.03186/organization", data={"name": "Bob Lab", "csrf_token": token(bob)})
    with write_transaction(engine) as conn:
        ada = conn.scalar(select(User.id).where(User.handle == "ada"))
        author = conn.scalar(
            select(PaperAuthor.author_id).where(PaperAuthor.paper_id == "1904.11093")
        )
        conn.execute(insert(AuthorClaim).values(user_id=ada, author_id=author, paper_id="1904.11093",
                                                status="pending", created_at=dt.datetime.now(dt.UTC)))  # fmt: skip
        conn.execute(update(User).where(User.id == ada).values(is_admin=True))
    site.post("/admin/papers/1812.06145/hide", data={"csrf_token": csrf})
    pages = ["/", "/?date=2026-06-09", "/papers/1812.06145", "/orgs/bob-lab", "/papers/1904.11093", "/search?q=gesture", "/submit",
             "/settings", "/lists", f"/lists/{list_token}", "/admin", "/saved", "/for-you",
             "/orgs/lab", "/u/ada", "/trending", "/about"]  # fmt: skip
    found = [form for page in pages for form in forms_in(site.get(page).text)]
    visitor = TestClient(site.app)
    found += [
        form
        for page in ("/login", "/signup", "/reset", "/")
        for form in forms_in(visitor.get(page).text)
    ]
    newcomer = TestClient(site.app)
    newcomer.post("/signup", data={"email": "new@lab.org", "handle": "newbie", "password": "a long password",
                                   "csrf_token": token(newcomer, "/signup")})  # fmt: skip
    assert log_in(newcomer, "new@lab.org", "a long password").status_code == 303
    found += forms_in(newcomer.get("/").text)
    found += forms_in(newcomer.get(inbox.link("new@lab.org")).text)  # the confirmation page
    return list(dict.fromkeys(found))


def test_every_form_survives_odd_values(
    fuzzed_site: TestClient, inbox: Inbox, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    forms = [f for f in crawl(fuzzed_site, inbox, engine) if f.action not in NOT_FUZZED]
    unreached = {
        t
        for t in template_actions() - set(NOT_FUZZED)
        if not any(matches(t, f.action) for f in forms)
    }
    assert not unreached, f"forms the crawl did not find: {sorted(unreached)}"
    csrf = token(fuzzed_site)
    caplog.set_level(logging.ERROR)

    @settings(max_examples=len(forms) * 3, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
    @given(data=st.data())
    def post_odd_values(data: st.DataObject) -> None:
        form = data.draw(st.sampled_from(forms), label="form")
        values = {name: data.draw(ODD, label=name) for name in form.fields}
        answer = fuzzed_site.post(
            form.action, data={**values, "csrf_token": csrf}, follow_redirects=False
        )
        assert answer.status_code < 500, (form.action, values, answer.text[:300])
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert not errors, (form.action, values, [r.getMessage() for r in errors])

    post_odd_values()
