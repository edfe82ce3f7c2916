"""群众评议 rules without a database: the tally, the voter hash, eligibility, closing times."""

from __future__ import annotations

import stat
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.domain.enums import OrgType, Role
from bot.domain.errors import DomainError
from bot.domain.evaluation import (
    EvaluationService,
    Tally,
    Verdict,
    choice_of,
    default_quorum,
    judge,
    load_ballot_key,
    parse_closing,
    percent,
    result_line,
    tally_of,
    voter_hash,
)
from bot.domain.evaluation_models import Choice, EvalStatus, Evaluation, PollRef, SubjectKind
from bot.domain.models import Org, Person

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 9, 25, 9, 0, tzinfo=TZ)


def evaluation(status: EvalStatus = EvalStatus.OPEN, hours: float = 48) -> Evaluation:
    return Evaluation(
        id=7,
        org_id=1,
        subject_kind=SubjectKind.BRANCH,
        opened_by=1,
        status=status,
        quorum=30,
        pass_permille=900,
        closes_at=NOW + timedelta(hours=hours),
        created_at=NOW,
    )


POLL = PollRef(poll_id="p", evaluation_id=7, subject_id=3, person_id=11, chat_id=1011)


def person(pid: int) -> Person:
    return Person(id=pid, name=f"p{pid}", org_id=1, role=Role.RESIDENT, tg_user_id=1000 + pid)


# ---- the tally


def test_rate_is_satisfied_plus_basic_over_valid_rounded_half_up() -> None:
    assert Tally(24, 5, 3).rate_permille() == 906  # 29/32 = 906.25‰
    assert Tally(1, 0, 7).rate_permille() == 125
    assert Tally(2, 0, 1).rate_permille() == 667  # 666.67‰
    assert Tally(1, 0, 1).rate_permille() == 500
    assert Tally(0, 0, 0).rate_permille() is None
    assert percent(906) == "90.6%" and percent(1000) == "100.0%"


def test_pass_mark_is_exact_not_the_rounded_rate() -> None:
    # 899.6‰ rounds to 900 but is below 90 %: it does not pass.
    below = Tally(2249, 0, 251)  # 2249 / 2500 = 0.8996
    assert below.rate_permille() == 900
    assert below.passed(900) is False
    assert Tally(9, 0, 1).passed(900) is True  # exactly 90 %
    assert Tally(3, 0, 1).passed(900) is None  # 4 votes: too few to judge


def test_fewer_than_five_votes_are_not_published() -> None:
    line = result_line("zh_CN", "王建国", Tally(3, 1, 0), 900)
    assert line == "王建国：票数不足5票，不公布"
    shown = result_line("zh_CN", "王建国", Tally(3, 1, 1), 900)
    assert "满意 3，基本满意 1，不满意 1，满意率 80.0%（未达到，需整改）" in shown


def test_tally_of_counts() -> None:
    assert tally_of({"satisfied": 2, "unsatisfied": 1}) == Tally(2, 0, 1)
    assert choice_of([0]) is Choice.SATISFIED and choice_of([2]) is Choice.UNSATISFIED
    assert choice_of([]) is None
    with pytest.raises(ValueError):
        choice_of([3])


# ---- the voter hash


def test_voter_hash_is_keyed_per_evaluation_and_person() -> None:
    a = voter_hash(b"k1", 7, 11)
    assert len(a) == 64 and int(a, 16) >= 0
    assert a == voter_hash(b"k1", 7, 11)
    assert a != voter_hash(b"k2", 7, 11)  # another key: another hash
    assert a != voter_hash(b"k1", 8, 11)  # another evaluation: unlinkable
    assert a != voter_hash(b"k1", 7, 12)


def test_ballot_key_is_generated_once_with_owner_only_permissions(tmp_path: Path) -> None:
    path = tmp_path / "ballot.key"
    key = load_ballot_key(None, path)
    assert len(key) == 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_ballot_key(None, path) == key  # kept
    assert load_ballot_key("configured", path) == b"configured"


# ---- eligibility


def test_the_addressee_on_the_list_while_open_counts() -> None:
    assert judge(evaluation(), POLL, person(11), True, NOW) == Verdict.COUNTED


def test_a_forwarded_poll_counts_for_nothing() -> None:
    assert judge(evaluation(), POLL, person(12), True, NOW) == Verdict.NOT_YOURS
    assert judge(evaluation(), POLL, person(12), False, NOW) == Verdict.NOT_LISTED
    assert judge(evaluation(), POLL, None, False, NOW) == Verdict.NOT_LISTED


