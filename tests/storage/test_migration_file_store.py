"""Revision 0012 on a copy of a populated database: every Telegram file_id people's rows named
(evidence, a broadcast's photo, a tally sheet, a photo waiting in the outbox, a dialog left open
with a photo in it) becomes a stored file held by Telegram, with that file_id as its Telegram
upload id; nothing a person entered is lost, and the ledger counts the same evidence."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import insert, select, text

from bot.domain.clock import FakeClock
from bot.domain.files import StoredFile
from bot.domain.roster import load_roster
from bot.domain.roster_import import import_roster
from storage import schema as s
from storage.db import MIGRATIONS_DIR, Database
from tests.fulfilment_data import PublishedPledge, insert_published

DEMO = Path(__file__).resolve().parents[2] / "bot" / "playground" / "demo"
NOW = datetime(2026, 6, 5, 1, 30, tzinfo=UTC)
PHOTO_ID = "AgACAgUAAxkBAAIBQ2ZqPhoto1"
SHEET_ID = "BQACAgUAAxkBAAIBRGZqSheet2"
NOTICE_ID = "AgACAgUAAxkBAAIBRWZqNotice"
EARLY_ID = "AgACAgUAAxkBAAIBRmZqEarly4"
DRAFT_ID = "BQACAgUAAxkBAAIBR2ZqDraft5"
TALLY_ID = "AgACAgUAAxkBAAIBSGZqTally6"


# The outbox as it was before its rows became intents (revision 0014).
OUTBOX_0011 = sa.table(
    "outbox",
    *(sa.column(name) for name in ("chat_id", "method", "payload", "status", "attempts")),
    *(sa.column(name) for name in ("not_before", "created_at", "broadcast_id")),
)
for _name in ("payload", "not_before", "created_at"):  # as the schema stores them (UTC)
    OUTBOX_0011.c[_name].type = s.outbox.c[_name].type


async def to_revision(db: Database, revision: str, *, down: bool = False) -> None:
    """Alembic up (or down) to this revision on the database's own connection."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))

    def run(sync_conn: Any) -> None:
        cfg.attributes["connection"] = sync_conn
        (command.downgrade if down else command.upgrade)(cfg, revision)

    async with db.engine.begin() as conn:
        await conn.run_sync(run)


async def populate_before_the_store(db: Database) -> dict[str, int]:
    """Rows as the bot before the file store wrote them."""
    await import_roster(db, FakeClock(NOW), load_roster(DEMO / "orgs.csv", DEMO / "people.csv"))
    async with db.engine.begin() as conn:
        people = dict((await conn.execute(select(s.people.c.name, s.people.c.id))).all())
        orgs = dict((await conn.execute(select(s.orgs.c.code, s.orgs.c.id))).all())
    member, secretary, org = people["王建国"], people["沈宝方"], orgs["XH-HS"]
    pledge = PublishedPledge(
        org, "XH-HS-2026-0001", member, member, [("走访困难户", date(2026, 6, 30))]
    )
    await insert_published(db, [pledge], NOW)
    entry = {
        "item_id": pledge.item_ids[0],
        "pledge_id": 0,
        "org_id": org,
        "author_id": member,
        "claims_fulfilled": False,
        "verdict": "note",
        "month": "2026-06",
        "created_at": NOW,
    }
    async with db.engine.begin() as conn:
        pledge_id = (await conn.execute(select(s.pledges.c.id))).scalar_one()
        entry["pledge_id"] = pledge_id
        await conn.execute(
            insert(s.progress_entries),
            [
                {
                    **entry,
                    "text": "走访了2户",
                    "evidence": [
                        {"kind": "photo", "file_id": PHOTO_ID, "size": 52_000, "name": None},
                        {
                            "kind": "document",
                            "file_id": SHEET_ID,
                            "size": 900,
                            "name": "签到表.pdf",
                        },
                        # The same photo attached twice: one stored file.
                        {"kind": "photo", "file_id": PHOTO_ID, "size": 52_000, "name": None},
                    ],
                },
                {**entry, "text": "没有附件", "evidence": []},
            ],
        )
        notice = await conn.execute(
            insert(s.broadcasts)
            .values(
                sender_id=secretary,
                org_id=org,
                audience={"kind": "members"},
                text="村道整治前后对比",
                media={"kind": "photo", "file_id": NOTICE_ID, "file_name": None},
                recipients=1,
                created_at=NOW,
            )
            .returning(s.broadcasts.c.id)
        )
        broadcast_id = notice.scalar_one()
        await conn.execute(
            insert(OUTBOX_0011),
            [
                {
                    "chat_id": 501,
                    "method": "sendPhoto",
                    "payload": {"file_id": NOTICE_ID, "caption": "📢 通知"},
                    "status": "pending",
                    "attempts": 0,
                    "not_before": NOW,
                    "created_at": NOW,
                    "broadcast_id": broadcast_id,
                },
                {
                    "chat_id": 502,
                    "method": "sendPhoto",
                    "payload": {"render": "ev_chart", "evaluation_id": 1, "caption": "图"},
                    "status": "pending",
                    "attempts": 0,
                    "not_before": NOW,
                    "created_at": NOW,
                    "broadcast_id": None,
                },
            ],
        )
        # Dialogs open at the upgrade: a photo kept before the words, a notice's draft, a
        # paper ballot box waiting for its confirmation.
        await conn.execute(
            insert(s.kv).values(
                namespace="user_data",
                key="101",
                value={
                    "progress": {"early": [{"kind": "photo", "file_id": EARLY_ID, "size": 9}]},
                    "broadcast": {
                        "media": {
                            "kind": "document",
                            "file_id": DRAFT_ID,
                            "file_size": 700,
                            "file_name": "通知.pdf",
                        }
                    },
                    "paper": {"eid": 1, "photo": TALLY_ID},
                },
            )
        )
        evaluation = await conn.execute(
            insert(s.evaluations)
            .values(
                org_id=org,
                subject_kind="branch",
                opened_by=secretary,
                status="open",
                quorum=20,
                pass_permille=900,
                closes_at=NOW,
                created_at=NOW,
            )
            .returning(s.evaluations.c.id)
        )
        await conn.execute(
            text(
                "INSERT INTO paper_boxes (evaluation_id, ballots, photo_file_id, entered_by, "
                "entered_at) VALUES (:e, 25, :photo, :by, :at)"
            ),
            {
                "e": evaluation.scalar_one(),
                "photo": TALLY_ID,
                "by": secretary,
                "at": NOW.replace(tzinfo=None),  # stored as UTC without a zone
            },
        )
    return {"broadcast": broadcast_id, "pledge": pledge_id}


