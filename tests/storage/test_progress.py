"""Fulfilment on a real SQLite file with a fake clock: progress, claims, verification, ledger."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.chat.actor import Actor
from bot.domain.clock import FakeClock
from bot.domain.errors import DomainError
from bot.domain.ledger import (
    BRANCHES_PER_PAGE,
    ROWS_PER_PAGE,
    BranchPage,
    DistrictPage,
    LedgerService,
    render_branch,
    render_district,
)
from bot.domain.progress import MAX_TEXT, MB, ProgressService
from bot.domain.progress_models import Evidence, EvidenceKind, ItemStatus, Verdict
from bot.domain.roster import load_roster
from bot.domain.roster_import import import_roster
from storage import schema as s
from storage.db import Database
from tests.accounts import actor_for
from tests.buttons import fit_telegram
from tests.fulfilment_data import PublishedPledge, insert_published, set_progress

DEMO = Path(__file__).resolve().parents[2] / "bot" / "playground" / "demo"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 6, 5, 9, 30, tzinfo=SHANGHAI)
TODAY = NOW.date()

# Telegram accounts of the people in these tests
WANG, YANG, SHEN, LIU, WU, ZHANG = 101, 102, 103, 104, 105, 106
ACCOUNTS = {
    "王建国": WANG,  # member, 黄思村
    "杨友林": YANG,  # member, 黄思村
    "沈宝方": SHEN,  # secretary, 黄思村
    "刘晓燕": LIU,  # committee, 新华镇党委
    "吴静": WU,  # secretary, 东园社区
    "张桂英": ZHANG,  # resident, 黄思村
}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
async def people(db: Database, clock: FakeClock) -> dict[str, int]:
    """The demo roster with some accounts bound; name → person id."""
    await import_roster(db, clock, load_roster(DEMO / "orgs.csv", DEMO / "people.csv"))
    ids: dict[str, int] = {}
    async with db.uow() as uow:
        for org in await uow.orgs.all():
            for person in await uow.people.in_org(org.id):
                ids[person.name] = person.id
                if person.name in ACCOUNTS:
                    await uow.people.bind(person.id, ACCOUNTS[person.name], "zh_CN")
    return ids


@pytest.fixture
async def acting(db: Database, people: dict[str, int]) -> dict[int, Actor]:
    """Account → the person acting through it, as the Telegram edge resolves them."""
    return {account: await actor_for(db, account) for account in ACCOUNTS.values()}


async def org_id(db: Database, code: str) -> int:
    async with db.uow() as uow:
        org = await uow.orgs.by_code(code)
    assert org is not None
    return org.id


async def outbox_texts(db: Database, chat_id: int) -> list[str]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            select(s.outbox.c.payload).where(s.outbox.c.chat_id == chat_id).order_by(s.outbox.c.id)
        )
        return [payload["text"] for (payload,) in rows]


async def count(db: Database, table: str) -> int:
    async with db.engine.connect() as conn:
        return int(
            (
                await conn.execute(select(func.count()).select_from(s.metadata.tables[table]))
            ).scalar_one()
        )


@contextmanager
def refused(key: str) -> Iterator[None]:
    """The block raises a DomainError with exactly this catalog key."""
    with pytest.raises(DomainError) as caught:
        yield
    assert caught.value.key == key


def photo(size: int) -> Evidence:
    return Evidence(kind=EvidenceKind.PHOTO, file=1, size=size)


def document(size: int) -> Evidence:
    return Evidence(kind=EvidenceKind.DOCUMENT, file=2, size=size, name="a.pdf")


async def test_report_claim_send_back_claim_accept(
    db: Database, clock: FakeClock, people: dict[str, int], acting: dict[int, Actor]
) -> None:
    hs = await org_id(db, "XH-HS")
    pledge = PublishedPledge(
        hs,
        "XH-HS-2026-0001",
        people["王建国"],
        people["王建国"],
        [("走访困难户", date(2026, 6, 30)), ("参加学习", date(2026, 12, 31))],
    )
    await insert_published(db, [pledge], NOW)
    visit, study = pledge.item_ids
    svc = ProgressService(db, clock)

    assert [v.item.item_id for v in await svc.reportable(acting[WANG])] == [visit, study]
    assert await svc.reportable(acting[YANG]) == []
    with refused("progress.residents"):
        await svc.reportable(acting[ZHANG])

    # Someone else's item, bad text, oversized evidence: refused, nothing written.
    with refused("progress.not_yours"):
        await svc.record(acting[YANG], visit, "我替他做了")
    with refused("progress.text.empty"):
        await svc.record(acting[WANG], visit, " \u3000 \n ")
    with refused("progress.text.too_long"):
        await svc.record(acting[WANG], visit, "字" * (MAX_TEXT + 1))
    with refused("progress.photo.too_big"):
        await svc.record(acting[WANG], visit, "走访了", photo(10 * MB + 1))
    with refused("progress.file.too_big"):
        await svc.record(acting[WANG], visit, "走访了", document(20 * MB + 1))
    assert await count(db, "progress_entries") == 0

    first = await svc.record(acting[WANG], visit, "走访了2户", photo(10 * MB))
    first = await svc.attach(acting[WANG], first.entry.id, document(20 * MB))
    assert [e.kind for e in first.entry.evidence] == [EvidenceKind.PHOTO, EvidenceKind.DOCUMENT]
    assert first.entry.month == "2026-06" and first.entry.verdict is Verdict.NOTE
    with refused("progress.not_yours"):
        await svc.attach(acting[YANG], first.entry.id, photo(1))
    with refused("progress.not_yours"):
        await svc.claim(acting[YANG], first.entry.id)

    claimed = await svc.claim(acting[WANG], first.entry.id)
    assert claimed.notified == 1 and claimed.item.status is ItemStatus.CLAIMED
    card = (await outbox_texts(db, SHEN))[-1]
    assert "王建国 申请兑现销号" in card and "走访困难户" in card and "证据：2 个" in card
    with refused("progress.already_claimed"):
        await svc.claim(acting[WANG], first.entry.id)

    # Only the branch secretary (or the committee above) verifies, never the claimant.
    with refused("progress.not_a_verifier"):
        await svc.accept(acting[YANG], first.entry.id)
    with refused("progress.not_a_verifier"):
        await svc.accept(acting[WANG], first.entry.id)
    with refused("progress.not_your_scope"):
        await svc.accept(acting[WU], first.entry.id)
    with refused("progress.comment.empty"):
        await svc.send_back(acting[SHEN], first.entry.id, "  ")

    clock.advance(timedelta(days=1))
    back = await svc.send_back(acting[SHEN], first.entry.id, "请补充走访记录表")
    assert back.entry.verdict is Verdict.SENT_BACK
    assert "请补充走访记录表" in (await outbox_texts(db, WANG))[-1]
    async with db.uow() as uow:
        assert (await uow.progress.item_progress(visit)).status is ItemStatus.OPEN
    with refused("progress.already_decided"):
        await svc.accept(acting[SHEN], first.entry.id)  # the old card's button: stale

    second = await svc.record(acting[WANG], visit, "补充了走访记录表")
    await svc.claim(acting[WANG], second.entry.id)
    clock.advance(timedelta(days=30))  # verified after the deadline: still on time
    accepted = await svc.accept(acting[SHEN], second.entry.id)
    assert (
        accepted.entry.verdict is Verdict.ACCEPTED
        and accepted.entry.verified_by == people["沈宝方"]
    )
    with refused("progress.already_decided"):
        await svc.accept(acting[SHEN], second.entry.id)  # a second tap changes nothing
    async with db.uow() as uow:
        state = await uow.progress.item_progress(visit)
    assert state.status is ItemStatus.FULFILLED and state.verified_by == people["沈宝方"]
    assert state.fulfilled_at == clock.now()
    assert "已兑现销号" in (await outbox_texts(db, WANG))[-1]
    with refused("progress.already_fulfilled"):
        await svc.record(acting[WANG], visit, "还想再记一笔")

    ledger = await LedgerService(db, clock).branch(acting[SHEN], hs, 0)
    assert ledger.figures.items == 2 and ledger.figures.fulfilled == 1
    assert ledger.figures.on_time == 1  # claimed on 06-06, due 06-30

    # The monthly record: June has the three entries; July (now) has none yet.
    june = await svc.month_record(acting[WANG], "2026-06")
    assert [line.entry.text for line in june.lines] == [
        "走访了2户",
        "补充了走访记录表",
    ]
    assert (await svc.month_record(acting[WANG])).month == "2026-07"
    assert (await svc.month_record(acting[WANG])).lines == []
    with refused("error.stale_button"):
        await svc.month_record(acting[WANG], "2026-13")


async def test_claims_on_own_or_branch_items_go_to_the_committee(
    db: Database, clock: FakeClock, people: dict[str, int], acting: dict[int, Actor]
) -> None:
    hs = await org_id(db, "XH-HS")
    own = PublishedPledge(
        hs, "XH-HS-2026-0001", people["沈宝方"], people["沈宝方"], [("带头学习", TODAY)]
    )
    branch = PublishedPledge(hs, "XH-HS-2026-0002", None, people["沈宝方"], [("修村道", TODAY)])
    await insert_published(db, [own, branch], NOW)
    svc = ProgressService(db, clock)
    listed = {v.item.item_id: v for v in await svc.reportable(acting[SHEN])}
    assert set(listed) == {own.item_ids[0], branch.item_ids[0]}
    assert listed[branch.item_ids[0]].pledger_name == "黄思村党总支"
    with refused("progress.not_yours"):
        await svc.record(
            acting[WANG], branch.item_ids[0], "我来记"
        )  # members do not report for it

    for item in (own.item_ids[0], branch.item_ids[0]):
        entry = await svc.record(acting[SHEN], item, "已完成")
        assert (await svc.claim(acting[SHEN], entry.entry.id)).notified == 1
        with refused("progress.own_claim"):
            await svc.accept(acting[SHEN], entry.entry.id)
        assert "申请兑现销号" in (await outbox_texts(db, LIU))[-1]
        assert len(await svc.pending_claims(acting[LIU])) >= 1
        await svc.accept(acting[LIU], entry.entry.id)
    assert await svc.pending_claims(acting[LIU]) == []
    assert await outbox_texts(db, SHEN)  # the secretary heard the verdicts


async def test_branch_ledger_counts_rates_overdue_and_pages(
    db: Database, clock: FakeClock, people: dict[str, int], acting: dict[int, Actor]
) -> None:
    hs = await org_id(db, "XH-HS")
    past, future = TODAY - timedelta(days=3), TODAY + timedelta(days=30)
    wang = PublishedPledge(
        hs,
        "XH-HS-2026-0001",
        people["王建国"],
        people["王建国"],
        [(f"王的事项{i:02d}", past if i % 2 else future) for i in range(40)],
    )
    yang = PublishedPledge(
        hs,
        "XH-HS-2026-0002",
        people["杨友林"],
        people["杨友林"],
        [(f"杨的事项{i:02d}", future) for i in range(19)],
    )
    branch = PublishedPledge(hs, "XH-HS-2026-0003", None, people["沈宝方"], [("修村道", past)])
    await insert_published(db, [wang, yang, branch], NOW)
    at = NOW - timedelta(days=1)
    rows = []
    for i, item in enumerate(wang.item_ids[:12]):
        if i < 8:  # fulfilled; the first four on time
            done = past - timedelta(days=1) if i < 4 else future + timedelta(days=1)
            rows.append(
                {
                    "item_id": item,
                    "status": "fulfilled",
                    "fulfilled_at": at,
                    "done_on": done,
                    "last_progress_at": at,
                }
            )
        else:
            rows.append({"item_id": item, "status": "claimed", "last_progress_at": at})
    await set_progress(db, rows)
    service = LedgerService(db, clock)

    first = await service.open(acting[SHEN])
    assert isinstance(first, BranchPage)
    figures = first.figures
    assert (figures.items, figures.fulfilled, figures.claimed) == (60, 8, 4)
    # Items 0–7 are fulfilled; odd ones are past due: 9 and 11 (claimed), 13..39 odd, branch.
    assert figures.overdue == 2 + 14 + 1
    assert figures.rate == pytest.approx(8 / 60) and figures.on_time_rate == pytest.approx(4 / 60)
    assert first.pages == 3 and len(first.rows) == ROWS_PER_PAGE
    assert first.rows[0].content == "修村道"  # the branch's own pledge first
    # then members by name (code point order: 杨 before 王), each with their items in order
    # Members by pinyin: 王 (wang) before 杨 (yang), though 杨 comes first in Unicode.
    assert [r.pledger_name for r in first.rows[1:3]] == ["王建国", "王建国"]

    texts = []
    for page in range(3):
        view = await service.branch(acting[SHEN], hs, page)
        text, buttons = render_branch("zh_CN", view, SHANGHAI)
        assert len(text) <= 4096
        assert fit_telegram(buttons)
        texts.append(text)
    everything = "\n".join(texts)
    assert all(f"王的事项{i:02d}" in everything for i in range(40))
    assert all(f"杨的事项{i:02d}" in everything for i in range(19))
    assert "兑现率 13.3%" in texts[0] and "按时兑现率 6.7%" in texts[0]
    assert "✓ 王的事项00" in everything and "⏳⚠ 王的事项09" in everything
    assert "○ 王的事项12" in everything and "⚠ 王的事项13" in everything
    last = await service.branch(acting[SHEN], hs, 99)  # past the end: the last page
    assert last.page == 2 and len(last.rows) == 60 - 2 * ROWS_PER_PAGE

    # Permissions: a member, another branch's secretary, a secretary asking for the district.
    with refused("ledger.not_allowed"):
        await service.open(acting[WANG])
    with refused("ledger.not_your_branch"):
        await service.branch(acting[WU], hs, 0)
    with refused("ledger.committee_only"):
        await service.district(acting[SHEN], 0)

    district = await service.open(acting[LIU])
    assert isinstance(district, DistrictPage)
    assert district.totals.branches == 4 and district.totals.pledging_members == 2
    assert district.totals.figures == figures
    by_code = {b.code: b for b in district.branches}
    assert by_code["XH-HS"].figures == figures
    assert by_code["XH-DY"].figures.items == 0
    text, _ = render_district("zh_CN", district)
    assert "黄思村党总支：60 项，已兑现 8 项，兑现率 13.3%，逾期 17 项" in text
    committee_view = await service.branch(acting[LIU], hs, 1, back_page=0)
    assert committee_view.page == 1 and committee_view.back_page == 0


async def test_district_ledger_at_a_few_thousand_items(
    db: Database, clock: FakeClock, people: dict[str, int], acting: dict[int, Actor]
) -> None:
    """Sixty branches, ten members each, six items per member: aggregated and paged in SQL."""
    xh = await org_id(db, "XH")
    branches = 60
    async with db.uow() as uow:
        await uow.orgs.upsert_many(
            [
                {"code": f"XH-B{b:03d}", "name": f"第{b}支部", "type": "rural", "parent": "XH"}
                for b in range(branches)
            ]
        )
        codes = await uow.orgs.codes()
        await uow.people.insert_many(
            [
                {
                    "name": f"党员{b}-{m}",
                    "org_id": codes[f"XH-B{b:03d}"],
                    "role": "member",
                    "phone": f"1{b:03d}{m:02d}",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for b in range(branches)
                for m in range(10)
            ]
        )
        members = await uow.people.identity_map()
    pledges = []
    for (org, name, _phone), pid in members.items():
        if not name.startswith("党员"):
            continue
        items = [
            (f"事项{k}", TODAY - timedelta(days=1) if k % 2 else TODAY + timedelta(days=9))
            for k in range(6)
        ]
        pledges.append(PublishedPledge(org, f"N-{pid}", pid, pid, items))
    await insert_published(db, pledges, NOW)
    progress = []
    expected = {"items": 0, "fulfilled": 0, "on_time": 0, "overdue": 0, "claimed": 0}
    for pledge in pledges:
        for k, item in enumerate(pledge.item_ids):
            expected["items"] += 1
            due = TODAY - timedelta(days=1) if k % 2 else TODAY + timedelta(days=9)
            if k in (0, 1):
                progress.append(
                    {"item_id": item, "status": "fulfilled", "done_on": due - timedelta(days=k)}
                )
                expected["fulfilled"] += 1
                expected["on_time"] += 1
            elif k == 2:
                progress.append({"item_id": item, "status": "claimed"})
                expected["claimed"] += 1
            elif k % 2:
                expected["overdue"] += 1
    await set_progress(db, progress)
    assert expected["items"] == branches * 10 * 6

    service = LedgerService(db, clock)
    started = time.perf_counter()
    district = await service.district(acting[LIU], 0)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, elapsed
    figures = district.totals.figures
    got = {k: getattr(figures, k) for k in expected}
    assert got == expected
    assert district.totals.branches == 4 + branches
    assert district.totals.pledging_members == branches * 10
    assert district.pages == -(-(4 + branches) // BRANCHES_PER_PAGE)
    seen = []
    for page in range(district.pages):
        view = await service.district(acting[LIU], page)
        text, buttons = render_district("zh_CN", view)
        assert len(text) <= 4096 and sum(len(r) for r in buttons) <= 100
        seen += view.branches
    assert len(seen) == 4 + branches
    one = next(b for b in seen if b.code == "XH-B007")
    assert (one.figures.items, one.figures.fulfilled, one.figures.claimed) == (60, 20, 10)
    assert one.figures.overdue == 10 * 2  # items 3 and 5 of each member
    assert xh not in {b.org_id for b in seen}


async def test_a_claim_skips_a_secretary_who_has_not_joined(
    db: Database, clock: FakeClock, people: dict[str, int], acting: dict[int, Actor]
) -> None:
    jx = await org_id(db, "XH-JX")  # its secretary 何志强 has no account bound
    async with db.uow() as uow:
        await uow.people.bind(people["徐海涛"], 107, "zh_CN")
    pledge = PublishedPledge(
        jx, "XH-JX-2026-0001", people["徐海涛"], people["徐海涛"], [("质量攻关", TODAY)]
    )
    await insert_published(db, [pledge], NOW)
    svc = ProgressService(db, clock)
    xu = await actor_for(db, 107)
    entry = await svc.record(xu, pledge.item_ids[0], "完成了质量攻关")
    assert (await svc.claim(xu, entry.entry.id)).notified == 1
    assert "徐海涛 申请兑现销号" in (await outbox_texts(db, LIU))[-1]
    await svc.accept(acting[LIU], entry.entry.id)
