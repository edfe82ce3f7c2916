"""The archive for inspection, built by the service on a real database with a fake clock: who
may have it, that every file in it opens and is listed in the index, and that a hidden tally
(under 5 votes) shows in no file."""

from __future__ import annotations

import os
import re
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert

from bot.domain.archive import Archive, ArchiveService
from bot.domain.clock import FakeClock
from bot.domain.errors import DomainError
from bot.domain.exports import ExportService
from bot.domain.roster import load_roster
from bot.domain.roster_import import import_roster
from storage import schema as s
from storage.db import Database
from tests.accounts import actor_for
from tests.export_data import Published, add_evaluation, publish
from tests.pdf_check import pdf_text

DEMO = Path(__file__).resolve().parents[2] / "bot" / "playground" / "demo"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 9, 15, 9, 30, tzinfo=SHANGHAI)
ZH, EN = "zh_CN", "en"
WANG, SHEN, LIU, WU, ZHANG = 101, 103, 104, 105, 106
ACCOUNTS = {"王建国": WANG, "沈宝方": SHEN, "刘晓燕": LIU, "吴静": WU, "张桂英": ZHANG}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def service(db: Database, clock: FakeClock) -> ArchiveService:
    return ArchiveService(db, clock, ExportService(db, clock))


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
                    await uow.people.bind(person.id, ACCOUNTS[person.name], ZH)
    return ids


async def org_id(db: Database, code: str) -> int:
    async with db.uow() as uow:
        org = await uow.orgs.by_code(code)
    assert org is not None
    return org.id


@pytest.fixture
async def huangsi(db: Database, people: dict[str, int]) -> int:
    """黄思村: the branch's pledge and 王建国's, a progress record, a leader review, and an
    evaluation with one published subject (20 votes) and one hidden (3 votes: 2, 1, 0)."""
    hs = await org_id(db, "XH-HS")
    await publish(
        db,
        [
            Published(
                hs,
                "XH-HS-2026-001",
                None,
                "黄思村党总支",
                [("硬化村组道路三公里", date(2026, 10, 31))],
                drafter_id=people["沈宝方"],
            ),
            Published(
                hs,
                "XH-HS-2026-002",
                people["王建国"],
                "王建国",
                [("每月参加支部学习", date(2026, 12, 31))],
            ),
        ],
        NOW - timedelta(days=60),
    )
    async with db.engine.begin() as conn:
        item = (
            await conn.execute(
                s.pledge_items.select().where(s.pledge_items.c.content == "每月参加支部学习")
            )
        ).one()
        await conn.execute(
            insert(s.progress_entries).values(
                item_id=item.id,
                pledge_id=item.pledge_id,
                org_id=hs,
                author_id=people["王建国"],
                text="八月参加了两次支部学习",
                evidence=[],
                month="2026-08",
                created_at=NOW - timedelta(days=30),
            )
        )
        await conn.execute(
            insert(s.leader_reviews).values(
                reviewer_id=people["沈宝方"],
                subject_kind="member",
                subject_person_id=people["王建国"],
                subject_org_id=hs,
                period="2026-Q3",
                grade="good",
                comment="学习认真，帮扶到位",
                published=True,
                created_at=NOW - timedelta(days=10),
            )
        )
    await add_evaluation(
        db, hs, people["沈宝方"], [(15, 4, 1), (2, 1, 0)], NOW - timedelta(days=5)
    )
    return hs


def opened(archive: Archive) -> dict[str, bytes]:
    """The archive's files by name (and the temporary file removed)."""
    with zipfile.ZipFile(archive.path) as zf:
        files = {name: zf.read(name) for name in zf.namelist()}
    archive.discard()
    assert not archive.path.exists()
    return files


def cells(data: bytes) -> list[list[object]]:
    wb = load_workbook(BytesIO(data))
    return [list(row) for ws in wb.worksheets for row in ws.iter_rows(values_only=True)]


@contextmanager
def refused(key: str) -> Iterator[None]:
    with pytest.raises(DomainError) as caught:
        yield
    assert caught.value.key == key


async def test_a_branch_archive_holds_every_file_and_each_opens(
    db: Database, service: ArchiveService, huangsi: int
) -> None:
    files = opened(await service.build(await actor_for(db, SHEN), huangsi, ZH))
    index = files.pop("00_目录.html").decode()
    assert sorted(files) == [
        "01_承诺登记公示表.pdf",
        "02_承诺登记公示表.xlsx",
        "03_承诺台账.xlsx",
        "04_承诺书.pdf",
        "05_月度记实.xlsx",
        "06_领导点评.xlsx",
        "07_群众评议结果.xlsx",
        "08_整改.xlsx",
        "09_排名与评选.xlsx",
        "10_统计表.xlsx",
    ]
    listed = re.findall(r'<a href="([^"]+)">', index)
    assert listed == sorted(files)  # the index lists every file, in order
    assert "黄思村党总支 2026年创先争优公开承诺档案" in index
    assert "截至 2026-09-15" in index and "2026年全年" in index
    letters = pdf_text(files["04_承诺书.pdf"])
    assert len(letters) == 2  # one archive copy per published pledge
    assert "黄思村党总支" in letters[0] and "王建国" in letters[1]
    assert "档案留存" in letters[1]
    assert "硬化村组道路三公里" in "".join(pdf_text(files["01_承诺登记公示表.pdf"]))
    records = cells(files["05_月度记实.xlsx"])
    assert records[3][2:5] == ["2026-08", "王建国", "XH-HS-2026-002"]
    assert "八月参加了两次支部学习" in records[3]
    reviews = cells(files["06_领导点评.xlsx"])
    assert reviews[3][2:6] == ["王建国", "沈宝方", "2026-Q3", "好"]
    for name, data in files.items():
        if name.endswith(".xlsx"):
            assert cells(data)  # every workbook opens


