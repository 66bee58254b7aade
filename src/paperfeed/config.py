"""Settings, in one place.

Every setting comes from the environment (``PAPERFEED_*``) and can be overridden by a CLI
option; nothing secret ever lives in the repository. The data directory holds everything a
single machine needs (the SQLite store, later the search indexes and reports), so backing up or
moving an installation is copying one folder.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_HOME = Path(".paperfeed")


class Settings(BaseSettings):
    """Where the data lives and which database holds the store."""

    model_config = SettingsConfigDict(env_prefix="PAPERFEED_", extra="ignore")

    home: Path = Field(default=DEFAULT_HOME, description="data directory")
    db: str | None = Field(default=None, description="SQLAlchemy URL of the store")
    secret_key: str | None = Field(
        default=None,
        description="signs CSRF tokens and (later) sessions; every node of a site needs the same",
    )
    site_name: str = Field(default="paperfeed", description="shown in titles and feeds")
    smtp_host: str | None = Field(default=None, description="no host: mails are printed to the log")
    smtp_port: int = 587
    smtp_security: str = Field(default="starttls", description="starttls, ssl or none")
    smtp_user: str | None = None
    smtp_password: str | None = None
    mail_from: str = "paperfeed <noreply@localhost>"
    outbox_every: float = Field(
        default=5.0, ge=0, description="seconds between a web node's looks at the mail outbox "
        "(0: the node sends none; run `paperfeed mail send-outbox --loop` instead)",
    )  # fmt: skip
    submissions_per_day: int = Field(default=10, description="papers one member may submit a day")
    imports_per_day: int = Field(default=20, description="list imports one member may run a day")
    arxiv_lookups_per_day: int = Field(
        default=100, description="papers one member's list imports may fetch from arXiv a day"
    )
    rate_limits: bool = Field(
        default=True, description="limit requests per IP and per member (off for load tests)"
    )
    arxiv_api_url: str = "https://export.arxiv.org/api/query"
    index_every: str | None = Field(
        default=None, description="catch the search index up with the store this often (serve: 10s)"
    )
    embed: bool = Field(
        default=False,
        description="a serving node's follower also embeds papers the store lacks vectors for "
        "(otherwise it only reads the vectors `paperfeed embed` workers store)",
    )
    embedding_model: str = Field(
        default="all-MiniLM-L6-v2-int8",
        description="the model papers and queries are embedded with (all-MiniLM-L6-v2-int8, "
        "all-MiniLM-L6-v2; hashing-N for tests). Changing it re-embeds in the background: nodes "
        "keep searching with the old model's vectors until the new ones cover the store",
    )
    digest_at: str | None = Field(
        default=None, description="send the digests from the web nodes after this time (HH:MM, UTC)"
    )
    digest_check_every: float = Field(
        default=300.0, gt=0, description="seconds between a node's looks at whether digests are due"
    )
    sync_every: str | None = Field(
        default=None, description="run `paperfeed sync` in the background this often (e.g. 1h)"
    )
    base_url: str = Field(
        default="http://127.0.0.1:8000", description="public address, for links in feeds and mails"
    )

    @property
    def database_url(self) -> str:
        """The store's URL: ``PAPERFEED_DB`` if set, else SQLite inside the data directory."""
        if self.db:
            return self.db
        return f"sqlite:///{(self.home / 'paperfeed.db').resolve()}"

    def signing_key(self) -> str:
        """``PAPERFEED_SECRET_KEY``, or a random key made once and kept in the data directory
        (readable by its owner only), so a single machine needs no setup and no key is ever
        in the repository."""
        if self.secret_key:
            return self.secret_key
        path = self.home / "secret_key"
        if not path.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f"secret_key.{os.getpid()}")
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
            try:
                os.link(partial, path)  # atomic; when two processes race, the first one wins
            except FileExistsError:
                pass
            finally:
                partial.unlink()
        return path.read_text().strip()

    @property
    def reports_dir(self) -> Path:
        """Where ingest runs write the full list of lines they skipped."""
        return self.home / "reports"


def load_settings(
    home: Path | None = None, db: str | None = None, embedding_model: str | None = None
) -> Settings:
    """Settings from the environment, with explicit CLI values taking precedence."""
    overrides: dict[str, object] = {}
    if home is not None:
        overrides["home"] = home
    if db is not None:
        overrides["db"] = db
    if embedding_model is not None:
        overrides["embedding_model"] = embedding_model
    return Settings(**overrides)  # type: ignore[arg-type]
