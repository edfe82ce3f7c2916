"""Dates people see: deadlines (完成时限) typed in chat parsed into dates and printed back, and
stored moments shown as the campaign's calendar day.

Every moment the database returns is an aware UTC datetime. A person reads dates in the
campaign's time zone (JIANNUO_TIMEZONE): 07:30 in Beijing on 29 June is 23:30 UTC on 28 June,
so ``moment.date()`` would print the wrong day. ``local_date``, ``format_day`` and
``format_moment`` are the one place a moment becomes a date or a time for a person.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta, tzinfo

from bot.i18n import normalize_locale, t

__all__ = [
    "DeadlineError",
    "format_date",
    "format_day",
    "format_moment",
    "format_time",
    "local_date",
    "parse_deadline",
    "read_count",
]

# Nothing we accept is longer than this; anything longer is rejected before any regex runs.
_MAX_INPUT = 64

# Dashes and full stops that NFKC leaves alone but people type as date separators.
_SEPARATORS = str.maketrans({"—": "-", "–": "-", "‐": "-", "－": "-", "。": ".", "、": "."})

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4}
_CN_DIGITS |= {"五": 5, "六": 6, "七": 7, "八": 8, "九": 9}

# A count: Arabic digits, or a small Chinese numeral (三, 十五, 二十).
_N = r"([0-9]{1,4}|[零〇一二两三四五六七八九十]{1,3})"
_AFTER = r"(?:后|以后|之后|内|以内|之内)"


class DeadlineError(Exception):
    """A deadline the user typed could not be accepted; ``key`` names the catalog message."""

    def __init__(self, key: str, params: Mapping[str, object] | None = None) -> None:
        super().__init__(key)
        self.key = key
        self.params: dict[str, object] = dict(params or {})

    def render(self, locale: str | None) -> str:
        """Return the message for the user in ``locale``."""
        loc = normalize_locale(locale)
        params = {
            k: format_date(v, loc) if isinstance(v, date) else v for k, v in self.params.items()
        }
        return t(loc, self.key, **params)


def format_date(d: date, locale: str | None) -> str:
    """Format a date for people: 2026年12月31日 in Chinese, 2026-12-31 in English."""
    if normalize_locale(locale) == "en":
        return d.isoformat()
    return f"{d.year}年{d.month}月{d.day}日"


def local_date(moment: datetime, tz: tzinfo) -> date:
    """The calendar day of an aware moment in the campaign's time zone ``tz``."""
    if moment.tzinfo is None:
        raise ValueError("a naive datetime has no calendar day in the campaign's zone")
    return moment.astimezone(tz).date()


def format_day(moment: datetime, tz: tzinfo, locale: str | None) -> str:
    """An aware moment as the day a person reads: 2027年6月29日 / 2027-06-29."""
    return format_date(local_date(moment, tz), locale)


def format_time(moment: datetime, tz: tzinfo) -> str:
    """An aware moment's time of day in the campaign's zone: 07:30."""
    if moment.tzinfo is None:
        raise ValueError("a naive datetime has no time in the campaign's zone")
    return f"{moment.astimezone(tz):%H:%M}"


def format_moment(moment: datetime, tz: tzinfo, locale: str | None) -> str:
    """An aware moment with its time: 2027年6月29日 07:30 / 2027-06-29 07:30."""
    if moment.tzinfo is None:
        raise ValueError("a naive datetime has no time in the campaign's zone")
    local = moment.astimezone(tz)
    return f"{format_date(local.date(), locale)} {local:%H:%M}"


def _unparsable() -> DeadlineError:
    return DeadlineError("date.unparsable")


def _count(s: str) -> int:
    """Read '15', '三', '十五', '二十' as an integer."""
    if s.isascii():
        return int(s)
    if "十" in s:
        tens, _, ones = s.partition("十")
        if "十" in ones or (tens and tens not in _CN_DIGITS) or (ones and ones not in _CN_DIGITS):
            raise _unparsable()
        return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)
    if len(s) != 1:
        raise _unparsable()
    return _CN_DIGITS[s]


def read_count(s: str) -> int:
    """A count people type: '15', '三', '十五', '二十'; raise DeadlineError otherwise."""
    return _count(s)


