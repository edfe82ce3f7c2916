"""The catalogs read right: English agrees with its counts, nothing hedges with '(s)'."""

from __future__ import annotations

import string
from collections import defaultdict

import pytest

from bot.i18n import CATALOGS, t
from tests.wording import defects, english_plural_defects

# Placeholders that carry words, dates or percentages; every other one is a count.
TEXT = {
    "name",
    "org",
    "orgs",
    "reviewer",
    "verifier",
    "subject",
    "committee",
    "branch",
    "content",
    "comment",
    "text",
    "title",
    "period",
    "month",
    "quarter",
    "date",
    "deadline",
    "due",
    "closes",
    "when",
    "time",
    "url",
    "status",
    "kind",
    "horizon",
    "category",
    "grade",
    "verdict",
    "mark",
    "rate",
    "share",
    "score",
    "on_time",
    "fulfilment",
    "satisfaction",
    "label",
    "what",
    "audience",
    "sender",
    "gaps",
    "fields",
    "reasons",
    "names",
    "lines",
    "plan",
    "result",
    "post",
    "number",
    "example",
    "query",
    "path",
    "format",
    "formats",
    "file",
    "field",
    "value",
    "column",
    "columns",
    "codes",
    "code",
    "ext",
    "phone",
    "who",
    "cadence",
    "award",
    "where",
    "quorum_line",
    "origin",
    "start",
    "end",
    "note",
    "line",
    "message",
    "roles",
    "last",
    "targets",
    "target",
    "responsible",
    "state",
    "pledger",
}


def _sample(text: str) -> dict[str, object]:
    fields = {name: spec for _, name, spec, _ in string.Formatter().parse(text) if name}
    return {
        name: "X" if name in TEXT and not (spec or "").endswith("d") else 1
        for name, spec in fields.items()
    }


@pytest.mark.parametrize("key", sorted(CATALOGS["en"]))
def test_english_agrees_with_a_count_of_one(key: str) -> None:
    """Every count at 1: no '1 entries', no 'item(s)'."""
    text = t("en", key, **_sample(CATALOGS["en"][key]))
    assert english_plural_defects(text) == [], text


def test_the_checks_catch_what_they_are_for() -> None:
    assert english_plural_defects("My record for 2026-06 (1 entries):")
    assert english_plural_defects("1 pledge items are overdue")
    assert english_plural_defects("Sent again to 1 people.")
    assert english_plural_defects("[XH]: 1 have not voted")
    assert english_plural_defects("3 item(s)")
    assert defects("📥 我收到的点评（最近 0 条）：")
    assert defects("承诺人：黄思村党总支（黄思村党总支）")
    assert not defects("承诺人：朱德顺（黄思村党总支）")
    assert not english_plural_defects("1 entry, 2 entries; this is 1 of 3; due 2026-01-1 items")


def test_a_count_picks_its_english_form() -> None:
    forms: dict[int, str] = defaultdict(str)
    for count in (0, 1, 2):
        forms[count] = t("en", "record.title", month="2026-06", count=count)
    assert "(1 entry)" in forms[1] and "(2 entries)" in forms[2] and "(0 entries)" in forms[0]


def test_an_english_string_left_empty_is_not_filled_with_chinese() -> None:
    """The statistics form's units: "个" in Chinese, nothing in English (not "个" again)."""
    assert t("zh_CN", "export.unit.org") == "个"
    assert t("en", "export.unit.org") == ""


def test_a_ballot_choice_has_one_english_name_wherever_it_is_shown() -> None:
    """A voter who chose "Basically satisfied" finds the same words on the chart and the web."""
    sample = {"satisfied": 1, "basic": 2, "unsatisfied": 3, "rate": "90%"}
    web = t("en", "webboard.eval.row", **sample).lower()
    for choice, chart in (("basic", "basic"), ("unsatisfied", "dissatisfied")):
        word = t("en", f"ev.choice.{choice}").lower()
        assert t("en", f"stats.chart.{chart}").lower() == word
        assert word in web
    assert "basically satisfied" in t(
        "en", "stats.caption.evaluations", count=2, rate="90%", min=5
    )