async def test_a_hidden_tally_is_in_no_file(
    db: Database, service: ArchiveService, huangsi: int
) -> None:
    files = opened(await service.build(await actor_for(db, SHEN), huangsi, ZH))
    results = cells(files["07_群众评议结果.xlsx"])
    published, hidden = results[3], results[4]
    assert published[5:10] == [15, 4, 1, "95.0%", "达标"]
    # The hidden subject: no count, no rate, no verdict; only that it is not published.
    assert hidden[5:10] == [None, None, None, None, "不足5票，结果不公布"]
    everything = "\n".join(
        str(v)
        for name, data in files.items()
        if name.endswith(".xlsx")
        for r in cells(data)
        for v in r
    )
    assert "100.0%" not in everything  # the hidden subject's rate (3 of 3 favourable)
    stats = cells(files["10_统计表.xlsx"])
    favourable = [r for r in stats if r[1] == "群众满意率"]
    assert favourable[0][2] == pytest.approx(19 / 20)  # the published subject only


async def test_who_may_have_the_archive(
    db: Database, service: ArchiveService, huangsi: int, people: dict[str, int]
) -> None:
    dy = await org_id(db, "XH-DY")
    with refused("archive.staff_only"):
        await service.build(await actor_for(db, WANG), huangsi, ZH)  # a member
    with refused("archive.staff_only"):
        await service.build(await actor_for(db, ZHANG), huangsi, ZH)  # a resident
    with refused("export.not_your_branch"):
        await service.build(await actor_for(db, WU), huangsi, ZH)  # another branch's secretary
    async with db.engine.begin() as conn:
        await conn.execute(
            insert(s.orgs).values(code="YY", name="远方镇党委", type="committee", parent_id=None)
        )
    with refused("export.not_your_scope"):
        await service.build(
            await actor_for(db, LIU), await org_id(db, "YY"), ZH
        )  # another committee
    # Committee staff: any branch below, or the whole committee.
    assert "04_承诺书.pdf" in opened(await service.build(await actor_for(db, LIU), huangsi, ZH))
    assert "02_承诺登记公示表.xlsx" in opened(
        await service.build(await actor_for(db, LIU), dy, ZH)
    )
    message = DomainError("archive.staff_only").render(ZH)
    assert "只有支部书记和党委工作人员" in message


async def test_a_committee_archive_covers_its_branches_page_by_page(
    db: Database,
    service: ArchiveService,
    huangsi: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("bot.domain.archive.ORG_PAGE", 2)  # five organisations: three pages
    xh = await org_id(db, "XH")
    files = opened(await service.build(await actor_for(db, LIU), xh, EN))
    index = files.pop("00_index.html").decode()
    assert re.findall(r'<a href="([^"]+)">', index) == sorted(files)
    assert "the year 2026" in index and "as of 2026-09-15" in index
    ledger = cells(files["03_pledge_ledger.xlsx"])
    assert [r[0] for r in ledger[3:]] == ["黄思村党总支", "黄思村党总支"]  # the organisation
    # The committee keeps the branch pledge's letter (it reviewed it), not the members'.
    [letter] = pdf_text(files["04_pledge_letters.pdf"])
    assert "硬化村组道路三公里" in letter and "每月参加支部学习" not in letter
    summary = cells(files["05_monthly_records_summary.xlsx"])
    assert summary[3][1:6] == ["黄思村党总支", "2026-08", 1, 1, 0]
    assert "Under 5 votes: not published" in [
        v for row in cells(files["07_evaluation_results.xlsx"]) for v in row
    ]


async def test_a_failed_build_leaves_no_file_behind(
    db: Database,
    service: ArchiveService,
    huangsi: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.exports import archive_files

    made = archive_files.StreamedTable

    def second_fails(path: Path, sheet: str, *args: object, **kwargs: object) -> object:
        if "ledger" in path.name:
            raise OSError("disk full")
        return made(path, sheet, *args, **kwargs)  # type: ignore[arg-type]

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setattr(archive_files, "StreamedTable", second_fails)
    with pytest.raises(OSError, match="disk full"):
        await service.build(await actor_for(db, LIU), await org_id(db, "XH"), ZH)
    assert os.listdir(scratch) == []  # neither the ZIP nor a scratch workbook
