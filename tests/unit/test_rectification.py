"""The rectification state machine and its small pure rules."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.chat import features
from bot.chat.actions import action
from bot.domain.enums import Role
from bot.domain.errors import DomainError
from bot.domain.models import Person
from bot.domain.rectification import accepts, decision_buttons, may_file, plan_button, plan_due
from bot.domain.rectification_models import (
    FILABLE,
    OPEN,
    TRANSITIONS,
    RectAction,
    Rectification,
    RectificationKind,
    RectificationStatus,
    percent,
    transition,
)
from bot.i18n import t
from tests.buttons import actions, fit_telegram

S = RectificationStatus
A = RectAction
TZ = ZoneInfo("Asia/Shanghai")


def rect(**values: object) -> Rectification:
    data: dict[str, object] = {
        "id": 7,
        "kind": RectificationKind.SATISFACTION,
        "evaluation_id": 3,
        "subject_id": 11,
        "org_id": 2,
        "person_id": 40,
        "status": S.DUE,
        "created_at": datetime(2026, 9, 25, 2, 0, tzinfo=UTC),
    }
    data.update(values)
    return Rectification.model_validate(data)


def person(pid: int, role: Role, org_id: int = 2) -> Person:
    return Person(id=pid, name=f"p{pid}", org_id=org_id, role=role)


# The loop, step by step: every allowed move, and only those.
EXPECTED = {
    (S.DUE, A.SUBMIT): S.SUBMITTED,
    (S.RETURNED, A.SUBMIT): S.SUBMITTED,
    (S.SUBMITTED, A.ACCEPT): S.ACCEPTED,
    (S.SUBMITTED, A.RETURN): S.RETURNED,
    (S.ACCEPTED, A.REEVALUATE): S.REEVALUATING,
    (S.REEVALUATING, A.PASS): S.CLOSED,
    (S.REEVALUATING, A.FAIL): S.FAILED,
    (S.REEVALUATING, A.INCONCLUSIVE): S.ACCEPTED,
}


def test_the_transition_table_is_the_loop() -> None:
    assert TRANSITIONS == EXPECTED


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("action", list(A))
def test_every_pair_either_moves_as_expected_or_is_refused(
    status: RectificationStatus, action: RectAction
) -> None:
    if (status, action) in EXPECTED:
        assert transition(status, action) is EXPECTED[(status, action)]
    else:
        with pytest.raises(DomainError) as refused:
            transition(status, action)
        assert refused.value.key == "rectify.wrong_state"


def test_closed_and_failed_are_final_and_the_rest_is_open() -> None:
    assert set(S) - {S.CLOSED, S.FAILED} == OPEN
    assert {S.DUE, S.RETURNED} == FILABLE
    for final in (S.CLOSED, S.FAILED):
        assert not [a for (s, a) in TRANSITIONS if s is final]


def test_a_full_round_trip_with_one_return() -> None:
    status = S.DUE
    for step in (A.SUBMIT, A.RETURN, A.SUBMIT, A.ACCEPT, A.REEVALUATE, A.PASS):
        status = transition(status, step)
    assert status is S.CLOSED


def test_every_state_has_a_name_in_both_languages() -> None:
    for status in S:
        assert t("zh_CN", f"rectify.status.{status.value}") != t(
            "en", f"rectify.status.{status.value}"
        )


def test_percent_shows_one_decimal_and_a_dash_when_unknown() -> None:
    assert percent(906) == "90.6%"
    assert percent(1000) == "100.0%"
    assert percent(None) == "—"


def test_the_plan_is_due_two_weeks_after_the_local_day_it_opened() -> None:
    # 2026-09-25 23:30 in Shanghai is 15:30 UTC: the local day counts.
    late_evening = rect(created_at=datetime(2026, 9, 25, 15, 30, tzinfo=UTC))
    assert plan_due(late_evening, TZ).isoformat() == "2026-10-09"
    after_midnight = rect(created_at=datetime(2026, 9, 25, 16, 30, tzinfo=UTC))
    assert plan_due(after_midnight, TZ).isoformat() == "2026-10-10"


def test_who_files_a_plan() -> None:
    member_rect = rect(person_id=40)
    assert may_file(person(40, Role.MEMBER), member_rect)
    assert not may_file(person(41, Role.MEMBER), member_rect)
    assert not may_file(person(42, Role.SECRETARY), member_rect)  # not on a member's behalf
    # An elderly member who pledged orally: the branch secretary may write the plan.
    assert may_file(person(42, Role.SECRETARY), member_rect, oral=True)
    assert not may_file(person(43, Role.SECRETARY, org_id=9), member_rect, oral=True)
    assert not may_file(person(41, Role.MEMBER), member_rect, oral=True)
    branch_rect = rect(person_id=None)
    assert may_file(person(42, Role.SECRETARY), branch_rect)
    assert not may_file(person(43, Role.SECRETARY, org_id=9), branch_rect)
    assert not may_file(person(40, Role.MEMBER), branch_rect)
    assert not may_file(person(44, Role.COMMITTEE, org_id=1), branch_rect)


def test_buttons_fit_telegram_and_carry_the_version() -> None:
    big = rect(id=2_147_483_647, version=2_147_483_647)
    assert fit_telegram([*decision_buttons("zh_CN", big), *plan_button("zh_CN", big)])
    assert actions(decision_buttons("en", big)) == [
        action(features.RECTIFY, "ok", big.id, big.version),
        action(features.RECTIFY, "ret", big.id, big.version),
    ]
    assert actions(plan_button("en", big)) == [action(features.RECTIFY, "plan", big.id)]


def test_who_accepts_a_plan() -> None:
    above = {1}  # the committee (org 1) is above the branch (org 2)
    member_rect, branch_rect = rect(person_id=40), rect(person_id=None)
    secretary, committee = person(42, Role.SECRETARY), person(44, Role.COMMITTEE, org_id=1)
    far_committee = person(45, Role.COMMITTEE, org_id=9)
    admin = Person(id=46, name="admin", org_id=1, role=Role.MEMBER, is_admin=True)
    assert accepts(secretary, member_rect, oral=False, above=above)
    assert not accepts(secretary, member_rect, oral=True, above=above)  # the secretary wrote it
    assert accepts(committee, member_rect, oral=True, above=above)
    assert not accepts(person(40, Role.SECRETARY), member_rect, oral=False, above=above)  # own
    assert not accepts(person(41, Role.MEMBER), member_rect, oral=False, above=above)
    assert not accepts(person(47, Role.LEADER, org_id=1), member_rect, oral=False, above=above)
    assert not accepts(person(48, Role.RESIDENT), member_rect, oral=False, above=above)
    assert not accepts(far_committee, member_rect, oral=False, above=above)
    assert accepts(committee, branch_rect, oral=False, above=above)
    assert accepts(admin, branch_rect, oral=False, above=above)
    assert not accepts(secretary, branch_rect, oral=False, above=above)  # its own branch
    assert not accepts(far_committee, branch_rect, oral=False, above=above)
