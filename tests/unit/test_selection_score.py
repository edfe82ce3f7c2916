"""The ranking score (weights, missing components), the ranking periods and the views' limits."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.domain.models import Org
from bot.domain.selection import (
    RankingView,
    branch_period,
    member_period,
    period_months,
    subject_key,
)
from bot.domain.selection_models import (
    GRADE_POINTS,
    LeaderGrade,
    SubjectFigures,
    SubjectKind,
    Weights,
    compute_score,
)
from bot.domain.selection_view import assess_card_text, period_label, ranking_text
from tests.buttons import fit_telegram

W = Weights(fulfilment=0.4, on_time=0.2, grade=0.2, satisfaction=0.2)


def test_all_components_weighted() -> None:
    score = compute_score(
        W, fulfilment=90.0, on_time=80.0, grade=LeaderGrade.FAIRLY_GOOD, satisfaction=95.0
    )
    assert score == pytest.approx(0.4 * 90 + 0.2 * 80 + 0.2 * 85 + 0.2 * 95)


def test_grade_points_are_as_documented() -> None:
    assert [GRADE_POINTS[g] for g in LeaderGrade] == [100.0, 85.0, 70.0, 50.0]


def test_missing_components_share_their_weight() -> None:
    # No evaluation yet: satisfaction's 0.2 is shared over the other 0.8 in proportion.
    score = compute_score(
        W, fulfilment=100.0, on_time=50.0, grade=LeaderGrade.POOR, satisfaction=None
    )
    assert score == pytest.approx((0.4 * 100 + 0.2 * 50 + 0.2 * 50) / 0.8)
    # Only a satisfaction rate: the score is that rate.
    assert compute_score(
        W, fulfilment=None, on_time=None, grade=None, satisfaction=87.5
    ) == pytest.approx(87.5)
    # Nothing measured: no score at all (listed last as 暂无), never a zero.
    assert compute_score(W, fulfilment=None, on_time=None, grade=None, satisfaction=None) is None


def test_weights_need_not_sum_to_one_and_zero_weights_drop_out() -> None:
    doubled = Weights(fulfilment=4, on_time=2, grade=2, satisfaction=2)
    args = {"fulfilment": 70.0, "on_time": 60.0, "grade": LeaderGrade.GOOD, "satisfaction": 92.0}
    assert compute_score(doubled, **args) == pytest.approx(compute_score(W, **args))  # type: ignore[arg-type]
    only_fulfilment = Weights(fulfilment=1, on_time=0, grade=0, satisfaction=0)
    assert compute_score(only_fulfilment, **args) == pytest.approx(70.0)  # type: ignore[arg-type]
    assert (
        compute_score(
            only_fulfilment, fulfilment=None, on_time=10.0, grade=None, satisfaction=None
        )
        is None
    )


def test_figures_rates() -> None:
    # 10 items, 8 of them due (fulfilled or past the deadline): the rates are over the 8.
    f = SubjectFigures(
        subject_id=1, name="甲", org_id=2, org_name="村", items=10, due=8, fulfilled=6, on_time=3
    )
    assert (f.fulfilment, f.on_time_rate, f.satisfaction) == (75.0, 37.5, None)
    assert SubjectFigures(subject_id=1, name="甲", org_id=2, org_name="村").fulfilment is None
    not_due = SubjectFigures(subject_id=1, name="甲", org_id=2, org_name="村", items=3)
    assert (not_due.fulfilment, not_due.on_time_rate) == (None, None)  # no figure, not 0%
    assert f.model_copy(update={"satisfaction_permille": 915}).satisfaction == 91.5


@pytest.mark.parametrize(
    ("today", "member", "branch"),
    [
        (date(2026, 11, 2), "2026-10", "2026-B5"),
        (date(2026, 12, 31), "2026-11", "2026-B5"),
        (date(2026, 1, 1), "2025-12", "2025-B6"),
        (date(2026, 2, 28), "2026-01", "2025-B6"),
        (date(2026, 3, 1), "2026-02", "2026-B1"),
        (date(2026, 7, 3), "2026-06", "2026-B3"),
    ],
)
def test_periods(today: date, member: str, branch: str) -> None:
    assert member_period(today) == member
    assert branch_period(today) == branch


def test_period_labels() -> None:
    assert period_months("2026-B4") == (7, 8)
    assert period_label(None, "2026-B4") == "2026年7–8月"
    assert period_label(None, "2026-07") == "2026年7月"
    assert period_label("en", "2026-B4") == "2026-07–08"
    assert (
        subject_key(SubjectKind.MEMBER, 7) == "p:7" and subject_key(SubjectKind.BRANCH, 3) == "o:3"
    )


def test_a_ranking_page_stays_under_telegram_limits() -> None:
    rows = [
        SubjectFigures(
            subject_id=i,
            name="很长的名字" * 10,
            org_id=1,
            org_name="村",
            items=10,
            fulfilled=9,
            on_time=8,
            grade=LeaderGrade.GOOD,
            satisfaction_permille=999,
            score=99.9,
            position=i,
        )
        for i in range(20)
    ]
    view = RankingView(
        kind=SubjectKind.BRANCH,
        org=Org(id=1, code="X", name="某某镇党委" * 20, type="committee"),
        period="2026-B5",
        today=date(2026, 11, 2),
        total=1376,
        rows=rows,
        page=0,
        pages=69,
        published=None,
        weights=W,
    )
    text, buttons = ranking_text(None, view)
    assert len(text) <= 4096
    assert fit_telegram(buttons)


def test_assessment_buttons_fit_in_64_bytes() -> None:
    from bot.domain.selection import AssessCard

    card = AssessCard(
        kind=SubjectKind.MEMBER,
        year=2026,
        figures=SubjectFigures(subject_id=2_147_483_647, name="甲", org_id=1, org_name="村"),
        existing=None,
    )
    for letters in ("", "E", "EQBU", "EQBUE"):
        _, buttons = assess_card_text(None, card, letters)
        assert fit_telegram(buttons)
    assert datetime.now(UTC)  # the views take no clock of their own
