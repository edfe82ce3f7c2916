"""Deadline parsing: every accepted form, the edge cases, and the error messages."""

from __future__ import annotations

import string
import time
from datetime import date

import pytest

from bot.domain.dates import DeadlineError, format_date, parse_deadline
from bot.i18n.catalogs import dates as catalog

TODAY = date(2026, 5, 10)  # a Sunday in Q2 of a non-leap year

ACCEPTED: list[tuple[str, date, date]] = [
    # absolute dates, in every spelling
    ("2026-12-31", TODAY, date(2026, 12, 31)),
    ("2026/12/31", TODAY, date(2026, 12, 31)),
    ("2026.12.31", TODAY, date(2026, 12, 31)),
    ("2026-7-5", TODAY, date(2026, 7, 5)),
    ("2026年12月31日", TODAY, date(2026, 12, 31)),
    ("2026年12月31号", TODAY, date(2026, 12, 31)),
    ("2026年6月1日", TODAY, date(2026, 6, 1)),
    ("2026年6月底", TODAY, date(2026, 6, 30)),
    ("2027年底", TODAY, date(2027, 12, 31)),
    # full-width digits and punctuation, spaces
    ("２０２６／１２／３１", TODAY, date(2026, 12, 31)),
    ("２０２６－１２－３１", TODAY, date(2026, 12, 31)),
    ("１２月３１日", TODAY, date(2026, 12, 31)),
    ("  2026 - 12 - 31  ", TODAY, date(2026, 12, 31)),
    ("2026 年 12 月 31 日", TODAY, date(2026, 12, 31)),
    ("１２／３１", TODAY, date(2026, 12, 31)),
    # month and day without a year: the next occurrence
    ("12月31日", TODAY, date(2026, 12, 31)),
    ("12月31号", TODAY, date(2026, 12, 31)),
    ("6月1日", TODAY, date(2026, 6, 1)),
    ("12/31", TODAY, date(2026, 12, 31)),
    ("12-31", TODAY, date(2026, 12, 31)),
    ("5月10日", TODAY, TODAY),  # today is allowed
    ("5月9日", TODAY, date(2027, 5, 9)),  # yesterday's month/day means next year
    ("1/5", date(2026, 12, 20), date(2027, 1, 5)),  # year rollover
    ("2月29日", date(2027, 3, 1), date(2028, 2, 29)),  # next occurrence is in a leap year
    # year end
    ("年底", TODAY, date(2026, 12, 31)),
    ("今年年底", TODAY, date(2026, 12, 31)),
    ("年末", TODAY, date(2026, 12, 31)),
    ("今年底", TODAY, date(2026, 12, 31)),
    ("年底前", TODAY, date(2026, 12, 31)),
    ("年底", date(2026, 12, 31), date(2026, 12, 31)),
    ("明年年底", TODAY, date(2027, 12, 31)),
    ("明年底", TODAY, date(2027, 12, 31)),
    # month end
    ("月底", TODAY, date(2026, 5, 31)),
    ("本月底", TODAY, date(2026, 5, 31)),
    ("月末", TODAY, date(2026, 5, 31)),
    ("6月底", TODAY, date(2026, 6, 30)),
    ("4月底", TODAY, date(2027, 4, 30)),
    ("十二月底", TODAY, date(2026, 12, 31)),
    ("下月底", TODAY, date(2026, 6, 30)),
    ("下个月底", TODAY, date(2026, 6, 30)),
    ("下月底", date(2028, 1, 15), date(2028, 2, 29)),  # January of a leap year
    ("下月底", date(2026, 1, 31), date(2026, 2, 28)),
    ("下月底", date(2026, 12, 5), date(2027, 1, 31)),
    ("下月15日", TODAY, date(2026, 6, 15)),
    ("下个月15号", TODAY, date(2026, 6, 15)),
    ("下月五日", TODAY, date(2026, 6, 5)),
    ("下月31日", date(2026, 12, 1), date(2027, 1, 31)),
    # quarter end
    ("季度末", TODAY, date(2026, 6, 30)),
    ("本季度末", TODAY, date(2026, 6, 30)),
    ("季度末", date(2026, 11, 2), date(2026, 12, 31)),
    ("季度末", date(2026, 1, 1), date(2026, 3, 31)),
    # relative
    ("今天", TODAY, TODAY),
    ("明天", TODAY, date(2026, 5, 11)),
    ("后天", TODAY, date(2026, 5, 12)),
    ("3天后", TODAY, date(2026, 5, 13)),
    ("30天内", TODAY, date(2026, 6, 9)),
    ("三天后", TODAY, date(2026, 5, 13)),
    ("十五天内", TODAY, date(2026, 5, 25)),
    ("２０天后", TODAY, date(2026, 5, 30)),
    ("2周后", TODAY, date(2026, 5, 24)),
    ("两周内", TODAY, date(2026, 5, 24)),
    ("3个月后", TODAY, date(2026, 8, 10)),
    ("1个月内", date(2026, 1, 31), date(2026, 2, 28)),
    ("三个月内", TODAY, date(2026, 8, 10)),
    ("截止到12月31日前", TODAY, date(2026, 12, 31)),
    # English
    ("end of year", TODAY, date(2026, 12, 31)),
    ("End of the Year", TODAY, date(2026, 12, 31)),
    ("by the end of the year", TODAY, date(2026, 12, 31)),
    ("end of month", TODAY, date(2026, 5, 31)),
    ("end of next month", TODAY, date(2026, 6, 30)),
    ("end of next month", date(2026, 12, 31), date(2027, 1, 31)),
    ("end of quarter", TODAY, date(2026, 6, 30)),
    ("tomorrow", TODAY, date(2026, 5, 11)),
    ("Tomorrow", TODAY, date(2026, 5, 11)),
    ("in 10 days", TODAY, date(2026, 5, 20)),
    ("in 1 day", TODAY, date(2026, 5, 11)),
    ("in  2  weeks", TODAY, date(2026, 5, 24)),
    ("in 2 months", TODAY, date(2026, 7, 10)),
]


