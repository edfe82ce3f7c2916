"""A district-sized database (seed 004): 1,376 branches, 37,199 members, 45,936 items.

Written with bulk inserts straight into the tables, in a few seconds. Deterministic (seeded).

With ``year_of_progress`` (``--year-of-progress``) it also holds a year of fulfilment as the
bot would have recorded it: monthly progress entries (记实) on most items over the twelve
months up to ``today``, verified claims for the fulfilled items and open claims waiting for
verification, each item's progress row to match, and a bound clerk (role committee) in the
district committee and in each township committee, so a committee's /ledger can be asked.
Without it the rows are exactly those of before (its callers see no change).

With ``published_snapshots`` (``--published-snapshots``) each pledge also carries the snapshot
publication keeps (pledger's name and the items as approved), as the bot writes it: what the
publicity table and the pledge letters print.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, text

from storage import schema as s
from storage.accounts import telegram_accounts, without_telegram
from storage.db import Database

BRANCHES = 1_376
MEMBERS = 37_199
ITEMS = 45_936
TOWNSHIPS = 25  # 22 townships + 3 sub-districts
CHUNK = 5_000
BRANCH_TYPES = ["rural", "community", "organ", "soe", "private", "school", "health", "social"]
CATEGORIES = ["study", "excellence", "serve", "discipline", "integrity"]
DISTRICT_CLERK_TG = 8_000_001  # the district committee's clerk (org 1)
TOWNSHIP_CLERK_TG = 8_000_100  # + township index: the clerk of township committee 2 + index
ACTIVE_SHARE = 0.6  # items with monthly progress records
MONTHLY_SHARE = 0.7  # of an active item's months, those with a record
OPEN_CLAIM_SHARE = 0.04  # of the unfulfilled active items: a claim waiting for verification


async def _bulk(db: Database, table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        async with db.uow() as uow:
            await uow.orgs.conn.execute(insert(table), rows[start : start + CHUNK])


async def build_district(
    url: str,
    today: date,
    seed: int = 4,
    *,
    year_of_progress: bool = False,
    published_snapshots: bool = False,
) -> dict[str, int]:
    """Create and fill the database; returns the row counts.

    ``year_of_progress``: add the year's progress records, claims and committee clerks;
    ``published_snapshots``: the snapshot of each published pledge (see the module's
    docstring)."""
    rng = random.Random(seed)
    db = Database(url)
    await db.migrate()
    now = datetime.combine(today, datetime.min.time(), tzinfo=UTC)
    # Every row carries every column: a bulk insert takes its columns from the first row.
    orgs: list[dict[str, Any]] = [
        {
            "id": 1,
            "code": "D",
            "name": "区委",
            "type": "committee",
            "parent_id": None,
            "board_chat_id": None,
        }
    ]
    for t in range(TOWNSHIPS):
        orgs.append(
            {
                "id": 2 + t,
                "code": f"T{t}",
                "name": f"镇{t}党委",
                "type": "committee",
                "parent_id": 1,
                "board_chat_id": None,
            }
        )
    branch_ids = []
    for b in range(BRANCHES):
        oid = 100 + b
        branch_ids.append(oid)
        orgs.append(
            {
                "id": oid,
                "code": f"B{b}",
                "name": f"第{b}支部",
                "type": BRANCH_TYPES[b % 8],
                "parent_id": 2 + b % TOWNSHIPS,
                "board_chat_id": -(10**12) - oid,
            }
        )
    await _bulk(db, s.orgs, orgs)
    people: list[dict[str, Any]] = []
    pid = 0
    for oid in branch_ids:  # one secretary per branch
        pid += 1
        people.append(_person(pid, oid, "secretary", now))
    members_of: dict[int, list[int]] = {oid: [] for oid in branch_ids}
    for _ in range(MEMBERS - BRANCHES):
        pid += 1
        oid = rng.choice(branch_ids)
        members_of[oid].append(pid)
        people.append(_person(pid, oid, "member", now))
    await _bulk(db, s.people, without_telegram(people))
    await _bulk(db, s.accounts, telegram_accounts(people))
    pledges: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    progress: list[dict[str, Any]] = []
    item_id = 0
    member_ids = [p["id"] for p in people if p["role"] == "member"]
    rng.shuffle(member_ids)
    org_of = {p["id"]: p["org_id"] for p in people}
    # About one item in four of a published pledge is fulfilled; deadlines spread Jun–Dec.
    for pledge_id, member in enumerate(member_ids, start=1):
        if item_id >= ITEMS:
            break
        oid = org_of[member]
        pledges.append(
            {
                "id": pledge_id,
                "number": f"B{oid}-{today.year}-{pledge_id:06d}",
                "pledger_kind": "member",
                "person_id": member,
                "org_id": oid,
                "drafter_id": member,
                "horizon": "annual",
                "status": "published",
                "is_oral": False,
                "version": 2,
                "created_at": now,
                "updated_at": now,
                "published_at": now,
            }
        )
        for position in range(1, rng.choice((1, 1, 2)) + 1):
            if item_id >= ITEMS:
                break
            item_id += 1
            deadline = date(today.year, 6, 15) + timedelta(days=rng.randrange(0, 200))
            items.append(
                {
                    "id": item_id,
                    "pledge_id": pledge_id,
                    "position": position,
                    "category": rng.choice(CATEGORIES),
                    "content": f"承诺事项{item_id}",
                    "target": "可检查的目标",
                    "deadline": deadline,
                    "responsible": "本人",
                }
            )
            if deadline < today and rng.random() < 0.5:
                progress.append(
                    {
                        "item_id": item_id,
                        "status": "fulfilled",
                        "fulfilled_at": now,
                        "last_progress_at": now,
                    }
                )
    if published_snapshots:
        _snapshots(pledges, items, now)
    counts: dict[str, int] = {}
    entries: list[dict[str, Any]] = []
    if year_of_progress:
        clerks = _clerks(pid, now)
        people.extend(clerks)
        await _bulk(db, s.people, without_telegram(clerks))
        await _bulk(db, s.accounts, telegram_accounts(clerks))
        owner = {p["id"]: (p["person_id"], p["org_id"]) for p in pledges}
        progress, entries = _year_of_progress(
            random.Random(seed + 1_000), today, items, owner, {r["item_id"] for r in progress}
        )
        counts["clerks"] = len(clerks)
    await _bulk(db, s.pledges, pledges)
    await _bulk(db, s.pledge_items, items)
    await _bulk(db, s.item_progress, progress)
    await _bulk(db, s.progress_entries, entries)
    await db.dispose()
    return {
        "orgs": len(orgs),
        "people": len(people),
        "pledges": len(pledges),
        "items": len(items),
        "fulfilled": sum(1 for r in progress if r["status"] == "fulfilled"),
        **counts,
        **({"progress_entries": len(entries)} if year_of_progress else {}),
    }


def _snapshots(pledges: list[dict[str, Any]], items: list[dict[str, Any]], now: datetime) -> None:
    """Each pledge's ``published_snapshot``, as publication writes it."""
    of: dict[int, list[dict[str, Any]]] = {}
    for item in items:
        of.setdefault(item["pledge_id"], []).append(item)
    for pledge in pledges:
        pledge["published_snapshot"] = {
            "number": pledge["number"],
            "pledger_name": f"党员{pledge['person_id']}",
            "org_name": "",
            "horizon": "annual",
            "is_oral": False,
            "amended": False,
            "items": [
                {
                    "id": i["id"],
                    "category": i["category"],
                    "content": i["content"],
                    "target": i["target"],
                    "deadline": i["deadline"].isoformat(),
                    "responsible": i["responsible"],
                }
                for i in of.get(pledge["id"], [])
            ],
            "published_at": now.isoformat(),
        }


