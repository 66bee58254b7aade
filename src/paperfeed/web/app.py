"""The ASGI application: ``create_app(settings)`` for tests and embedding, and the factory
``paperfeed serve`` hands to Uvicorn."""

from __future__ import annotations

import datetime as dt
import gc
import logging
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Route
from starlette.types import Scope

from paperfeed.agents.mcp_http import PATH as MCP_PATH
from paperfeed.agents.mcp_http import McpEndpoint
from paperfeed.background import BackgroundJob
from paperfeed.config import Settings, load_settings
from paperfeed.digest.schedule import parse_time, send_if_due
from paperfeed.search.embedder import Embedder, load_model, model_named
from paperfeed.search.indexer import follow_if_free
from paperfeed.search.model_files import ModelMissing
from paperfeed.search.query import BadQuery
from paperfeed.services.outbox import outbox_worker
from paperfeed.store.counters import PRUNE_EVERY, prune_expired
from paperfeed.store.engine import make_engine
from paperfeed.store.migrate import ensure_current
from paperfeed.sync.config import CONFIG_NAME
from paperfeed.sync.schedule import parse_duration, sync_once_if_due
from paperfeed.web import (
    admin,
    api,
    contributions,
    exports,
    feed_routes,
    follows,
    foryou,
    health,
    library,
    markdown,
    members,
    pages,
    profiles,
    write_api,
)
from paperfeed.web import settings as member_settings
from paperfeed.web.forms import Refusal
from paperfeed.web.input_checks import RefuseNul
from paperfeed.web.problems import problem_response
from paperfeed.web.rate_limits import RateLimits
from paperfeed.web.rendering import STATIC_VERSION, TEMPLATES, render
from paperfeed.web.security import HeadedApp, docs_policy
from paperfeed.web.site import Site

STATIC = Path(__file__).parent / "static"
STORE_DOWN = (
    "The database is not answering right now (it may be restarting). "
    "Pages come back by themselves as soon as it does: try again in a moment."
)
RETRY_AFTER = 5  # seconds
#: How long a thread running Python may keep the GIL while another waits for it (Python's
#: default is 5 ms). A request whose query has just answered waits that long for a thread
#: rendering another page; on a busy node that wait came after every round trip to the
#: database. 1 ms: measured, a keyword search beside a busy thread took 5.7 ms, not 13.9.
SWITCH_INTERVAL = 0.001
log = logging.getLogger("paperfeed.web")
#: Swagger UI 5 (OpenAPI 3.1), as files inside the installed fastapi-offline package.
DOCS_ASSETS = Path(fastapi_offline.__file__).parent / "static"


