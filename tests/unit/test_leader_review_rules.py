"""Leader review's pure rules: cadence slots, their labels, the draft, and phone matching."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.errors import DomainError
from bot.domain.leader_review import (
    PeriodKind,
    ReviewDraft,
    SubjectKind,
    default_kind,
    kind_of_period,
    parse_subject,
    period_label,
    period_of,
    subject_key,
)
from bot.domain.resident_phone import normalise_phone


@pytest.mark.parametrize(
    ("day", "kind", "slot"),
    [
        (date(2026, 7, 15), PeriodKind.MONTH, "2026-07"),
        (date(2026, 9, 30), PeriodKind.QUARTER, "2026-Q3"),
        (date(2026, 1, 1), PeriodKind.QUARTER, "2026-Q1"),
        (date(2026, 6, 30), PeriodKind.HALF, "2026-H1"),
        (date(2026, 7, 1), PeriodKind.HALF, "2026-H2"),
        (date(2026, 12, 31), PeriodKind.YEAR, "2026"),
    ],
)
def test_period_slots(day: date, kind: PeriodKind, slot: str) -> None:
    assert period_of(kind, day) == slot
    assert kind_of_period(slot) is kind


def test_default_kind_follows_the_campaign_year() -> None:
    assert default_kind(date(2026, 6, 25)) is PeriodKind.HALF  # late Jun: first leader review
    assert default_kind(date(2026, 9, 25)) is PeriodKind.QUARTER  # late Sep: second
    assert default_kind(date(2026, 12, 25)) is PeriodKind.YEAR  # late Dec: the annual one
    assert default_kind(date(2026, 3, 10)) is PeriodKind.QUARTER
    assert default_kind(date(2026, 11, 10)) is PeriodKind.MONTH


def test_period_labels_in_both_languages() -> None:
    assert period_label("zh_CN", "2026-07") == "2026年7月"
    assert period_label("zh_CN", "2026-Q3") == "2026年第三季度"
    assert period_label("zh_CN", "2026-H1") == "2026年上半年"
    assert period_label("zh_CN", "2026") == "2026年度"
    assert period_label("en", "2026-Q3") == "Q3 2026"
    for bad in ("2026-13", "2026-Q5", "26-01", "2026-H3", "x"):
        assert kind_of_period(bad) is None
        assert period_label("zh_CN", bad) == bad


def test_subject_keys_round_trip_and_tampered_keys_are_stale() -> None:
    assert parse_subject(subject_key(SubjectKind.MEMBER, 12)) == (SubjectKind.MEMBER, 12)
    assert parse_subject(subject_key(SubjectKind.BRANCH, 3)) == (SubjectKind.BRANCH, 3)
    for bad in ("", "m", "x12", "m1a", "o-1"):
        with pytest.raises(DomainError) as caught:
            parse_subject(bad)
        assert caught.value.key == "error.stale_button"


def test_draft_survives_plain_data_and_rejects_junk() -> None:
    draft = ReviewDraft("m5", "2026-07", "good", "好", None, 30, True)
    assert ReviewDraft.load(draft.dump()) == draft
    assert ReviewDraft.load(None) is None
    assert ReviewDraft.load({"period": "2026"}) is None


@pytest.mark.parametrize(
    "raw",
    ["13800000151", "+86 138-0000-0151", "0086 13800000151", "8613800000151", "(138)0000 0151"],
)
def test_phone_normalisation(raw: str) -> None:
    assert normalise_phone(raw) == "13800000151"


def test_phone_normalisation_keeps_other_numbers_apart() -> None:
    assert normalise_phone("+1 415 555 0100") == "14155550100"
    assert normalise_phone("") == ""
    assert normalise_phone("８６１３８０００００１５１") == "13800000151"  # full-width digits
