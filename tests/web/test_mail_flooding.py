"""Finding 4: nobody can flood an inbox through the site, nor add recipients to its mail.

Only a plain ``local@domain`` address is taken, in one normal form, on every form that takes
one; the mail caps count in the store (so they hold across nodes and under parallel requests)
and apply to the address each mail goes to. Mails are counted where they arrive: in a real SMTP
server on loopback."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update

from paperfeed.models import OutboxMail, Subscription, User
from paperfeed.services.outbox import PER_IP, PER_RECIPIENT
from tests.servers import Inbox
from tests.web.helpers import PASSWORD, log_in, outbox_drained, token

ODD = [
    "v0<target@lab.org>",
    "root,me@lab.org",
    "a;b:me@lab.org",
    "Target <target@lab.org>",
    "me@lab.org\r\nBcc: target@lab.org",
    "me@lab.org\n",
    "me\x00@lab.org",
    '"me target"@lab.org',
    "me(target)@lab.org",
]
RESET_CAP = PER_RECIPIENT["reset-password"].limit
CONFIRM_CAP = PER_RECIPIENT["confirm-account"].limit
IP_CAP = PER_IP["reset-password"].limit


def sign_up(client: TestClient, address: str, handle: str, then_log_in: bool = False) -> int:
    """Sign up (and, for the tests of "send a new link", log in: sign-up opens no session)."""
    form = {"email": address, "handle": handle, "password": PASSWORD,
            "csrf_token": token(client, "/signup")}  # fmt: skip
    status = client.post("/signup", data=form, follow_redirects=False).status_code
    if then_log_in:
        assert log_in(client, address).status_code == 303
    return status


def as_ip(site: TestClient, number: int) -> TestClient:
    return TestClient(site.app, client=(f"198.51.100.{number}", 4000 + number))


def outbox_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(OutboxMail)) or 0)


@pytest.mark.parametrize("address", ODD)
def test_finding_4_odd_addresses_are_refused_on_every_form(
    site: TestClient, engine: Engine, address: str
) -> None:
    """Subscribe, sign-up and reset: a clear 4xx, nothing stored, nothing queued."""
    answers = {
        "subscribe": site.post("/subscribe", data={"email": address, "csrf_token": token(site)}),
        "reset": site.post("/reset", data={"email": address, "csrf_token": token(site, "/reset")}),
    }
    assert sign_up(site, address, "mallory") == 400
    for form, answer in answers.items():
        assert answer.status_code == 400, form
        if "\x00" not in address:  # (a NUL may be refused before the form is read)
            assert "is not an e-mail address" in answer.text, form
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(User)) == 0
        assert conn.scalar(select(func.count()).select_from(Subscription)) == 0
    assert outbox_rows(engine) == 0


def test_finding_4_a_stored_odd_address_gets_no_mail_on_resend(
    site: TestClient, engine: Engine, inbox: Inbox
) -> None:
    """An account saved before addresses were checked: a new confirmation link is refused
    (400) rather than sent to whatever its address names."""
    assert sign_up(site, "ada@lab.org", "ada", then_log_in=True) == 303
    outbox_drained(site)
    with engine.begin() as conn:
        conn.execute(update(User).values(email="v0<target@lab.org>"))
    answer = site.post("/confirm/resend", data={"csrf_token": token(site)})
    assert answer.status_code == 400 and "is not an e-mail address" in answer.text
    assert outbox_rows(engine) == 1  # the sign-up's own mail only
    assert [m["To"] for m in inbox.messages] == ["ada@lab.org"]


def test_finding_4_addresses_are_normalised_before_the_cap(
    site: TestClient, engine: Engine, inbox: Inbox
) -> None:
    spellings = ["victim@lab.org", "Victim@LAB.org", " VICTIM@lab.ORG", "victim@Lab.Org",
                 "vIctim@lab.org"]  # fmt: skip
    for number, spelling in enumerate(spellings):
        asker = as_ip(site, number)
        done = asker.post("/subscribe", data={"email": spelling, "csrf_token": token(asker)})
        assert done.status_code == 200
    outbox_drained(site)
    assert [m["To"] for m in inbox.messages] == ["victim@lab.org"] * 3
    with engine.connect() as conn:
        assert list(conn.scalars(select(Subscription.email))) == ["victim@lab.org"]


def test_finding_4_reset_25_in_a_row_and_25_in_parallel_send_at_most_the_cap(
    site: TestClient, inbox: Inbox
) -> None:
    assert sign_up(site, "ada@lab.org", "ada") == 303
    assert sign_up(as_ip(site, 1), "bob@lab.org", "bob") == 303
    outbox_drained(site)
    before = len(inbox.messages)
    form = {"email": "ada@lab.org", "csrf_token": token(site, "/reset")}
    in_a_row = [site.post("/reset", data=form).status_code for _ in range(25)]
    assert in_a_row == [200] * IP_CAP + [429] * (25 - IP_CAP)  # the IP's cap
    start = threading.Barrier(25)

    def ask(number: int) -> int:
        asker = as_ip(site, 100 + number)
        data = {"email": "bob@lab.org", "csrf_token": token(asker, "/reset")}
        start.wait()
        return asker.post("/reset", data=data).status_code

    with ThreadPoolExecutor(25) as pool:
        assert set(pool.map(ask, range(25))) == {200}  # the same answer, mail or not
    outbox_drained(site)
    resets = [m["To"] for m in inbox.messages[before:]]
    assert sorted(resets) == ["ada@lab.org"] * RESET_CAP + ["bob@lab.org"] * RESET_CAP


def test_finding_4_the_ip_cap_holds_under_parallel_requests(site: TestClient) -> None:
    """25 parallel resets from one IP address (to 25 addresses): exactly the cap answer 200."""
    start = threading.Barrier(25)

    def ask(number: int) -> int:
        asker = as_ip(site, 7)
        data = {"email": f"nobody{number}@lab.org", "csrf_token": token(asker, "/reset")}
        start.wait()
        return asker.post("/reset", data=data).status_code

    with ThreadPoolExecutor(25) as pool:
        answers = list(pool.map(ask, range(25)))
    assert sorted(answers) == [200] * IP_CAP + [429] * (25 - IP_CAP)


def test_finding_4_resend_25_in_a_row_and_25_in_parallel_send_at_most_the_cap(
    site: TestClient, inbox: Inbox
) -> None:
    assert sign_up(site, "ada@lab.org", "ada", then_log_in=True) == 303  # (its mail counts too)
    in_a_row = [
        site.post("/confirm/resend", data={"csrf_token": token(site)}).status_code
        for _ in range(25)
    ]
    assert in_a_row[: CONFIRM_CAP - 1] == [200] * (CONFIRM_CAP - 1)
    assert set(in_a_row[CONFIRM_CAP - 1 :]) == {429}
    carol = as_ip(site, 50)
    assert sign_up(carol, "carol@lab.org", "carol", then_log_in=True) == 303
    form = {"csrf_token": token(carol)}
    start = threading.Barrier(25)

    def ask(_number: int) -> int:
        same_browser = TestClient(site.app, client=("198.51.100.50", 4050), cookies=carol.cookies)
        start.wait()
        return same_browser.post("/confirm/resend", data=form).status_code

    with ThreadPoolExecutor(25) as pool:
        answers = list(pool.map(ask, range(25)))
    assert answers.count(200) == CONFIRM_CAP - 1 and answers.count(429) == 25 - CONFIRM_CAP + 1
    outbox_drained(site)
    arrived = sorted(m["To"] for m in inbox.messages)
    assert arrived == ["ada@lab.org"] * CONFIRM_CAP + ["carol@lab.org"] * CONFIRM_CAP


def test_sign_ups_from_one_ip_address_stop_at_its_cap_in_parallel(
    site: TestClient, engine: Engine, inbox: Inbox
) -> None:
    """40 parallel sign-ups from one IP address with 40 addresses all made accounts and mailed
    40 strangers (outside check): exactly the cap get through, the rest a 429, no account and
    no mail; another address is not affected."""
    cap = PER_IP["signup"].limit
    tries = cap + 15
    start = threading.Barrier(tries)

    def join(number: int) -> int:
        asker = as_ip(site, 9)
        form = {"email": f"someone{number}@lab.org", "handle": f"someone{number}",
                "password": PASSWORD, "csrf_token": token(asker, "/signup")}  # fmt: skip
        start.wait()
        return asker.post("/signup", data=form, follow_redirects=False).status_code

    with ThreadPoolExecutor(tries) as pool:
        answers = list(pool.map(join, range(tries)))
    assert sorted(answers) == [303] * cap + [429] * (tries - cap)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(User)) == cap
    outbox_drained(site)
    assert len(inbox.messages) == cap
    assert sign_up(as_ip(site, 10), "other@lab.org", "other") == 303