class CachedStatic(StaticFiles):
    """Static files with long cache lifetimes: their URLs carry a version (``?v=``)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


def configured_embedder(settings: Settings) -> Callable[[], Embedder | None]:
    """The configured model for a web node: one thread. A query is a few word pieces, where a
    second thread gains a millisecond and takes the core other requests (and the database,
    and the other nodes of a machine) were using; the background follower's trickle of new
    papers does not need it either."""

    def load() -> Embedder | None:
        try:
            return load_model(settings.embedding_model, settings.home / "models", threads=1)
        except ModelMissing:
            return None  # keyword search still works; the search page says so

    return load


def create_app(
    settings: Settings, embedder_factory: Callable[[], Embedder | None] | None = None
) -> FastAPI:
    engine = make_engine(settings.database_url)
    ensure_current(engine)

    # (the configured model's name is known without loading it; a test's stand-in is loaded)
    known = model_named(settings.embedding_model) if embedder_factory is None else None
    site = Site(settings, engine, embedder_factory or configured_embedder(settings), known)
    jobs = background_jobs(settings, engine, site)
    agents = McpEndpoint(site)
    warmup = health.Warmup(site)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        warmup.start()
        for job in jobs:
            job.start()
        # What is loaded by now lives as long as the process: out of the collector's sight, a
        # full collection no longer walks every module and table definition mid-request.
        gc.freeze()
        sys.setswitchinterval(SWITCH_INTERVAL)
        async with agents.running():  # (the MCP endpoint's requests run in its task group)
            yield
        warmup.stop()
        for job in jobs:
            job.stop()
        engine.dispose()  # close pooled connections when the server stops

    app = HeadedApp(
        lifespan=lifespan,
        title=settings.site_name,
        summary="Daily papers, trending, search over every paper, and feeds.",
        docs_url=None,  # served below from local files: FastAPI's default loads them from a CDN
        redoc_url=None,
    )
    app.state.site = site
    app.state.warmup = warmup
    # (added first, so it runs inside the session middleware and sees the session)
    app.add_middleware(RateLimits, enabled=settings.rate_limits)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.signing_key(),
        session_cookie="paperfeed_session",
        max_age=30 * 24 * 3600,
        same_site="lax",
        https_only=settings.base_url.startswith("https://"),
    )
    app.mount("/static", CachedStatic(directory=STATIC), name="static")
    docs_page = _serve_docs(app, settings)
    app.add_middleware(RefuseNul)  # (outside the session: a refused request reads no cookie)
    app.docs_policy = docs_policy(docs_page)  # (the headers wrap everything: web/security.py)
    # MCP for agents (docs/mcp.md); POST only: see McpEndpoint
    app.router.routes.append(Route(MCP_PATH, agents.app, methods=agents.METHODS))
    app.include_router(health.router)
    app.include_router(write_api.router)  # before api: its /api/v1/papers/{id:path} is greedy
    app.include_router(api.router)
    app.include_router(feed_routes.router)
    app.include_router(members.router)
    app.include_router(contributions.router)
    app.include_router(member_settings.router)
    app.include_router(admin.router)
    app.include_router(profiles.router)
    app.include_router(exports.router)  # before library and pages: their paths are greedy
    app.include_router(markdown.router)  # before pages: /papers/{id} would take the .md
    app.include_router(follows.router)
    app.include_router(library.router)
    app.include_router(foryou.router)
    app.include_router(pages.router)

    _handle_errors(app)
    return app


def _serve_docs(app: FastAPI, settings: Settings) -> str:
    """The OpenAPI explorer at /docs, with Swagger UI's files from the installed package
    (FastAPI's default loads them from a CDN, and the site must work offline). Returns the
    page, whose inline script the security policy allows by hash."""
    app.mount("/docs-assets", CachedStatic(directory=DOCS_ASSETS), name="docs-assets")
    page = bytes(
        get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{settings.site_name} API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        ).body
    ).decode()

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        """The OpenAPI explorer, with Swagger UI's files from the installed package."""
        return HTMLResponse(page)

    return page


INTERNAL_ERROR = (
    "something went wrong on our side: the error is logged; please try again, and tell the "
    "site's admin if it persists"
)


def _handle_errors(app: FastAPI) -> None:
    """Errors as pages for people and as JSON for the API, never a stack trace."""

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in e['loc'][1:]) or e['loc'][0]}: {e['msg']}"
            for e in error.errors()
        )
        if wants_json(request):
            return problem_response(problems, 422)
        return render(request, "error.html", {"message": problems}, status_code=422)

    @app.exception_handler(BadQuery)
    async def bad_query(request: Request, error: BadQuery) -> Response:
        if wants_json(request):
            return problem_response(str(error), 400)
        return render(request, "error.html", {"message": str(error)}, status_code=400)

    @app.exception_handler(Refusal)
    async def refusal(request: Request, error: Refusal) -> Response:
        return error.response

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def store_down(request: Request, error: Exception) -> Response:
        """The database cannot be reached (PostgreSQL stopped, restarting, unreachable): say so
        at once; the pool checks connections before use, so the site recovers by itself."""
        log.warning("the store is not answering: %s", str(error).splitlines()[0][:300])
        headers = {"Retry-After": str(RETRY_AFTER)}
        if wants_json(request):
            return problem_response(STORE_DOWN, 503, headers)
        return _plain_page(request, STORE_DOWN, 503, headers=headers)

    @app.exception_handler(404)
    async def not_found(request: Request, error: Exception) -> Response:
        detail = getattr(error, "detail", "not found")
        if request.url.path.startswith(("/api/", "/static/")) or request.url.path.endswith(
            (".rss", ".atom", ".md")
        ):
            return problem_response(str(detail), 404, getattr(error, "headers", None))
        return render(
            request, "not_found.html", {"wanted": request.url.path, "q": ""}, status_code=404
        )

    @app.exception_handler(StarletteHTTPException)
    async def refused(request: Request, error: StarletteHTTPException) -> Response:
        """Every other refusal (401, 403, 405, 409, 422, 503...) the routes raise."""
        return problem_response(str(error.detail), error.status_code, error.headers)

    @app.exception_handler(Exception)
    async def failed(request: Request, error: Exception) -> Response:
        """A bug or a broken store (say, a SQLite file damaged on disk): the API still answers
        its documented JSON shape, a person gets the site's page; the traceback goes to the log
        (Starlette logs it after this answer), never to the client."""
        if wants_json(request):
            return problem_response(INTERNAL_ERROR, 500)
        return _plain_page(request, INTERNAL_ERROR, 500, title="Something went wrong")


