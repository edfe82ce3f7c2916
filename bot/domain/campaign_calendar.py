"""The campaign calendar (config/calendar.toml): phases with dates and audiences."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

from pydantic import BaseModel, Field, field_validator, model_validator

from bot.domain.enums import Role

DEFAULT_CALENDAR = Path(__file__).resolve().parents[2] / "config" / "calendar.toml"


def _month_day(value: str) -> tuple[int, int]:
    month, day = (int(part) for part in value.split("-"))
    date(2024, month, day)  # validates, 2024 being a leap year allows 02-29
    return month, day


class Phase(BaseModel):
    """One phase of the campaign year."""

    id: str
    name_zh: str
    name_en: str
    start: str
    end: str
    audiences: list[Role]
    note_zh: str = ""
    note_en: str = ""

    @field_validator("start", "end")
    @classmethod
    def _valid_day(cls, value: str) -> str:
        _month_day(value)
        return value

    def start_on(self, year: int) -> date:
        """The first day in a given year."""
        return date(year, *_month_day(self.start))

    def end_on(self, year: int) -> date:
        """The last day in a given year."""
        return date(year, *_month_day(self.end))

    def contains(self, day: date) -> bool:
        """Whether a day falls inside the phase."""
        return self.start_on(day.year) <= day <= self.end_on(day.year)

    def name(self, locale: str | None) -> str:
        """The phase's name in a language."""
        return self.name_en if locale == "en" else self.name_zh

    def note(self, locale: str | None) -> str:
        """What the phase asks of people, in a language."""
        return self.note_en if locale == "en" else self.note_zh


class CampaignCalendar(BaseModel):
    """The year's phases and the pledge window."""

    phases: list[Phase] = Field(alias="phase")
    pledge_phase: str | None = None
    enforce_pledge_window: bool = True

    @model_validator(mode="after")
    def _check(self) -> CampaignCalendar:
        ids = [p.id for p in self.phases]
        if len(ids) != len(set(ids)):
            raise ValueError("phase ids must be unique")
        for phase in self.phases:
            if phase.start_on(2024) > phase.end_on(2024):
                raise ValueError(f"phase {phase.id} ends before it starts")
        if self.pledge_phase is not None and self.pledge_phase not in ids:
            raise ValueError(f"pledge_phase {self.pledge_phase} is not a phase")
        return self

    @property
    def pledge_window(self) -> Phase | None:
        """The phase during which annual pledges are submitted."""
        return next((p for p in self.phases if p.id == self.pledge_phase), None)

    def annual_pledges_open(self, day: date) -> bool:
        """Whether an annual pledge may be submitted on this day."""
        window = self.pledge_window
        if window is None or not self.enforce_pledge_window:
            return True
        return window.contains(day)

    def events_on(self, day: date) -> list[tuple[Phase, str]]:
        """The (phase, 'open' | 'close') notices due on a day."""
        events: list[tuple[Phase, str]] = []
        for phase in self.phases:
            if phase.start_on(day.year) == day:
                events.append((phase, "open"))
            if phase.end_on(day.year) == day and phase.end != phase.start:
                events.append((phase, "close"))
        return events


def load_calendar(path: Path | None = None) -> CampaignCalendar:
    """Read and validate a calendar file (the default reproduces seed 000's year)."""
    with (path or DEFAULT_CALENDAR).open("rb") as handle:
        return CampaignCalendar.model_validate(tomllib.load(handle))
