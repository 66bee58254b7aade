"""The outbox worker against a real SMTP server (aiosmtpd on loopback), on SQLite and PostgreSQL:
retries with backoff on the worker's clock, one sender at a time, nothing sent twice."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from paperfeed.cli import app
from paperfeed.config import Settings
from paperfeed.models import OutboxMail
from paperfeed.services.mail import LogMailer, Mailer, SmtpMailer
from paperfeed.services.outbox import (
    FIRST_RETRY,
    GIVE_UP_AFTER,
    LONGEST_WAIT,
    OutboxReport,
    deliver_due,
    queue_mail,
    retry_wait,
)
from paperfeed.store.engine import make_engine, write_transaction
from tests.servers import Inbox, free_port, smtp_server

T0 = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)


def smtp_settings(port: int, home: Path) -> Settings:
    return Settings(home=home, smtp_host="127.0.0.1", smtp_port=port, smtp_security="none")


def queue(engine: Engine, count: int, at: dt.datetime = T0, prefix: str = "r") -> list[str]:
    settings = Settings()
    addresses = [f"{prefix}{n}@lab.org" for n in range(count)]
    with write_transaction(engine) as conn:
        for address in addresses:
            queue_mail(conn, settings, "test", address, f"Hello {address}", "Body.\n", at)
    return addresses


def statuses(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(select(OutboxMail.status).order_by(OutboxMail.id)))


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with smtp_server() as box:
        yield box


def test_both_mailers_follow_the_protocol(tmp_path: Path) -> None:
    mailers: list[Mailer] = [LogMailer(), SmtpMailer(smtp_settings(25, tmp_path))]
    assert all(callable(m.send) and callable(m.close) for m in mailers)


def test_queued_mail_is_sent_once_and_its_body_forgotten(
    engine: Engine, inbox: Inbox, tmp_path: Path
) -> None:
    addresses = queue(engine, 3)
    mailer = SmtpMailer(smtp_settings(inbox.port, tmp_path))
    report = deliver_due(engine, mailer, T0)
    assert (report.sent, report.retried, report.errors) == (3, 0, [])
    assert deliver_due(engine, mailer, T0 + dt.timedelta(days=1)).sent == 0
    assert sorted(m["To"] for m in inbox.messages) == addresses
    assert len({m["Message-ID"] for m in inbox.messages}) == 3
    with engine.connect() as conn:
        rows = conn.execute(select(OutboxMail.status, OutboxMail.body)).all()
    assert rows == [("sent", "")] * 3  # the one-time links are not kept


def test_backoff_doubles_up_to_its_ceiling() -> None:
    waits = [retry_wait(n) for n in range(1, 8)]
    assert waits[0] == FIRST_RETRY and waits[1] == 2 * FIRST_RETRY
    assert waits == sorted(waits) and waits[-1] == LONGEST_WAIT
    assert retry_wait(10_000) == LONGEST_WAIT  # (no overflow after many tries)


def test_finding_8_smtp_down_for_an_hour_loses_nothing_and_sends_each_mail_once(
    engine: Engine, tmp_path: Path
) -> None:
    """The server is stopped: every try within the hour fails and waits longer (the worker's
    clock, not sleeps); once the server is back, each mail goes out exactly once."""
    port = free_port()  # nothing listens there yet
    mailer = SmtpMailer(smtp_settings(port, tmp_path))
    addresses = queue(engine, 5)
    clock, tries = T0, 0
    while clock < T0 + dt.timedelta(hours=1):
        report = deliver_due(engine, mailer, clock)
        assert report.sent == 0 and report.failed == 0
        tries += report.retried > 0
        clock += dt.timedelta(minutes=1)
    assert 4 <= tries <= 12  # backed off: not once a minute
    assert statuses(engine) == ["pending"] * 5
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        sent = 0
        while clock < T0 + dt.timedelta(hours=3):
            sent += deliver_due(engine, mailer, clock).sent
            clock += dt.timedelta(minutes=1)
        assert sent == 5
        assert sorted(m["To"] for m in box.messages) == addresses
    finally:
        controller.stop()
    assert statuses(engine) == ["sent"] * 5


def test_a_busy_server_is_retried_and_a_refusal_is_final(
    engine: Engine, inbox: Inbox, tmp_path: Path
) -> None:
    queue(engine, 2)
    inbox.busy = 1  # 451 for the first mail
    mailer = SmtpMailer(smtp_settings(inbox.port, tmp_path))
    first = deliver_due(engine, mailer, T0)
    assert (first.sent, first.retried) == (1, 1) and "451" in first.errors[0]
    assert deliver_due(engine, mailer, T0 + FIRST_RETRY / 2).sent == 0  # not due yet
    assert deliver_due(engine, mailer, T0 + FIRST_RETRY).sent == 1
    queue(engine, 1, prefix="gone")
    inbox.refused.add("gone0@lab.org")
    refused = deliver_due(engine, mailer, T0 + FIRST_RETRY)
    assert refused.failed == 1 and "550" in refused.errors[0]
    assert deliver_due(engine, mailer, T0 + GIVE_UP_AFTER).failed == 0  # never tried again
    assert statuses(engine) == ["sent", "sent", "failed"]


def test_a_temporary_failure_gives_up_after_three_days(
    engine: Engine, inbox: Inbox, tmp_path: Path
) -> None:
    queue(engine, 1)
    inbox.busy = 1000
    mailer = SmtpMailer(smtp_settings(inbox.port, tmp_path))
    clock = T0
    while clock <= T0 + GIVE_UP_AFTER:
        deliver_due(engine, mailer, clock)
        clock += LONGEST_WAIT
    assert statuses(engine) == ["failed"]


def slowly(_number: int) -> bool:
    time.sleep(0.1)
    return True


def test_finding_8_two_workers_at_once_only_one_sends(
    db_url: str, engine: Engine, inbox: Inbox, tmp_path: Path
) -> None:
    """Two nodes (two engines) run the worker at the same moment: one holds the lock and sends,
    the other does nothing; every mail arrives once."""
    addresses = queue(engine, 8)
    inbox.before_data = slowly  # so that the two runs overlap
    settings = smtp_settings(inbox.port, tmp_path)
    nodes = [make_engine(db_url), make_engine(db_url)]
    reports: list[OutboxReport] = []
    start = threading.Barrier(2)

    def work(node: Engine) -> None:
        start.wait()
        reports.append(deliver_due(node, SmtpMailer(settings), T0))

    threads = [threading.Thread(target=work, args=(node,)) for node in nodes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for node in nodes:
        node.dispose()
    assert sorted(r.busy for r in reports) == [False, True]
    assert sum(r.sent for r in reports) == 8
    assert sorted(m["To"] for m in inbox.messages) == addresses


def test_finding_8_a_worker_killed_mid_send_resends_nothing_it_marked_sent(
    db_url: str, engine: Engine, inbox: Inbox, tmp_path: Path
) -> None:
    """`paperfeed mail send-outbox` is killed (SIGKILL) while the server holds the third mail
    (not accepted yet); the next run sends the third and the rest, and not the first two."""
    addresses = queue(engine, 5)
    worker: list[subprocess.Popen[bytes]] = []

    def kill_at_third(number: int) -> bool:
        if number == 3:
            os.kill(worker[0].pid, signal.SIGKILL)
            return False  # (421: nobody is left to hear it)
        return True

    inbox.before_data = kill_at_third
    env = {
        **os.environ, "PAPERFEED_HOME": str(tmp_path), "PAPERFEED_DB": db_url,
        "PAPERFEED_SMTP_HOST": "127.0.0.1", "PAPERFEED_SMTP_PORT": str(inbox.port),
        "PAPERFEED_SMTP_SECURITY": "none",
    }  # fmt: skip
    command = [sys.executable, "-m", "paperfeed", "mail", "send-outbox"]
    worker.append(subprocess.Popen(command, env=env))
    assert worker[0].wait(60) == -signal.SIGKILL
    assert [m["To"] for m in inbox.messages] == addresses[:2]
    assert statuses(engine) == ["sent", "sent", "sending", "pending", "pending"]
    inbox.before_data = None
    report = deliver_due(engine, SmtpMailer(smtp_settings(inbox.port, tmp_path)))
    assert (report.resent, report.sent) == (1, 3)
    assert sorted(m["To"] for m in inbox.messages) == addresses  # each exactly once


def test_the_console_mailer_prints_the_mail_when_no_smtp_is_configured(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    queue(engine, 1)
    assert deliver_due(engine, LogMailer(), T0).sent == 1
    printed = capsys.readouterr().err
    assert "Mail to r0@lab.org" in printed and "Hello r0@lab.org" in printed


def test_the_command_says_what_it_did(db_url: str, engine: Engine, tmp_path: Path) -> None:
    queue(engine, 2, at=dt.datetime.now(dt.UTC))
    port = free_port()
    env = {"PAPERFEED_SMTP_HOST": "127.0.0.1", "PAPERFEED_SMTP_PORT": str(port),
           "PAPERFEED_SMTP_SECURITY": "none"}  # fmt: skip
    args = ["--data-dir", str(tmp_path), "--db", db_url, "mail", "send-outbox"]
    down = CliRunner().invoke(app, args, env=env)
    assert down.exit_code == 1
    assert "sent 0, 2 waiting (next try" in down.output and "Connection refused" in down.output
    listed = CliRunner().invoke(
        app, ["--data-dir", str(tmp_path), "--db", db_url, "mail", "outbox"]
    )
    assert listed.exit_code == 0 and "2 waiting, 0 failed" in listed.output
    with write_transaction(engine) as conn:  # (the wait is over)
        conn.execute(OutboxMail.__table__.update().values(next_attempt_at=T0))  # type: ignore[attr-defined]
    with smtp_server() as box:
        env["PAPERFEED_SMTP_PORT"] = str(box.port)
        done = CliRunner().invoke(app, args, env=env)
        assert done.exit_code == 0 and "mail outbox: sent 2, 0 waiting." in done.output
        assert len(box.messages) == 2
