"""``paperfeed.toml`` in the data directory: which sources ``paperfeed sync`` runs, and how.

    [sync]
    delay_seconds = 3            # between two requests to one provider (arXiv asks for 3)

    [[sync.sources]]
    name = "arxiv-cs"            # a name of your choice: its state and runs are kept under it
    kind = "oai-pmh"             # full, then incremental harvests of a set
    set = "cs"                   # cs, stat, physics:hep-th, ...
    from = "2026-01-01"          # optional: the first harvest starts here (default: everything)

    [[sync.sources]]
    name = "new-ml"
    kind = "arxiv-rss"           # the day's new submissions
    url = "https://rss.arxiv.org/rss/cs.LG+cs.CL"
    auto_feature = ["cs.LG", "cs.CL"]   # put today's new papers in these on the daily feed

    [[sync.sources]]
    name = "diffusion"
    kind = "arxiv-api"           # a search, or a list of ids
    search_query = "cat:cs.RO AND all:diffusion"
    max_results = 200

    [[sync.sources]]
    name = "daily-papers"
    kind = "daily-papers"        # the public site's featured papers, upvotes and submitters
    days = 3                     # today and the two days before
    # dates = [2026-06-12]       # or exactly these days (to backfill a mirror)

Mistakes are reported with the line's meaning, not a traceback.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

CONFIG_NAME = "paperfeed.toml"


class _Source(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    name: str = Field(min_length=1, max_length=200, pattern=r"^[\w.:-]+$")


class OaiSource(_Source):
    kind: Literal["oai-pmh"]
    url: str = "https://export.arxiv.org/oai2"
    set: str | None = None
    metadata_prefix: Literal["arXiv", "arXivRaw"] = "arXiv"
    from_date: dt.date | None = Field(default=None, alias="from")


class RssSource(_Source):
    kind: Literal["arxiv-rss"]
    url: str
    auto_feature: list[str] = []


class ApiSource(_Source):
    kind: Literal["arxiv-api"]
    url: str = "https://export.arxiv.org/api/query"
    search_query: str | None = None
    ids: list[str] = []
    max_results: int = Field(default=100, ge=1, le=10_000)


class DailyPapersSource(_Source):
    kind: Literal["daily-papers"]
    url: str = "https://huggingface.co/api/daily_papers"
    days: int = Field(default=1, ge=1, le=60)
    dates: list[dt.date] = []  # fetch these days instead (a backfill of the site's history)


Source = Annotated[
    OaiSource | RssSource | ApiSource | DailyPapersSource, Field(discriminator="kind")
]


class SyncConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    delay_seconds: float = Field(default=3.0, ge=0)
    retries: int = Field(default=4, ge=0, le=20)
    backoff_seconds: float = Field(default=5.0, ge=0)
    max_retry_after_seconds: float = Field(default=600.0, ge=0)
    timeout_seconds: float = Field(default=60.0, gt=0)
    sources: list[Source] = []


class ConfigError(ValueError):
    """``paperfeed.toml`` is missing, not TOML, or says something that cannot be."""


def load_config(path: Path) -> SyncConfig:
    if not path.is_file():
        raise ConfigError(
            f"{path} does not exist: write one to say which sources to sync "
            "(see `paperfeed sync --help` and the README)"
        )
    try:
        raw = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from None
    try:
        config = SyncConfig.model_validate(raw.get("sync", {}))
    except ValidationError as error:
        problems = "; ".join(
            f"sync.{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise ConfigError(f"{path}: {problems}") from None
    names = [source.name for source in config.sources]
    if len(names) != len(set(names)):
        raise ConfigError(f"{path}: two sources have the same name; names must be unique")
    for source in config.sources:
        if isinstance(source, ApiSource) and not (source.search_query or source.ids):
            raise ConfigError(f"{path}: source {source.name!r} needs search_query or ids")
    return config
