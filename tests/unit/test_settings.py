"""Settings read from the environment: where the update journal lives."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import Settings


def test_the_journal_of_a_sqlite_file_lies_beside_it(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'jiannuo.db'}")
    assert settings.journal_dir() == tmp_path / "jiannuo.db.updates"


def test_the_journal_of_a_database_server_is_in_the_state_directory_named_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not the working directory: a bot started from elsewhere finds its journal again, and
    two databases never share one."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)
    city = Settings(database_url="postgresql+asyncpg://bot:s%40cret@db.example:5433/city")
    town = Settings(database_url="postgresql+asyncpg://bot@/town?host=/run/postgresql")
    assert city.journal_dir() == tmp_path / "state/jiannuo/postgresql_db.example_5433_city.updates"
    assert town.journal_dir() == tmp_path / "state/jiannuo/postgresql_run_postgresql_town.updates"
    moved = Settings(
        database_url="postgresql+asyncpg://bot@db.example/city", update_journal_dir=Path("/j")
    )
    assert moved.journal_dir() == Path("/j")


def test_without_a_state_directory_set_the_journal_is_under_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    settings = Settings(database_url="postgresql+asyncpg://bot@db.example/city")
    assert (
        settings.journal_dir()
        == tmp_path / ".local/state/jiannuo/postgresql_db.example_city.updates"
    )