def _make(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise _unparsable() from None


def _month_end(year: int, month: int) -> date:
    if not (1 <= month <= 12 and 1 <= year <= 9999):
        raise _unparsable()
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(d: date, months: int) -> date:
    index = d.year * 12 + d.month - 1 + months
    year, month0 = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise _unparsable()
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(d.day, last))


def _add_days(d: date, days: int) -> date:
    try:
        return d + timedelta(days=days)
    except OverflowError:
        raise _unparsable() from None


def _next_month_day(today: date, month: int, day: int) -> date:
    """The next occurrence (today or later) of a month/day without a year."""
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise _unparsable()
    year = today.year if (month, day) >= (today.month, today.day) else today.year + 1
    return _make(year, month, day)


def _next_month_end(today: date, month: int) -> date:
    """The last day of ``month`` in this year, or next year if that has passed."""
    end = _month_end(today.year, month)
    return end if end >= today else _month_end(today.year + 1, month)


def _quarter_end(today: date) -> date:
    return _month_end(today.year, (today.month - 1) // 3 * 3 + 3)


def _month_end_of(d: date) -> date:
    return _month_end(d.year, d.month)


def _day_of(first: date, day: int) -> date:
    return _make(first.year, first.month, day)


_Rule = tuple[re.Pattern[str], Callable[[re.Match[str], date], date]]

# 周一 … 周日 (also 星期五, 礼拜天, 周5): Monday is 0.
_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_WEEKDAY |= {str(n): n - 1 for n in range(1, 8)}
_EN_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _weekday(which: str, target: int, today: date) -> date:
    """周五 / friday: the next one (today included); 本周五 / this friday: this week's (it may
    have passed); 下周五 / next friday: next week's; 下下周五: the week after (weeks begin on
    Monday)."""
    if not which:
        return today + timedelta(days=(target - today.weekday()) % 7)
    weeks = 2 if which.startswith("下下") else 1 if which.startswith(("下", "next")) else 0
    found = today - timedelta(days=today.weekday()) + timedelta(days=7 * weeks + target)
    if found < today:
        raise DeadlineError("date.past", {"date": found})
    return found


def _rule(pattern: str, build: Callable[[re.Match[str], date], date]) -> _Rule:
    return re.compile(pattern), build


# Rules on the compact form (no whitespace). Absolute dates may lie in the past.
_ABSOLUTE: list[_Rule] = [
    _rule(
        r"([0-9]{4})([-/.])([0-9]{1,2})\2([0-9]{1,2})",
        lambda m, _: _make(int(m[1]), int(m[3]), int(m[4])),
    ),
    _rule(
        r"([0-9]{4})年([0-9]{1,2})月([0-9]{1,2})[日号]?",
        lambda m, _: _make(int(m[1]), int(m[2]), int(m[3])),
    ),
    _rule(
        r"([0-9]{4})年([0-9]{1,2})月(?:底|末)",
        lambda m, _: _month_end(int(m[1]), int(m[2])),
    ),
    _rule(r"([0-9]{4})年(?:底|末)", lambda m, _: _make(int(m[1]), 12, 31)),
]

# Rules on the compact form that always give today or a later date.
_RELATIVE: list[_Rule] = [
    _rule(
        r"([0-9]{1,2})月([0-9]{1,2})[日号]?",
        lambda m, d: _next_month_day(d, int(m[1]), int(m[2])),
    ),
    _rule(
        r"([0-9]{1,2})[-/.]([0-9]{1,2})",
        lambda m, d: _next_month_day(d, int(m[1]), int(m[2])),
    ),
    _rule(r"(?:今年)?(?:年底|年末)|今年底", lambda _, d: date(d.year, 12, 31)),
    _rule(r"明年(?:年底|年末|底)", lambda _, d: _make(d.year + 1, 12, 31)),
    _rule(
        r"(?:本月|这个月|当月)(?:底|末)|(?:本月|这个月|当月)?月(?:底|末)",
        lambda _, d: _month_end(d.year, d.month),
    ),
    _rule(r"下个?月(?:底|末)", lambda _, d: _month_end_of(_add_months(d.replace(day=1), 1))),
    _rule(
        r"下个?月" + _N + r"[日号]",
        lambda m, d: _day_of(_add_months(d.replace(day=1), 1), _count(m[1])),
    ),
    _rule(_N + r"月(?:底|末)", lambda m, d: _next_month_end(d, _count(m[1]))),
    _rule(r"(?:本|这个)?季度?(?:末|底)", lambda _, d: _quarter_end(d)),
    _rule(r"今天|今日", lambda _, d: d),
    _rule(r"明天|明日", lambda _, d: _add_days(d, 1)),
    _rule(r"后天", lambda _, d: _add_days(d, 2)),
    _rule(_N + r"(?:天|日)" + _AFTER, lambda m, d: _add_days(d, _count(m[1]))),
    _rule(
        _N + r"(?:周|个?星期|个?礼拜)" + _AFTER,
        lambda m, d: _add_days(d, 7 * _count(m[1])),
    ),
    _rule(_N + r"个月" + _AFTER, lambda m, d: _add_months(d, _count(m[1]))),
    _rule(
        r"(本|这个?|下下个?|下个?)?(?:周|星期|礼拜)([一二三四五六日天1-7])",
        lambda m, d: _weekday(m[1] or "", _WEEKDAY[m[2]], d),
    ),
]

# Rules on the lower-cased, space-normalised form (English).
_ENGLISH: list[_Rule] = [
    _rule(r"today", lambda _, d: d),
    _rule(r"tomorrow", lambda _, d: _add_days(d, 1)),
    _rule(r"(?:the )?end of (?:the |this )?year|year end", lambda _, d: date(d.year, 12, 31)),
    _rule(r"(?:the )?end of next year", lambda _, d: _make(d.year + 1, 12, 31)),
    _rule(
        r"(?:the )?end of (?:the |this )?month|month end",
        lambda _, d: _month_end(d.year, d.month),
    ),
    _rule(
        r"(?:the )?end of next month",
        lambda _, d: _month_end_of(_add_months(d.replace(day=1), 1)),
    ),
    _rule(r"(?:the )?end of (?:the |this )?quarter|quarter end", lambda _, d: _quarter_end(d)),
    _rule(r"in ([0-9]{1,4}) days?", lambda m, d: _add_days(d, int(m[1]))),
    _rule(r"in ([0-9]{1,4}) weeks?", lambda m, d: _add_days(d, 7 * int(m[1]))),
    _rule(r"in ([0-9]{1,4}) months?", lambda m, d: _add_months(d, int(m[1]))),
    _rule(
        r"(?:(this|next) )?(" + "|".join(_EN_WEEKDAYS) + r")",
        lambda m, d: _weekday(m[1] or "", _EN_WEEKDAYS.index(m[2]), d),
    ),
]


# "截止到12月31日前", "by the end of the year": the decoration around the date itself.
_ZH_PREFIX = re.compile(r"^(?:截止到|截至到|截止|截至|到|于|在)")
_ZH_SUFFIX = re.compile(r"(?:之前|以前|前|为止|止)$")
_EN_PREFIX = re.compile(r"^(?:by|before|until) ")


def _first_match(rules: list[_Rule], text: str, today: date) -> date | None:
    for pattern, build in rules:
        m = pattern.fullmatch(text)
        if m:
            return build(m, today)
    return None


def parse_deadline(text: str, today: date) -> date:
    """Parse a deadline such as 2026-12-31, 12月31日, 年底 or 3天后; raise DeadlineError."""
    if not text or len(text) > _MAX_INPUT:
        raise _unparsable()
    norm = unicodedata.normalize("NFKC", text).translate(_SEPARATORS).lower()
    compact = "".join(norm.split())
    compact = _ZH_SUFFIX.sub("", _ZH_PREFIX.sub("", compact))
    if not compact:
        raise _unparsable()

    found = _first_match(_ABSOLUTE, compact, today)
    if found is not None:
        if found < today:
            raise DeadlineError("date.past", {"date": found})
        return found

    found = _first_match(_RELATIVE, compact, today)
    if found is None:
        spaced = _EN_PREFIX.sub("", " ".join(norm.split()))
        found = _first_match(_ENGLISH, spaced, today)
    if found is None:
        raise _unparsable()
    return found
