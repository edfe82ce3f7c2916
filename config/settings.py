"""Settings from the environment (prefix JIANNUO_) and an optional .env file."""

from __future__ import annotations

import os
import re
from datetime import time
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url

TELEGRAM_API_URL = "https://api.telegram.org/bot"


class Settings(BaseSettings):
    """Everything the bot reads from its environment; loaded once in main."""

    model_config = SettingsConfigDict(env_prefix="JIANNUO_", env_file=".env", extra="ignore")

    bot_token: SecretStr | None = None
    bot_api_url: str = TELEGRAM_API_URL
    bot_username: str | None = Field(
        default=None, description="used for invite links when the bot cannot be asked (getMe)"
    )
    database_url: str = "sqlite+aiosqlite:///jiannuo.db"
    timezone: str = "Asia/Shanghai"
    locale: str = "zh_CN"
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    invite_ttl_days: int = 30
    outbox_poll_seconds: float = 0.5
    persistence_flush_seconds: float = 1.0
    reminder_tick_seconds: float = 60.0
    quiet_hours: str = Field(default="22:00-08:00", description="no reminders in this span")
    calendar_path: Path | None = Field(
        default=None, description="campaign calendar TOML (default: config/calendar.toml)"
    )
    enforce_pledge_window: bool | None = Field(
        default=None, description="override the calendar's rule for annual pledges"
    )
    # ---- evaluation (评诺) ----
    ballot_key: SecretStr | None = Field(
        default=None,
        description="key of the ballots' voter hash; unset: kept in ballot_key_path, never in "
        "the database",
    )
    ballot_key_path: Path = Field(
        default=Path("jiannuo-ballot.key"), description="where a generated ballot key is kept"
    )
    update_journal_dir: Path | None = Field(
        default=None,
        description="where updates taken and not yet handled are kept (encrypted); unset: "
        "beside a SQLite database file, else in the user's state directory "
        "($XDG_STATE_HOME or ~/.local/state)/jiannuo/, named after the database",
    )
    files_dir: Path | None = Field(
        default=None,
        description="where the files people send are kept (photos, documents; by their SHA-256); "
        "unset: files/ beside a SQLite database file, else <name>.files in the user's state "
        "directory, beside the update journal",
    )
    evaluation_tick_seconds: float = Field(
        default=30.0, description="how often evaluations due are closed and reminders queued"
    )
    quorum_default: int = Field(default=30, description="participants needed (most branches)")
    quorum_small: int = Field(
        default=20, description="participants needed in private enterprises and social orgs"
    )
    satisfaction_pass_percent: float = Field(
        default=90.0, description="below this satisfaction a subject must rectify"
    )
    rank_weight_fulfilment: float = 0.4
    rank_weight_on_time: float = 0.2
    rank_weight_grade: float = 0.2
    rank_weight_satisfaction: float = 0.2
    reevaluation_days: int = Field(
        default=7, description="整改: a re-evaluation after a rectification stays open this long"
    )
    # ---- organisational selection (组织评选): candidates proposed from the year's figures ----
    award_star_fulfilment_percent: float = Field(
        default=95.0,
        description="践诺明星党员: fulfilment at least this (satisfaction too, if any)",
    )
    award_star_top: int = Field(default=10, description="star members proposed per committee")
    award_excellent_fulfilment_percent: float = Field(
        default=90.0, description="优秀党员: fulfilment at least this (satisfaction too, if any)"
    )
    award_excellent_top: int = Field(default=30, description="excellent members per committee")
    award_branch_fulfilment_percent: float = Field(
        default=95.0, description="先进党组织: fulfilment at least this (satisfaction too, if any)"
    )
    award_branch_top: int = Field(default=5, description="advanced branches per committee")
    # ---- openness (三公开): the public web board (网上晒) ----
    web_host: str = Field(default="127.0.0.1", description="address the public web board binds")
    web_port: int | None = Field(
        default=None, description="serve the public web board on this port (unset: not served)"
    )
    public_base_url: str | None = Field(
        default=None,
        description="the web board's public address, e.g. https://example.org/board/ (shown "
        "in chat and in board posts; unset: no link)",
    )
    ballot_base_url: str | None = Field(
        default=None,
        description="where residents reach the ballot slips' page, e.g. https://example.org "
        "(a slip points to <this>/v/<token>); unset: the web board's address without /board/",
    )
    web_behind_proxy: bool = Field(
        default=False,
        description="the web server sits behind a reverse proxy: the ballot page's rate limits "
        "read the client's address from X-Forwarded-For",
    )
    playground_host: str = "127.0.0.1"
    playground_port: int = 8765
    playground_database_url: str = "sqlite+aiosqlite:///jiannuo-playground.db"

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        """Accept '1,2 3' as well as a JSON list."""
        if isinstance(value, str):
            return [int(part) for part in value.replace(",", " ").split() if part]
        if isinstance(value, int):
            return [value]
        return value

    def quiet_span(self) -> tuple[time, time]:
        """The quiet hours as (start, end) times."""
        start, end = (time.fromisoformat(part.strip()) for part in self.quiet_hours.split("-"))
        return start, end

    def ballot_base(self) -> str | None:
        """The address the ballot slips point to (their page is <this>/v/<token>)."""
        if self.ballot_base_url:
            return self.ballot_base_url.rstrip("/")
        if self.public_base_url:
            base = self.public_base_url.rstrip("/")
            return base[: -len("/board")] if base.endswith("/board") else base
        return None

    def files_root(self) -> Path:
        """The file store's directory (storage/files.py): set, or ``files/`` beside a SQLite
        database file, or beside the update journal for a database server."""
        if self.files_dir is not None:
            return self.files_dir
        url = make_url(self.database_url)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            return Path(url.database).parent / "files"
        return self.journal_dir().with_suffix(".files")

    def journal_dir(self) -> Path:
        """The update journal's directory (bot/update_journal.py): set, or beside a SQLite
        database file, or, for a database server, in this user's state directory under the
        database's name (never wherever the process happened to start, and two databases
        never share one)."""
        if self.update_journal_dir is not None:
            return self.update_journal_dir
        url = make_url(self.database_url)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            return Path(f"{url.database}.updates")
        host = url.host or url.query.get("host") or "local"
        parts = [url.get_backend_name(), str(host), str(url.port or ""), url.database or ""]
        name = re.sub(r"[^A-Za-z0-9.-]+", "_", "_".join(p for p in parts if p)).strip("_")
        state = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
        return Path(state) / "jiannuo" / f"{name}.updates"