def _plain_page(
    request: Request,
    message: str,
    status_code: int,
    title: str | None = None,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """A page that needs nothing from the store: no member, no CSRF cookie (both would read
    it), for when the store is down or a request failed."""
    page = TEMPLATES.get_template("store_down.html").render(
        site_name=request.app.state.site.settings.site_name, message=message, title=title,
        static_version=STATIC_VERSION,
    )  # fmt: skip
    return HTMLResponse(page, status_code=status_code, headers=headers)


def wants_json(request: Request) -> bool:
    """An API call, or a file-like address (``.rss``, ``.md``): not a page for a browser."""
    return request.url.path.startswith("/api/") or "." in request.url.path.rsplit("/", 1)[-1]


def background_jobs(settings: Settings, engine: Engine, site: Site) -> list[BackgroundJob]:
    """What this node does besides answering requests, as configured (``paperfeed serve``'s
    ``--index-every``, ``--sync-every`` and ``--digest-at``), and always the mail outbox's
    worker (unless ``PAPERFEED_OUTBOX_EVERY=0``: another process sends it) and the pruning of
    expired limit counters."""
    jobs = []
    if settings.index_every and settings.index_every.strip() not in ("0", "off"):

        def follow() -> None:
            # Reading stored vectors needs the model's name only; embedding needs the model.
            model = site.embedder() if settings.embed else site.vector_model()
            if model is not None:
                follow_if_free(engine, settings.home, model, embed=settings.embed)

        jobs.append(BackgroundJob("index", parse_duration(settings.index_every), follow))
    if settings.sync_every:
        every = parse_duration(settings.sync_every)
        config = settings.home / CONFIG_NAME
        jobs.append(
            BackgroundJob(
                "sync",
                min(every, 60.0),
                lambda: sync_once_if_due(engine, config, every),
                first_now=True,
            )
        )
    if settings.outbox_every > 0:
        mail = BackgroundJob(
            "outbox", settings.outbox_every, outbox_worker(engine, settings), first_now=True
        )
        site.mail_queued = mail.wake
        jobs.append(mail)
    # Rows of limits whose window is over: any node may clear them, at any time.
    jobs.append(BackgroundJob("counters", PRUNE_EVERY, lambda: prune_expired(engine)))
    if settings.digest_at:
        at = parse_time(settings.digest_at)
        jobs.append(BackgroundJob(
            "digest", settings.digest_check_every,
            lambda: send_if_due(engine, settings, site.search_or_none, at, dt.datetime.now(dt.UTC)),
        ))  # fmt: skip
    return jobs


def app_from_environment() -> FastAPI:
    """For ``uvicorn --factory``: settings from ``PAPERFEED_*`` (``paperfeed serve`` sets them)."""
    return create_app(load_settings())