def test_not_on_the_list_counts_for_nothing() -> None:
    assert judge(evaluation(), POLL, person(11), False, NOW) == Verdict.NOT_LISTED


def test_after_closing_counts_for_nothing() -> None:
    late = NOW + timedelta(hours=48)
    assert judge(evaluation(), POLL, person(11), True, late) == Verdict.CLOSED
    assert judge(evaluation(EvalStatus.CLOSED), POLL, person(11), True, NOW) == Verdict.CLOSED
    assert judge(evaluation(EvalStatus.VOID), POLL, person(11), True, NOW) == Verdict.CLOSED


# ---- closing time, quorum, reminder


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3天后", datetime(2026, 9, 28, 20, 0, tzinfo=TZ)),
        ("2小时后", datetime(2026, 9, 25, 11, 0, tzinfo=TZ)),
        ("in 5 hours", datetime(2026, 9, 25, 14, 0, tzinfo=TZ)),
        ("10月1日", datetime(2026, 10, 1, 20, 0, tzinfo=TZ)),
        ("2026-10-01 18:00", datetime(2026, 10, 1, 18, 0, tzinfo=TZ)),
        ("明天下午3点", datetime(2026, 9, 26, 15, 0, tzinfo=TZ)),
        ("明天上午9点半", datetime(2026, 9, 26, 9, 30, tzinfo=TZ)),
        ("今天18:30", datetime(2026, 9, 25, 18, 30, tzinfo=TZ)),
        ("１０月１日　１８：００", datetime(2026, 10, 1, 18, 0, tzinfo=TZ)),
        # NOW is a Friday: 下周五 is next week's, 周一 the coming Monday.
        ("下周五", datetime(2026, 10, 2, 20, 0, tzinfo=TZ)),
        ("下周五 18:00", datetime(2026, 10, 2, 18, 0, tzinfo=TZ)),
        ("周一", datetime(2026, 9, 28, 20, 0, tzinfo=TZ)),
        ("10分钟后", datetime(2026, 9, 25, 9, 10, tzinfo=TZ)),
        ("30分钟后", datetime(2026, 9, 25, 9, 30, tzinfo=TZ)),
        ("半小时后", datetime(2026, 9, 25, 9, 30, tzinfo=TZ)),
        ("两个小时后", datetime(2026, 9, 25, 11, 0, tzinfo=TZ)),
        ("in 3 days", datetime(2026, 9, 28, 20, 0, tzinfo=TZ)),
        ("in 3 days 18:00", datetime(2026, 9, 28, 18, 0, tzinfo=TZ)),
        ("in 30 minutes", datetime(2026, 9, 25, 9, 30, tzinfo=TZ)),
        ("tomorrow 18:00", datetime(2026, 9, 26, 18, 0, tzinfo=TZ)),
        ("next friday", datetime(2026, 10, 2, 20, 0, tzinfo=TZ)),
    ],
)
def test_closing_times_people_type(text: str, expected: datetime) -> None:
    assert parse_closing(text, NOW) == expected


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "ev.time.unparsable"),
        ("随便", "ev.time.unparsable"),
        ("x" * 500, "ev.time.unparsable"),
        ("2026-09-01", "ev.time.past"),
        ("今天8:00", "ev.time.past"),
        ("今天9:05", "ev.time.past"),  # under ten minutes
        ("25:00", "ev.time.unparsable"),
        ("2027-06-01", "ev.time.too_far"),
        ("5分钟后", "ev.time.past"),
        ("本周一", "ev.time.past"),
    ],
)
def test_closing_times_refused(text: str, key: str) -> None:
    with pytest.raises(DomainError) as caught:
        parse_closing(text, NOW)
    assert caught.value.key == key


def test_default_quorum_by_branch_type() -> None:
    def org(kind: OrgType) -> Org:
        return Org(id=1, code="X", name="X", type=kind)

    assert default_quorum(org(OrgType.RURAL), 30, 20) == 30
    assert default_quorum(org(OrgType.ORGAN), 30, 20) == 30
    assert default_quorum(org(OrgType.COMMUNITY), 30, 20) == 30
    assert default_quorum(org(OrgType.PRIVATE), 30, 20) == 20
    assert default_quorum(org(OrgType.SOCIAL), 30, 20) == 20


def test_reminder_a_day_before_or_half_way() -> None:
    assert EvaluationService.remind_at(evaluation(hours=72)) == NOW + timedelta(hours=48)
    assert EvaluationService.remind_at(evaluation(hours=6)) == NOW + timedelta(hours=3)
