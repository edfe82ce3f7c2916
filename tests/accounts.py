"""Seeding people with Telegram accounts, as the bot's own binding would leave them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.chat.actor import Account, Actor
from bot.domain.clock import SystemClock
from bot.domain.errors import NotRegistered
from bot.domain.onboarding import OnboardingService
from storage import schema as s
from storage.accounts import TELEGRAM, insert_people  # noqa: F401 (tests import it here)
from storage.db import Database


async def set_telegram(conn: AsyncConnection, person_id: int, tg_user_id: int | None) -> None:
    """Give a person this Telegram account, or (None) take theirs away, on a raw connection."""
    await conn.execute(
        delete(s.accounts).where(
            (s.accounts.c.person_id == person_id) & (s.accounts.c.channel == TELEGRAM)
        )
    )
    if tg_user_id is not None:
        await conn.execute(
            insert(s.accounts).values(
                channel=TELEGRAM,
                external_id=str(tg_user_id),
                person_id=person_id,
                created_at=datetime.now(UTC),
            )
        )


async def actor_for(db: Database, tg_user_id: int) -> Actor:
    """The actor the Telegram edge resolves for this account; NotRegistered if it is bound
    to nobody (as the handlers' ``actor_of`` refuses)."""
    account = Account(TELEGRAM, str(tg_user_id))
    found = await OnboardingService(db, SystemClock(), []).actor(account, None)
    if found is None:
        raise NotRegistered()
    return found
