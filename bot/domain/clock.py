"""Clocks: the real one and a settable fake for tests. Every datetime is timezone-aware."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    """Source of the current time in the campaign's time zone."""

    tz: ZoneInfo

    def now(self) -> datetime:
        """Return the current aware datetime."""
        ...


class SystemClock:
    """The wall clock in a given time zone."""

    def __init__(self, tz: str | ZoneInfo = "Asia/Shanghai") -> None:
        self.tz = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)

    def now(self) -> datetime:
        """Return the current aware datetime."""
        return datetime.now(self.tz)


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime, tz: str = "Asia/Shanghai") -> None:
        self.tz = ZoneInfo(tz)
        self._now = start if start.tzinfo else start.replace(tzinfo=self.tz)

    def now(self) -> datetime:
        """Return the fake current time, in the clock's zone like the wall clock's."""
        return self._now.astimezone(self.tz)

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward."""
        self._now += delta

    def set(self, moment: datetime) -> None:
        """Jump to a moment."""
        self._now = moment if moment.tzinfo else moment.replace(tzinfo=self.tz)


class HeldClock:
    """One moment held still: every step of one tick decides at the moment the tick began
    (its quiet hours, its week of lateness), however long the tick's reads take."""

    def __init__(self, moment: datetime, tz: ZoneInfo) -> None:
        self.tz = tz
        self._moment = moment

    def now(self) -> datetime:
        """Return the held moment."""
        return self._moment


def today(clock: Clock) -> date:
    """The current date in the clock's zone."""
    return clock.now().astimezone(clock.tz).date()
