"""The pledge state machine: every allowed and every refused transition; content rules."""

from __future__ import annotations

import itertools

import pytest

from bot.domain.enums import Category, PledgerKind, PledgeStatus
from bot.domain.errors import DomainError
from bot.domain.pledge_rules import (
    TRANSITIONS,
    cadre_gaps,
    categories_for,
    clean_text,
    transition,
)

S = PledgeStatus
EXPECTED: dict[tuple[PledgeStatus, str], PledgeStatus] = {
    (S.DRAFT, "edit"): S.DRAFT,
    (S.RETURNED, "edit"): S.RETURNED,
    (S.AMENDING, "edit"): S.AMENDING,
    (S.DRAFT, "submit"): S.SUBMITTED,
    (S.RETURNED, "submit"): S.SUBMITTED,
    (S.AMENDING, "submit"): S.SUBMITTED,
    (S.SUBMITTED, "approve"): S.PUBLISHED,
    (S.SUBMITTED, "return"): S.RETURNED,
    (S.PUBLISHED, "amend"): S.AMENDING,
    (S.DRAFT, "discard"): S.DRAFT,
    (S.AMENDING, "abandon_amendment"): S.PUBLISHED,
}


@pytest.mark.parametrize(
    ("status", "action"), list(itertools.product(list(PledgeStatus), sorted(TRANSITIONS)))
)
def test_every_transition_is_allowed_or_refused_as_specified(
    status: PledgeStatus, action: str
) -> None:
    expected = EXPECTED.get((status, action))
    if expected is None:
        with pytest.raises(DomainError) as info:
            transition(status, action)
        assert info.value.key == f"pledge.cannot.{action}"
        assert info.value.render("zh_CN")  # a message exists for the refusal
        assert info.value.render("en")
    else:
        assert transition(status, action) is expected


def test_published_pledge_cannot_be_approved_or_edited_directly() -> None:
    for action in ("approve", "return", "edit", "submit", "discard"):
        with pytest.raises(DomainError):
            transition(S.PUBLISHED, action)


def test_categories_by_pledger_kind() -> None:
    assert Category.STUDY in categories_for(PledgerKind.MEMBER)
    assert Category.LEADERSHIP not in categories_for(PledgerKind.MEMBER)
    assert Category.LEADERSHIP in categories_for(PledgerKind.BRANCH)
    assert len(categories_for(PledgerKind.BRANCH)) == 5


@pytest.mark.parametrize(
    ("categories", "gaps"),
    [
        ([], ["study", "serve", "integrity"]),
        ([Category.STUDY, Category.SERVE, Category.INTEGRITY], []),
        ([Category.STUDY, Category.SERVE, Category.DISCIPLINE], []),
        ([Category.STUDY, Category.EXCELLENCE], ["serve", "integrity"]),
        ([Category.SERVE, Category.SERVE], ["study", "integrity"]),
    ],
)
def test_cadre_higher_standard(categories: list[Category], gaps: list[str]) -> None:
    assert cadre_gaps(categories) == gaps


def test_clean_text_trims_and_refuses_empty_and_long() -> None:
    assert clean_text("  走访   困难户  ", 10, "draft.content") == "走访 困难户"
    assert clean_text("第一行\n第二行 ", 20, "draft.content") == "第一行\n第二行"
    with pytest.raises(DomainError) as empty:
        clean_text("   \n ", 10, "draft.content")
    assert empty.value.key == "draft.content.empty"
    with pytest.raises(DomainError) as long:
        clean_text("字" * 11, 10, "draft.content")
    assert long.value.key == "draft.content.too_long"
    assert "10" in long.value.render("zh_CN") and "11" in long.value.render("zh_CN")
