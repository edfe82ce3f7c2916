"""People's accounts on the channels: (channel, external id) → person, one per channel each.

A channel's own id for a person (a Telegram user id, a WeCom userid) lives only here; the
domain addresses people by their roster id and the repositories find the account in SQL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, ColumnElement, and_, cast, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import schema as s

if TYPE_CHECKING:
    from storage.uow import UnitOfWork

TELEGRAM = s.TELEGRAM
_a = s.accounts.c


def telegram_id(person_id: ColumnElement[Any]) -> ColumnElement[Any]:
    """The person's Telegram id (NULL if they have no Telegram account), for a SELECT."""
    return (
        select(cast(_a.external_id, BigInteger))
        .where(and_(_a.channel == TELEGRAM, _a.person_id == person_id))
        .scalar_subquery()
    )


def telegram_chat() -> ColumnElement[Any]:
    """The Telegram id of a joined telegram account (see :func:`with_telegram`)."""
    return cast(_a.external_id, BigInteger)


def with_telegram(people: Any) -> Any:
    """people joined to their Telegram accounts (only people who have one)."""
    return people.join(s.accounts, and_(_a.person_id == people.c.id, _a.channel == TELEGRAM))


def person_of_account(channel: Any, external_id: Any) -> ColumnElement[Any]:
    """The id of the person holding this account (NULL if nobody), for a WHERE."""
    return (
        select(_a.person_id)
        .where(and_(_a.channel == channel, _a.external_id == external_id))
        .scalar_subquery()
    )


# A person as the domain reads them (with their Telegram id, found in accounts).
PERSON = select(s.people, telegram_id(s.people.c.id).label("tg_user_id"))


def telegram_accounts(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """accounts rows for roster rows with ids that carry a ``tg_user_id`` (bulk seeding)."""
    return [
        {
            "channel": TELEGRAM,
            "external_id": str(r["tg_user_id"]),
            "person_id": r["id"],
            "created_at": r["created_at"],
        }
        for r in rows
        if r.get("tg_user_id") is not None
    ]


def without_telegram(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The roster rows without their ``tg_user_id`` (people has no such column)."""
    return [{k: v for k, v in r.items() if k != "tg_user_id"} for r in rows]


async def insert_people(uow: UnitOfWork, rows: Sequence[dict[str, Any]], at: datetime) -> None:
    """Insert roster rows; a row's ``tg_user_id`` (if not None) becomes its Telegram account."""
    await uow.people.insert_many(without_telegram(rows))
    ids = await uow.people.identity_map()
    await uow.accounts.bind_many(
        TELEGRAM,
        {
            ids[r["org_id"], r["name"], r["phone"]]: str(r["tg_user_id"])
            for r in rows
            if r.get("tg_user_id") is not None
        },
        at,
    )


class AccountRepo:
    """Binding channel accounts to people."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def person_id(self, channel: str, external_id: str) -> int | None:
        """Who holds this account, if anybody."""
        row = (
            await self.conn.execute(
                select(_a.person_id).where(
                    and_(_a.channel == channel, _a.external_id == external_id)
                )
            )
        ).first()
        return int(row[0]) if row else None

    async def of_person(self, person_id: int, channel: str) -> str | None:
        """The person's account on this channel, if they have one."""
        row = (
            await self.conn.execute(
                select(_a.external_id).where(
                    and_(_a.person_id == person_id, _a.channel == channel)
                )
            )
        ).first()
        return str(row[0]) if row else None

    async def bind(self, person_id: int, channel: str, external_id: str, at: datetime) -> None:
        """Link an account to a person (the caller has checked neither is taken)."""
        await self.conn.execute(
            insert(s.accounts).values(
                channel=channel, external_id=external_id, person_id=person_id, created_at=at
            )
        )

    async def bind_many(self, channel: str, accounts: Mapping[int, str], at: datetime) -> None:
        """Link many accounts at once: person id → external id."""
        if accounts:
            await self.conn.execute(
                insert(s.accounts),
                [
                    {"channel": channel, "external_id": ext, "person_id": pid, "created_at": at}
                    for pid, ext in accounts.items()
                ],
            )

    async def unbind(self, person_id: int, channel: str) -> None:
        """Forget the person's account on this channel."""
        await self.conn.execute(
            delete(s.accounts).where(and_(_a.person_id == person_id, _a.channel == channel))
        )
