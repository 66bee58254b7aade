"""Settings, in one place.

Every setting comes from the environment (``PAPERFEED_*``) and can be overridden by a CLI
option; nothing secret ever lives in the repository. The data directory holds everything a
single machine needs (the SQLite store, later the search indexes and reports), so backing up or
moving an installation is copying one folder.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_HOME = Path(".paperfeed")


class Settings(BaseSettings):
    """Where the data lives and which database holds the store."""

    model_config = SettingsConfigDict(env_prefix="PAPERFEED_", extra="ignore")

    home: Path = Field(default=DEFAULT_HOME, description="data directory")
    db: str | None = Field(default=None, description="SQLAlchemy URL of the store")

    @property
    def database_url(self) -> str:
        """The store's URL: ``PAPERFEED_DB`` if set, else SQLite inside the data directory."""
        if self.db:
            return self.db
        return f"sqlite:///{(self.home / 'paperfeed.db').resolve()}"

    @property
    def reports_dir(self) -> Path:
        """Where ingest runs write the full list of lines they skipped."""
        return self.home / "reports"


def load_settings(home: Path | None = None, db: str | None = None) -> Settings:
    """Settings from the environment, with explicit CLI values taking precedence."""
    overrides: dict[str, object] = {}
    if home is not None:
        overrides["home"] = home
    if db is not None:
        overrides["db"] = db
    return Settings(**overrides)  # type: ignore[arg-type]