@pytest.mark.parametrize(("text", "today", "expected"), ACCEPTED)
def test_accepted_forms(text: str, today: date, expected: date) -> None:
    assert parse_deadline(text, today) == expected


UNPARSABLE: list[tuple[str, date]] = [
    ("", TODAY),
    ("   ", TODAY),
    ("前", TODAY),
    ("下周", TODAY),
    ("尽快", TODAY),
    ("soon", TODAY),
    ("2月30日", TODAY),
    ("2/30", TODAY),
    ("2026-13-01", TODAY),
    ("2026-02-30", TODAY),
    ("2026-00-10", TODAY),
    ("0000-01-01", TODAY),
    ("2026年13月底", TODAY),
    ("13月31日", TODAY),
    ("12月32日", TODAY),
    ("13/1", TODAY),
    ("2月29日", date(2026, 1, 10)),  # 2026 has no 29 February
    ("2月29日", date(2026, 3, 1)),  # nor has 2027
    ("下月31日", TODAY),  # June has 30 days
    ("十三月底", TODAY),
    ("三四天后", TODAY),
    ("2026-12/31", TODAY),
    ("99999天后", TODAY),
    ("99999个月后", TODAY),
    ("in many days", TODAY),
    ("12月31日 和 1月5日", TODAY),
]


@pytest.mark.parametrize(("text", "today"), UNPARSABLE)
def test_unparsable(text: str, today: date) -> None:
    with pytest.raises(DeadlineError) as info:
        parse_deadline(text, today)
    assert info.value.key == "date.unparsable"
    assert info.value.params == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-12-31", date(2025, 12, 31)),
        ("2026年5月9日", date(2026, 5, 9)),
        ("2026/1/1", date(2026, 1, 1)),
        ("2025年底", date(2025, 12, 31)),
        ("2026年4月底", date(2026, 4, 30)),
    ],
)
def test_past_dates(text: str, expected: date) -> None:
    with pytest.raises(DeadlineError) as info:
        parse_deadline(text, TODAY)
    err = info.value
    assert err.key == "date.past"
    assert err.params == {"date": expected}
    assert format_date(expected, "zh_CN") in err.render("zh_CN")
    assert expected.isoformat() in err.render("en")


def test_today_is_not_past() -> None:
    assert parse_deadline("2026-05-10", TODAY) == TODAY


def test_huge_input_fails_fast() -> None:
    started = time.perf_counter()
    for text in ("1" * 10_000, "年底" * 5_000, " " * 9_999 + "年底", "１" * 10_000):
        with pytest.raises(DeadlineError) as info:
            parse_deadline(text, TODAY)
        assert info.value.key == "date.unparsable"
    assert time.perf_counter() - started < 0.1


def test_unparsable_message_lists_forms() -> None:
    err = DeadlineError("date.unparsable")
    zh = err.render("zh_CN")
    assert "12月31日" in zh and "年底" in zh and "下月底" in zh
    assert "end of year" in err.render("en")
    assert err.render("en-US") == err.render("en")
    assert err.render(None) == zh


def test_format_date() -> None:
    d = date(2026, 1, 5)
    assert format_date(d, "zh_CN") == "2026年1月5日"
    assert format_date(date(2026, 12, 31), "zh_CN") == "2026年12月31日"
    assert format_date(d, "en") == "2026-01-05"


def test_round_trip_of_formatted_dates() -> None:
    d = date(2026, 12, 31)
    assert parse_deadline(format_date(d, "zh_CN"), TODAY) == d
    assert parse_deadline(format_date(d, "en"), TODAY) == d


def test_catalog_languages_match() -> None:
    assert catalog.ZH.keys() == catalog.EN.keys()
    for key in catalog.ZH:
        assert _fields(catalog.ZH[key]) == _fields(catalog.EN[key]), key


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}
