"""Saved papers and reading lists through the site, on SQLite and PostgreSQL: saving in place,
lists (create, add, reorder, note, remove, visibility), who may see a list, its feeds and JSON,
downloads parsed back by reference-manager parsers, and importing ids, DOIs and BibTeX (papers
the store lacks fetched from a replayed arXiv API)."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import feedparser
import rispy
from bibtexparser.entrypoint import parse_string
from citeproc.source.json import CiteProcJSON
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from paperfeed.ingest import ingest_file
from paperfeed.models import ListItem, Paper, SavedPaper
from paperfeed.normalize import normalise
from paperfeed.paper_urls import paper_path
from paperfeed.services import accounts, library
from paperfeed.sources.record import PaperRecord
from paperfeed.store.engine import write_transaction
from paperfeed.store.papers import upsert_papers
from tests.servers import Inbox
from tests.web.helpers import PASSWORD, join, log_in, token

PAPERS = ["1812.06145", "1904.11093", "1907.00326"]


DOI = "10.1145/3377811.3380411"


def give_a_doi(engine: Engine) -> str:
    """The sample papers have no DOI: give one of them one (as a journal version would)."""
    with engine.begin() as conn:
        paper = conn.scalar(select(Paper.id).where(Paper.id.not_in(PAPERS)).order_by(Paper.id))
        conn.execute(update(Paper).where(Paper.id == paper).values(doi=DOI))
    assert paper is not None
    return paper


def make_list(site: TestClient, name: str = "Reading group", visibility: str = "private") -> str:
    made = site.post("/lists", data={"name": name, "visibility": visibility, "csrf_token": token(site, "/lists")},
                     follow_redirects=False)  # fmt: skip
    assert made.status_code == 303, made.text
    return made.headers["location"].rsplit("/", 1)[-1]


def add(site: TestClient, list_token: str, paper: str) -> None:
    done = site.post(f"/lists/{list_token}/add", data={"paper": paper, "csrf_token": token(site, "/lists")},
                     follow_redirects=False)  # fmt: skip
    assert done.status_code == 303, done.text


def order(site: TestClient, list_token: str) -> list[str]:
    return re.findall(r'<div id="p-([^"]+)">', site.get(f"/lists/{list_token}").text)


def test_save_in_place_and_the_saved_page(site: TestClient, inbox: Inbox) -> None:
    anonymous = site.post("/papers/1812.06145/save", data={"csrf_token": token(site)},
                          headers={"Accept": "application/json"})  # fmt: skip
    assert anonymous.status_code == 401 and anonymous.json()["login"].startswith("/login")
    join(site, inbox, "ada")
    assert "Nothing saved yet" in site.get("/saved").text
    saved = site.post("/papers/1812.06145/save", data={"csrf_token": token(site)},
                      headers={"Accept": "application/json"})  # fmt: skip
    assert saved.json() == {"saved": True}
    site.post("/papers/1904.11093/save", data={"csrf_token": token(site)})  # without JavaScript
    page = site.get("/saved").text
    assert page.index("1904.11093") < page.index("1812.06145")  # the latest first
    assert 'aria-pressed="true"' in site.get("/papers/1812.06145").text
    again = site.post("/papers/1812.06145/save", data={"csrf_token": token(site)},
                      headers={"Accept": "application/json"})  # fmt: skip
    assert again.json() == {"saved": False} and "1812.06145" not in site.get("/saved").text
    forged = site.post(
        "/papers/1812.06145/save", data={"csrf_token": "x"}, headers={"Accept": "application/json"}
    )
    assert forged.status_code == 403


def test_a_list_is_built_reordered_annotated_and_shared(site: TestClient, inbox: Inbox) -> None:
    join(site, inbox, "ada")
    list_token = make_list(site, visibility="private")
    for paper in PAPERS:
        add(site, list_token, paper)
    add(site, list_token, PAPERS[0])  # twice is once
    assert order(site, list_token) == PAPERS
    site.post(
        f"/lists/{list_token}/papers/{PAPERS[2]}/up", data={"csrf_token": token(site, "/lists")}
    )
    site.post(
        f"/lists/{list_token}/papers/{PAPERS[0]}/down", data={"csrf_token": token(site, "/lists")}
    )
    assert order(site, list_token) == [PAPERS[2], PAPERS[0], PAPERS[1]]
    site.post(f"/lists/{list_token}/papers/{PAPERS[0]}/note",
              data={"note": "Read §3 <b>first</b>", "csrf_token": token(site, "/lists")})  # fmt: skip
    page = site.get(f"/lists/{list_token}").text
    assert "Read §3 &lt;b&gt;first&lt;/b&gt;" in page  # escaped
    site.post(
        f"/lists/{list_token}/papers/{PAPERS[1]}/remove", data={"csrf_token": token(site, "/lists")}
    )
    assert order(site, list_token) == [PAPERS[2], PAPERS[0]]

    stranger = TestClient(site.app)
    assert stranger.get(f"/lists/{list_token}").status_code == 404  # private: not found, not 403
    assert stranger.get(f"/lists/{list_token}.rss").status_code == 404
    assert stranger.get(f"/api/v1/lists/{list_token}").status_code == 404
    assert stranger.get(f"/lists/{list_token}/export.bib").status_code == 404
    join(stranger, inbox, "bob")
    assert stranger.get(f"/lists/{list_token}").status_code == 404
    taken = stranger.post(
        f"/lists/{list_token}/papers/{PAPERS[0]}/remove",
        data={"csrf_token": token(stranger, "/lists")},
    )
    assert taken.status_code == 404

    site.post(f"/lists/{list_token}/edit", data={"name": "Week 12", "visibility": "unlisted", "description": "",
                                                "csrf_token": token(site, "/lists")})  # fmt: skip
    shared = stranger.get(f"/lists/{list_token}")
    assert shared.status_code == 200 and "Week 12" in shared.text and "Move" not in shared.text
    feed = feedparser.parse(stranger.get(f"/lists/{list_token}.atom").text)
    assert not feed.bozo and [e.link.rsplit("/", 1)[-1] for e in feed.entries] == [
        PAPERS[0],
        PAPERS[2],
    ]
    assert feedparser.parse(stranger.get(f"/lists/{list_token}.rss").text).feed.title.startswith(
        "Week 12"
    )
    listed = stranger.get(f"/api/v1/lists/{list_token}").json()
    assert [p["id"] for p in listed["papers"]] == [PAPERS[2], PAPERS[0]]
    assert listed["papers"][1]["note"] == "Read §3 <b>first</b>" and listed["owner"] == "ada"
    assert f"/lists/{list_token}" not in stranger.get("/u/ada").text  # unlisted: not on the profile
    site.post(f"/lists/{list_token}/edit", data={"name": "Week 12", "visibility": "public", "description": "",
                                                "csrf_token": token(site, "/lists")})  # fmt: skip
    assert f"/lists/{list_token}" in stranger.get("/u/ada").text  # public: on the profile
    site.post(f"/lists/{list_token}/delete", data={"csrf_token": token(site, "/lists")})
    assert stranger.get(f"/lists/{list_token}").status_code == 404


def test_downloads_parse_back(site: TestClient, inbox: Inbox, engine: Engine) -> None:
    with_doi = give_a_doi(engine)
    join(site, inbox, "ada")
    list_token = make_list(site)
    for paper in [*PAPERS, with_doi]:
        add(site, list_token, paper)
    bib = site.get(f"/lists/{list_token}/export.bib")
    assert bib.headers["content-type"].startswith("application/x-bibtex")
    assert "attachment" in bib.headers["content-disposition"]
    parsed = parse_string(bib.text)
    assert not parsed.failed_blocks and len(parsed.entries) == 4
    by_eprint = {e.fields_dict["eprint"].value: e for e in parsed.entries}
    assert set(by_eprint) == {*PAPERS, with_doi}
    assert by_eprint[with_doi].fields_dict["doi"].value
    assert by_eprint[PAPERS[0]].fields_dict["archiveprefix"].value == "arXiv"
    assert len({e.key for e in parsed.entries}) == 4  # keys unique

    ris = rispy.load(io.StringIO(site.get(f"/lists/{list_token}/export.ris").text))
    assert [r["accession_number"] for r in ris] == [f"arXiv:{p}" for p in [*PAPERS, with_doi]]
    assert all(r["authors"] and r["title"] for r in ris) and ris[3]["doi"]

    items = json.loads(site.get(f"/lists/{list_token}/export.csl.json").text)
    source = CiteProcJSON(items)
    assert sorted(source) == sorted([*PAPERS, with_doi])
    assert items[0]["author"][0]["family"] and items[0]["number"] == f"arXiv:{PAPERS[0]}"

    one = parse_string(site.get(f"/papers/{PAPERS[0]}/export.bib").text)
    assert [e.fields_dict["eprint"].value for e in one.entries] == [PAPERS[0]]
    found = parse_string(site.get("/search/export.bib?q=gesture").text)
    assert found.entries and not found.failed_blocks
    site.post(f"/papers/{PAPERS[1]}/save", data={"csrf_token": token(site)})
    assert "1904.11093" in site.get("/saved/export.ris").text
    assert site.get(f"/lists/{list_token}/export.docx").status_code == 404


def test_import_ids_dois_and_bibtex_into_a_list(
    site: TestClient, inbox: Inbox, engine: Engine
) -> None:
    paper, doi = give_a_doi(engine), DOI
    join(site, inbox, "ada")
    list_token = make_list(site)
    ids = f"https://arxiv.org/abs/{PAPERS[0]}v2\n{doi.upper()}\n10.1000/not-here\nnonsense\narXiv:1707.08567\n2412.99999\n"
    bibtex = (
        "@misc{a, title={Gestures}, eprint={1904.11093}, archivePrefix={arXiv}}\n"
        "@article{b, title={No ids}, journal={J}}\n"
        "@misc{c, title={By DOI}, doi={10.48550/arXiv.1907.00326}}\n"
        "@misc{broken, title={oops\n"
    )
    done = site.post(
        f"/lists/{list_token}/import", data={"ids": ids, "csrf_token": token(site, "/lists")},
        files={"file": ("refs.bib", bibtex.encode(), "text/x-bibtex")},
    )  # fmt: skip
    assert done.status_code == 200, done.text
    summary = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", done.text.split("<main")[1]))
    assert "5 added, 5 not imported" in summary, summary
    for entry in ("10.1000/not-here", "nonsense", "2412.99999", "<code>b</code>"):
        assert entry in done.text
    assert (
        order(site, list_token)
        == [PAPERS[0], paper, "1707.08567", "1904.11093", "1907.00326"][:2]
        + order(site, list_token)[2:]
    )
    assert set(order(site, list_token)) == {
        PAPERS[0],
        paper,
        "1707.08567",
        "1904.11093",
        "1907.00326",
    }
    with engine.connect() as conn:  # the paper the store lacked came from the (replayed) arXiv API
        assert conn.scalar(select(Paper.title).where(Paper.id == "1707.08567"))


def test_saves_and_list_additions_sent_while_a_merge_runs_land_on_the_arxiv_paper(
    site: TestClient, engine: Engine, tmp_path: Path
) -> None:
    """Three members save a captured paper and three add it to a list while the import that
    merges it into its arXiv record holds its transaction open: each request lands on the
    arXiv paper (they failed on the old paper's foreign key, a 500)."""
    old, new = "capture:quartz", "2501.00001"
    title = "Quartz lattice resonators under cryogenic strain"
    (tmp_path / "capture.jsonl").write_text(
        json.dumps({"id": old, "title": title, "date_shown": "Jan 20"}) + "\n"
    )
    ingest_file(engine, "jsonl", tmp_path / "capture.jsonl")
    now = dt.datetime.now(dt.UTC)
    clients, lists = [], []
    for n in range(6):
        with write_transaction(engine) as conn:
            member = accounts.create_admin(conn, f"s{n}@lab.org", f"s{n}", "", PASSWORD, now)
            lists.append(library.create_list(conn, member, "Reading", "public", now))
        client = TestClient(site.app)
        assert log_in(client, f"s{n}@lab.org").status_code == 303
        clients.append((client, token(client, "/lists")))

    def save(n: int) -> int:
        client, csrf = clients[n]
        return client.post(paper_path(old) + "/save", data={"csrf_token": csrf}, follow_redirects=False).status_code  # fmt: skip

    def add(n: int) -> int:
        client, csrf = clients[n]
        data = {"csrf_token": csrf, "paper": old}
        return client.post(f"/lists/{lists[n]}/add", data=data, follow_redirects=False).status_code

    record = normalise(PaperRecord(id=new, title=title, abstract="The arXiv record."))
    with ThreadPoolExecutor(6) as pool:
        with write_transaction(engine) as conn:
            upsert_papers(conn, [record], "jsonl", now)  # merges, and holds the locks until commit
            calls = [pool.submit(save, n) for n in range(3)] + [pool.submit(add, n) for n in range(3, 6)]  # fmt: skip
            time.sleep(1.5)  # every request is waiting on the merge by now
        assert [call.result() for call in calls] == [303] * 6

    with engine.connect() as conn:
        assert conn.scalars(select(SavedPaper.paper_id)).all() == [new] * 3
        assert conn.scalars(select(ListItem.paper_id)).all() == [new] * 3
