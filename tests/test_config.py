"""Settings: environment first, CLI values over it, SQLite in the data directory by default."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperfeed.config import load_settings


def test_default_store_is_sqlite_in_the_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PAPERFEED_HOME", str(tmp_path))
    monkeypatch.delenv("PAPERFEED_DB", raising=False)
    settings = load_settings()
    assert settings.home == tmp_path
    assert settings.database_url == f"sqlite:///{tmp_path / 'paperfeed.db'}"


def test_cli_values_win_over_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PAPERFEED_DB", "postgresql://env/db")
    assert load_settings().database_url == "postgresql://env/db"
    assert (
        load_settings(db="postgresql://cli/db", home=tmp_path).database_url == "postgresql://cli/db"
    )