def _clerks(last_pid: int, now: datetime) -> list[dict[str, Any]]:
    """A bound clerk (role committee) in the district committee and in each township's."""
    clerks = []
    for n, oid in enumerate(range(1, 2 + TOWNSHIPS)):
        row = _person(last_pid + 1 + n, oid, "committee", now)
        row["name"] = "区委工作人员" if oid == 1 else f"镇{oid - 2}党委工作人员"
        row["tg_user_id"] = DISTRICT_CLERK_TG if oid == 1 else TOWNSHIP_CLERK_TG + oid - 2
        clerks.append(row)
    return clerks


def _year_of_progress(
    rng: random.Random,
    today: date,
    items: list[dict[str, Any]],
    owner: dict[int, tuple[int, int]],
    fulfilled: set[int],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Progress rows and progress entries over the twelve months up to ``today``.

    An active item gets a record in most months; a fulfilled item's records stop at its
    verified claim (done on a day around its deadline, verified by the branch secretary a
    few days later); a few unfulfilled items end with a claim still waiting."""
    tz = ZoneInfo("Asia/Shanghai")
    first = date(today.year - 1, today.month, 1)
    months = [_add_months(first, n + 1) for n in range(12)]  # the 12 months ending today's
    progress: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    for item in items:
        person, org = owner[item["pledge_id"]]
        secretary = org - 99  # district.py gives branch 100 + b the person b + 1
        done = item["id"] in fulfilled
        active = rng.random() < ACTIVE_SHARE
        if not (done or active):
            continue
        done_on = None
        if done:
            earliest = item["deadline"] - timedelta(days=60)
            span = (
                min(item["deadline"] + timedelta(days=20), today - timedelta(days=4)) - earliest
            ).days
            done_on = earliest + timedelta(days=rng.randrange(0, max(span, 1)))
        times: list[datetime] = []
        if active:
            for month in months:
                if done_on is not None and month > done_on:
                    break
                # this month: up to yesterday; earlier months: any day they all have
                last_day = today.day - 1 if month == today.replace(day=1) else 28
                if last_day < 1 or rng.random() >= MONTHLY_SHARE:
                    continue
                day = month.replace(day=rng.randrange(1, last_day + 1))
                if done_on is not None and day >= done_on:
                    continue
                times.append(_at(day, rng, tz))
        rows = [_entry(item["id"], item["pledge_id"], org, person, at) for at in times]
        status = "open"
        row: dict[str, Any] = {
            "item_id": item["id"],
            "status": status,
            "last_progress_at": times[-1] if times else None,
            "fulfilled_at": None,
            "verified_by": None,
            "done_on": None,
            "rectify_by": None,
        }
        if done_on is not None:
            claimed = _at(done_on, rng, tz)
            verified = claimed + timedelta(days=rng.randrange(1, 4), hours=rng.randrange(0, 6))
            claim = _entry(item["id"], item["pledge_id"], org, person, claimed)
            claim.update(
                text="已完成，请核实",
                claims_fulfilled=True,
                verdict="accepted",
                verified_by=secretary,
                verified_at=verified,
            )
            rows.append(claim)
            row.update(
                status="fulfilled",
                last_progress_at=claimed,
                fulfilled_at=verified,
                verified_by=secretary,
                done_on=done_on,
            )
        elif times and rng.random() < OPEN_CLAIM_SHARE:
            rows[-1].update(text="已完成，请核实", claims_fulfilled=True, verdict="open")
            row["status"] = "claimed"
        entries.extend(rows)
        progress.append(row)
    entries.sort(key=lambda e: e["created_at"])  # ids in the order the bot would give them
    return progress, entries


def _add_months(day: date, n: int) -> date:
    index = day.year * 12 + day.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def _at(day: date, rng: random.Random, tz: ZoneInfo) -> datetime:
    """A moment of that local day in office hours, stored in UTC like the bot does."""
    local = datetime.combine(day, clock_time(rng.randrange(8, 21), rng.randrange(60)), tzinfo=tz)
    return local.astimezone(UTC)


def _entry(item: int, pledge: int, org: int, person: int, at: datetime) -> dict[str, Any]:
    return {
        "item_id": item,
        "pledge_id": pledge,
        "org_id": org,
        "author_id": person,
        "text": f"{at.astimezone(ZoneInfo('Asia/Shanghai')):%m月}进展：按计划推进，已完成阶段目标",
        "evidence": [],
        "claims_fulfilled": False,
        "verdict": "note",
        "verdict_comment": None,
        "verified_by": None,
        "verified_at": None,
        "month": f"{at.astimezone(ZoneInfo('Asia/Shanghai')):%Y-%m}",
        "created_at": at,
    }


def _person(pid: int, oid: int, role: str, now: datetime) -> dict[str, Any]:
    return {
        "id": pid,
        "name": f"党员{pid}",
        "org_id": oid,
        "role": role,
        "phone": f"139{pid:08d}",
        "cadre": pid % 5 == 0,
        "oral": False,
        "tg_user_id": 10**9 + pid,
        "locale": "zh_CN",
        "is_admin": False,
        "created_at": now,
        "updated_at": now,
    }


async def advance_sequences(url: str) -> None:
    """PostgreSQL: the rows were written with their ids, so each table's id sequence goes on
    after the largest (SQLite's rowid does so by itself)."""
    db = Database(url)
    try:
        async with db.engine.begin() as conn:
            if conn.dialect.name != "postgresql":
                return
            for table in s.metadata.sorted_tables:
                if "id" in table.c and table.c.id.primary_key:
                    await conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f"coalesce(max(id), 0) + 1, false) FROM {table.name}"
                        )
                    )
    finally:
        await db.dispose()


def main() -> None:
    """Write a district database to a SQLite file, or into an empty database by its URL."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", help="a SQLite file, or a database URL (postgresql+asyncpg://…)")
    parser.add_argument("--today", type=date.fromisoformat, default=date(2026, 9, 15))
    parser.add_argument(
        "--year-of-progress",
        action="store_true",
        help="add a year of progress records and claims, and bound committee clerks",
    )
    parser.add_argument(
        "--published-snapshots",
        action="store_true",
        help="give each published pledge its snapshot (what the board table and letters print)",
    )
    args = parser.parse_args()
    if "://" in args.path:
        url = args.path
    else:
        Path(args.path).unlink(missing_ok=True)
        url = f"sqlite+aiosqlite:///{args.path}"
    started = time.perf_counter()
    counts = asyncio.run(
        build_district(
            url,
            args.today,
            year_of_progress=args.year_of_progress,
            published_snapshots=args.published_snapshots,
        )
    )
    asyncio.run(advance_sequences(url))
    print(f"built {counts} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
