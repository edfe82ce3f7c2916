"""Invites with a fake clock: single use, expiry, re-issue, admin bootstrap."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.domain.clock import FakeClock
from bot.domain.errors import DomainError
from bot.domain.onboarding import OnboardingService
from bot.domain.roster import load_roster
from bot.domain.roster_import import import_roster
from storage.db import Database

DEMO = Path(__file__).resolve().parents[2] / "bot" / "playground" / "demo"
START = datetime(2026, 6, 1, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
async def service(db: Database) -> OnboardingService:
    clock = FakeClock(START)
    await import_roster(db, clock, load_roster(DEMO / "orgs.csv", DEMO / "people.csv"))
    return OnboardingService(db, clock, admin_ids=[42], invite_ttl_days=7)


async def _code(service: OnboardingService, name: str, org: str = "XH-HS") -> str:
    issued = await service.issue_invites(org)
    return next(i.code for i in issued if i.person.name == name and i.code)


async def test_invite_binds_once_and_greets(service: OnboardingService) -> None:
    code = await _code(service, "王建国")
    assert len(code) >= 16
    profile = await service.redeem_invite(1001, code, "en-US")
    assert profile.person.name == "王建国" and profile.org.code == "XH-HS"
    assert profile.person.locale == "en"
    again = await service.redeem_invite(1001, code, "zh")  # same account: idempotent
    assert again.person.id == profile.person.id
    with pytest.raises(DomainError) as used:
        await service.redeem_invite(2002, code, None)
    assert used.value.key == "invite.used"


async def test_expired_and_unknown_invites(service: OnboardingService) -> None:
    code = await _code(service, "杨友林")
    assert isinstance(service.clock, FakeClock)
    service.clock.advance(timedelta(days=7, seconds=1))
    with pytest.raises(DomainError) as expired:
        await service.redeem_invite(1002, code, None)
    assert expired.value.key == "invite.expired"
    with pytest.raises(DomainError) as unknown:
        await service.redeem_invite(1002, "no-such-code", None)
    assert unknown.value.key == "invite.unknown"


async def test_reissuing_replaces_unused_codes_and_skips_bound_people(
    service: OnboardingService,
) -> None:
    issued = {i.person.name: i.code for i in await service.issue_invites("XH-HS")}
    old, bound = issued["沈红梅"], issued["王建国"]
    assert old and bound
    await service.redeem_invite(1001, bound, None)
    reissued = await service.issue_invites("XH-HS")
    assert next(i for i in reissued if i.person.name == "王建国").code is None
    with pytest.raises(DomainError) as stale:
        await service.redeem_invite(1003, old, None)
    assert stale.value.key == "invite.expired"


async def test_one_account_cannot_take_two_people(service: OnboardingService) -> None:
    issued = {i.person.name: i.code for i in await service.issue_invites("XH-HS")}
    first, second = issued["王建国"], issued["杨友林"]
    assert first and second
    await service.redeem_invite(1001, first, None)
    with pytest.raises(DomainError) as taken:
        await service.redeem_invite(1001, second, None)
    assert taken.value.key == "invite.account_taken"


async def test_admin_bootstrap_only_for_configured_ids(service: OnboardingService) -> None:
    assert await service.bootstrap_admin(7, "路人", None) is None
    profile = await service.bootstrap_admin(42, "管理员", "zh-hans")
    assert profile is not None and profile.person.is_admin and profile.org.code == "XH"
    again = await service.bootstrap_admin(42, "管理员", "zh-hans")
    assert again is not None and again.person.id == profile.person.id


async def test_invites_for_unknown_org(service: OnboardingService) -> None:
    with pytest.raises(DomainError) as err:
        await service.issue_invites("NOPE")
    assert err.value.key == "invites.unknown_org"