async def files_by_telegram_id(db: Database) -> dict[str, StoredFile]:
    async with db.read() as uow:
        rows = (await uow.files.conn.execute(select(s.file_uploads))).all()
        found: dict[str, StoredFile] = {}
        for row in rows:
            assert row.channel == "telegram"
            stored = await uow.files.get(row.stored_file_id)
            assert stored is not None
            found[row.upload_id] = stored
        return found


async def test_the_file_ids_people_sent_become_files_held_by_telegram(
    database_url: str,
) -> None:
    db = Database(database_url)
    try:
        # A server database of the suite is migrated already: from nothing, as a file is.
        await to_revision(db, "base", down=True)
        await to_revision(db, "0011")
        ids = await populate_before_the_store(db)
        await to_revision(db, "0012")  # the outbox's rows become intents at 0014

        held = await files_by_telegram_id(db)
        assert set(held) == {PHOTO_ID, SHEET_ID, NOTICE_ID, EARLY_ID, DRAFT_ID, TALLY_ID}
        assert all(not f.here and f.held_by == "telegram" for f in held.values())
        assert (held[SHEET_ID].name, held[SHEET_ID].size) == ("签到表.pdf", 900)
        assert held[PHOTO_ID].media_type == "image/jpeg"

        async with db.read() as uow:
            conn = uow.files.conn
            entries = (
                await conn.execute(
                    select(
                        s.progress_entries.c.id,
                        s.progress_entries.c.text,
                        s.progress_entries.c.evidence,
                    ).order_by(s.progress_entries.c.id)
                )
            ).all()
            media = (
                await conn.execute(
                    select(s.broadcasts.c.media).where(s.broadcasts.c.id == ids["broadcast"])
                )
            ).scalar_one()
            payloads = [
                p
                for (p,) in (
                    await conn.execute(select(OUTBOX_0011.c.payload).order_by(sa.column("id")))
                ).all()
            ]
            dialog = (await conn.execute(select(s.kv.c.value))).scalar_one()
            box = (await conn.execute(select(s.paper_boxes.c.photo_file))).scalar_one()
            read_back = [await uow.progress.entry(e.id) for e in entries]

        photo, sheet, notice = held[PHOTO_ID].id, held[SHEET_ID].id, held[NOTICE_ID].id
        assert entries[0].text == "走访了2户"
        assert entries[0].evidence == [
            {"kind": "photo", "file": photo, "size": 52_000, "name": None},
            {"kind": "document", "file": sheet, "size": 900, "name": "签到表.pdf"},
            {"kind": "photo", "file": photo, "size": 52_000, "name": None},
        ]
        assert (entries[1].text, entries[1].evidence) == ("没有附件", [])
        assert media == {"kind": "photo", "file": notice, "file_name": None}
        assert payloads[0] == {"file": notice, "caption": "📢 通知"}
        assert payloads[1] == {"render": "ev_chart", "evaluation_id": 1, "caption": "图"}
        assert dialog["progress"]["early"] == [
            {"kind": "photo", "file": held[EARLY_ID].id, "size": 9}
        ]
        assert dialog["broadcast"]["media"]["file"] == held[DRAFT_ID].id
        assert dialog["broadcast"]["media"]["file_name"] == "通知.pdf"
        assert dialog["paper"] == {"eid": 1, "photo": held[TALLY_ID].id}
        assert box == held[TALLY_ID].id
        # The domain reads the entries back, evidence and all.
        assert [len(e.evidence) if e else None for e in read_back] == [3, 0]
    finally:
        await to_revision(db, "head")  # a server database is the next test's too
        await db.dispose()
