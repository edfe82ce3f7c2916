"""Revision 0013 (accounts) on a populated database: every Telegram id on the roster becomes
a telegram account, nothing else changes, and the way back restores people.tg_user_id.

The database is built by the real migrations up to 0012 and filled as a running bot leaves
it (people bound and not, invites used and open, pledges with items, a review, progress, a
mass evaluation with its list and secret ballots, a broadcast, an open dialog, outbox rows),
on SQLite or, through the suite's fixtures, on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError

from storage.db import MIGRATIONS_DIR, Database

# Stored as UTC without a zone, as AwareDateTime writes it.
AT = datetime(2026, 6, 5, 1, 30, tzinfo=UTC).replace(tzinfo=None)
SECRETARY_TG, MEMBER_TG, ADMIN_TG = 700_000_001, 8_123_456_789, 42  # one beyond 32 bits
BOUND = {1: SECRETARY_TG, 2: MEMBER_TG, 5: ADMIN_TG}
UNBOUND = (3, 4)


async def alembic(database: Database, action: str, revision: str) -> None:
    """Upgrade or downgrade the database to ``revision`` with the project's migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", database.url.replace("%", "%%"))
    async with database.engine.begin() as conn:

        def run(sync_conn: Any) -> None:
            cfg.attributes["connection"] = sync_conn
            getattr(command, action)(cfg, revision)

        await conn.run_sync(run)


def _person(pid: int, name: str, role: str, tg: int | None, **more: Any) -> dict[str, Any]:
    return {
        "id": pid,
        "name": name,
        "org_id": 2,
        "role": role,
        "phone": f"1380000000{pid}",
        "cadre": False,
        "post": None,
        "oral": pid == 4,
        "origin_org_id": None,
        "residence_org_id": None,
        "tg_user_id": tg,
        "locale": "en" if pid == 2 else None,
        "is_admin": False,
        "created_at": AT,
        "updated_at": AT,
        "phone_confirmed": False,
        **more,
    }


ROWS: dict[str, list[dict[str, Any]]] = {
    "orgs": [
        {"id": 1, "code": "XH", "name": "新华镇党委", "type": "committee", "board_chat_id": None},
        {
            "id": 2,
            "code": "XH-HS",
            "name": "和顺村党支部",
            "type": "rural",
            "parent_id": 1,
            "board_chat_id": -100_123,
        },
    ],
    "people": [
        _person(1, "王秀英", "secretary", SECRETARY_TG),
        _person(2, "李建国", "member", MEMBER_TG),
        _person(3, "张桂兰", "member", None),
        _person(4, "陈老伯", "member", None),
        _person(5, "区委管理员", "committee", ADMIN_TG, org_id=1, is_admin=True),
        _person(6, "赵大妈", "resident", None, phone_confirmed=True),
    ],
    "invites": [
        {
            "code": "USED1",
            "person_id": 2,
            "created_at": AT,
            "expires_at": AT,
            "used_at": AT,
            "used_by_tg": MEMBER_TG,
        },
        {"code": "OPEN3", "person_id": 3, "created_at": AT, "expires_at": AT},
    ],
    "pledges": [
        {
            "id": 1,
            "number": "XH-HS-2026-001",
            "pledger_kind": "member",
            "person_id": 2,
            "org_id": 2,
            "drafter_id": 2,
            "horizon": "annual",
            "status": "published",
            "is_oral": False,
            "version": 2,
            "created_at": AT,
            "updated_at": AT,
            "published_at": AT,
        },
        {
            "id": 2,
            "pledger_kind": "member",
            "person_id": 4,
            "org_id": 2,
            "drafter_id": 1,
            "status": "draft",
            "is_oral": True,
            "version": 1,
            "created_at": AT,
            "updated_at": AT,
        },
    ],
    "pledge_items": [
        {
            "id": 1,
            "pledge_id": 1,
            "position": 1,
            "category": "serve",
            "content": "帮扶两户",
            "target": "每月走访",
            "deadline": AT.date(),
            "responsible": "李建国",
        },
    ],
    "reviews": [
        {"id": 1, "pledge_id": 1, "reviewer_id": 1, "action": "approve", "version": 2, "at": AT},
    ],
    "progress_entries": [
        {
            "id": 1,
            "item_id": 1,
            "pledge_id": 1,
            "org_id": 2,
            "author_id": 2,
            "text": "走访一户",
            "evidence": [],
            "claims_fulfilled": False,
            "verdict": "none",
            "month": "2026-06",
            "created_at": AT,
        },
    ],
    "evaluations": [
        {
            "id": 1,
            "org_id": 2,
            "subject_kind": "member",
            "opened_by": 1,
            "status": "open",
            "quorum": 3,
            "pass_permille": 900,
            "closes_at": AT,
            "created_at": AT,
        },
    ],
    "evaluation_subjects": [
        {"id": 1, "evaluation_id": 1, "position": 1, "person_id": 2, "org_id": 2},
    ],
    "evaluation_participants": [
        {"evaluation_id": 1, "person_id": pid, "kind": "member", "has_voted": pid == 1}
        for pid in (1, 2, 3, 6)
    ],
    "ballots": [
        {"subject_id": 1, "voter": "k" * 64, "evaluation_id": 1, "choice": "satisfied"},
    ],
    "broadcasts": [
        {
            "id": 1,
            "sender_id": 1,
            "org_id": 2,
            "audience": {"roles": ["member"]},
            "text": "周五开会",
            "recipients": 2,
            "created_at": AT,
        },
    ],
    "broadcast_recipients": [
        {"broadcast_id": 1, "person_id": 2, "chat_id": MEMBER_TG, "round": 1},
        {"broadcast_id": 1, "person_id": 3, "chat_id": None, "round": 1},
    ],
    "dialogs": [
        {
            "person_id": 2,
            "name": "pledge",
            "step": "items",
            "data": {"item": 1},
            "version": 3,
            "expires_at": AT,
        },
    ],
    "outbox": [
        {
            "id": 1,
            "chat_id": MEMBER_TG,
            "method": "sendMessage",
            "payload": {"text": "周五开会"},
            "status": "sent",
            "attempts": 1,
            "not_before": AT,
            "message_id": 77,
            "sender_id": 1,
            "broadcast_id": 1,
            "created_at": AT,
            "sent_at": AT,
        },
        {
            "id": 2,
            "chat_id": SECRETARY_TG,
            "method": "sendMessage",
            "payload": {"text": "有一份承诺待审"},
            "status": "pending",
            "attempts": 0,
            "not_before": AT,
            "dedupe_key": "review:1:0",
            "created_at": AT,
        },
        {
            "id": 3,
            "chat_id": -100_123,
            "method": "upsert",
            "payload": {"text": "公示"},
            "ref": "board:pledge:1",
            "status": "pending",
            "attempts": 0,
            "not_before": AT,
            "created_at": AT,
        },
    ],
}


