"""Which pledge window a member outside it is told about: this year's before it opens, next
year's once it has passed, on the campaign's calendar day (not UTC's)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from bot.domain.campaign_calendar import load_calendar
from bot.domain.clock import FakeClock
from bot.domain.pledges import PledgeService

JUNE_2026 = (date(2026, 6, 5), date(2026, 6, 10))
JUNE_2027 = (date(2027, 6, 5), date(2027, 6, 10))


@pytest.mark.parametrize(
    ("moment", "told"),
    [
        (datetime(2026, 3, 1, 9, 0, tzinfo=UTC), JUNE_2026),  # before: this year's
        (datetime(2026, 6, 10, 15, 30, tzinfo=UTC), None),  # 23:30 in Beijing: still open
        (datetime(2026, 6, 10, 16, 30, tzinfo=UTC), JUNE_2027),  # 00:30 on 11 June: next
        (datetime(2026, 12, 31, 17, 0, tzinfo=UTC), JUNE_2027),  # 1 January 2027, 01:00
    ],
)
def test_the_window_named_is_the_next_one(
    moment: datetime, told: tuple[date, date] | None
) -> None:
    db: Any = None  # the window needs no database
    service = PledgeService(db, FakeClock(moment), load_calendar())
    assert service._annual_closed() == told
