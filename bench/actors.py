"""The acting person behind a seeded Telegram account, as the Telegram adapter resolves it
once per update (benchmarks call services directly, so they resolve it themselves, outside
what they time)."""

from __future__ import annotations

from bot.chat.actor import TELEGRAM, Account, Actor
from bot.domain.clock import SystemClock
from bot.domain.onboarding import OnboardingService
from storage.db import Database


async def actor_for(db: Database, tg_user_id: int) -> Actor:
    """The person bound to this Telegram account (the bench seeded it: it must exist)."""
    found = await OnboardingService(db, SystemClock(), []).actor(
        Account(TELEGRAM, str(tg_user_id)), None
    )
    assert found is not None, f"no one is bound to Telegram account {tg_user_id}"
    return found