async def _fill(database: Database) -> None:
    async with database.engine.begin() as conn:
        tables = MetaData()
        await conn.run_sync(lambda c: tables.reflect(c))
        for name, rows in ROWS.items():
            for row in rows:  # one by one: rows leave out different columns
                await conn.execute(insert(tables.tables[name]).values(row))
        if conn.dialect.name == "postgresql":  # the ids were given: sequences move past them
            for name in ROWS:
                if "id" in tables.tables[name].c:
                    await conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                            f"(SELECT MAX(id) FROM {name}))"
                        )
                    )


async def _everything(database: Database) -> dict[str, set[tuple[tuple[str, Any], ...]]]:
    """Every row of every table (but alembic's own), as comparable sets."""
    async with database.engine.connect() as conn:
        tables = MetaData()
        await conn.run_sync(lambda c: tables.reflect(c))
        found: dict[str, set[tuple[tuple[str, Any], ...]]] = {}
        for name, table in tables.tables.items():
            if name == "alembic_version":
                continue
            rows = (await conn.execute(select(table))).mappings()
            found[name] = {tuple(sorted((k, repr(v)) for k, v in row.items())) for row in rows}
        return found


def _without(rows: set[tuple[tuple[str, Any], ...]], column: str) -> set[Any]:
    return {tuple(pair for pair in row if pair[0] != column) for row in rows}


async def test_every_telegram_id_becomes_an_account_and_nothing_else_changes(
    database_url: str,
) -> None:
    database = Database(database_url)
    try:
        if database.engine.dialect.name == "postgresql":  # the fixture migrated it to head
            await alembic(database, "downgrade", "0012")
        else:
            await alembic(database, "upgrade", "0012")
        await _fill(database)
        before = await _everything(database)

        # The accounts' revision (0014 then turns the outbox's rows into intents).
        await alembic(database, "upgrade", "0013")
        after = await _everything(database)

        # The accounts: exactly the bound people's Telegram ids, as strings.
        async with database.engine.connect() as conn:
            accounts = set(
                await conn.execute(text("SELECT channel, external_id, person_id FROM accounts"))
            )
            columns = await conn.run_sync(
                lambda c: {col["name"] for col in inspect(c).get_columns("people")}
            )
        assert accounts == {("telegram", str(tg), pid) for pid, tg in BOUND.items()}
        assert "tg_user_id" not in columns
        # Every other row is as it was; people lost only the column.
        assert set(after) == set(before) | {"accounts"}
        for name in before:
            if name == "people":
                assert after[name] == _without(before[name], "tg_user_id")
            else:
                assert after[name] == before[name], name

        # The bot finds every bound person by their Telegram id, and nobody else.
        async with database.read() as uow:
            for pid, tg in BOUND.items():
                person = await uow.people.by_tg(tg)
                assert person is not None and person.id == pid
            for pid in UNBOUND:
                assert (await uow.people.get(pid)) is not None
            assert await uow.people.by_tg(123) is None

        # The keys to people hold after the rebuild: a pledge for nobody is refused.
        async with database.engine.connect() as conn:
            tables = MetaData()
            await conn.run_sync(lambda c: tables.reflect(c, only=["reviews"]))
            try:
                await conn.execute(
                    insert(tables.tables["reviews"]).values(
                        id=9, pledge_id=1, reviewer_id=99, action="approve", version=1, at=AT
                    )
                )
            except IntegrityError:
                refused = True
            else:
                refused = False
            await conn.rollback()
        assert refused

        # The way back: people.tg_user_id again, every row as it was before.
        await alembic(database, "downgrade", "0012")
        assert await _everything(database) == before
        await database.migrate()  # the fixture's database is left at head
    finally:
        await database.dispose()
