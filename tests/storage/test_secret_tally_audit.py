"""Audit of every aggregate built from evaluation tallies: a hidden result (fewer than 5 votes)
cannot be recovered by subtraction from any combination of published figures.

The test is a non-interference check. Two databases differ only in the tally of one hidden
subject (3 votes 不满意 against 4 votes 满意); every screen that shows figures — the statistics
form (chat text and workbook, branch and committee), the /stats charts' captions and figures
for a secretary, a member and a committee clerk, the public web board of the branch and of the
committee, the rankings, the assessment cards and the award candidates — must read exactly the
same in both. If any figure included the hidden tally it would differ, and whoever holds the
published per-subject results could subtract them from it. A control case changes a published
subject's tally instead and must change the screens, so the check cannot pass vacuously.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert

from bot.domain.clock import FakeClock
from bot.domain.roster import load_roster
from bot.domain.roster_import import import_roster
from bot.domain.selection import SelectionService
from bot.domain.selection_models import SubjectKind
from bot.domain.selection_view import assess_card_text, awards_text, ranking_text
from bot.domain.stats import StatsFigures, StatsService, render
from bot.domain.stats_form import gather, render_message
from bot.exports.xlsx import stats_xlsx
from bot.web.board import PublicBoard
from config.settings import Settings
from storage import schema as s
from storage.db import Database
from tests.accounts import actor_for
from tests.fulfilment_data import PublishedPledge, insert_published, set_progress

DEMO = Path(__file__).resolve().parents[2] / "bot" / "playground" / "demo"
TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=TZ)
CLOSED = datetime(2026, 10, 28, 10, 0, tzinfo=TZ)
ACCOUNTS = {"沈宝方": 11, "刘晓燕": 12, "王建国": 13, "张桂英": 14, "吴静": 15}

PUBLISHED = {"王建国": (70, 5, 1), "杨友林": (66, 5, 3)}
HIDDEN_BAD = {**PUBLISHED, "沈红梅": (0, 0, 3)}
HIDDEN_GOOD = {**PUBLISHED, "沈红梅": (4, 0, 0)}
VISIBLE_CHANGED = {"王建国": (60, 5, 11), "杨友林": (66, 5, 3), "沈红梅": (0, 0, 3)}
# 东园社区 evaluated the branch itself and only 2 residents voted: hidden as a whole.
BRANCH_BAD = (0, 0, 2)
BRANCH_GOOD = (2, 0, 0)


async def _build(
    path: Path, members: dict[str, tuple[int, int, int]], branch: tuple[int, int, int]
) -> Database:
    db = Database(f"sqlite+aiosqlite:///{path}")
    await db.migrate()
    clock = FakeClock(NOW)
    await import_roster(db, clock, load_roster(DEMO / "orgs.csv", DEMO / "people.csv"))
    ids: dict[str, int] = {}
    orgs: dict[str, int] = {}
    async with db.uow() as uow:
        for org in await uow.orgs.all():
            orgs[org.code] = org.id
            for person in await uow.people.in_org(org.id):
                ids[person.name] = person.id
                if person.name in ACCOUNTS:
                    await uow.people.bind(person.id, ACCOUNTS[person.name], "zh_CN")
    hs, dy = orgs["XH-HS"], orgs["XH-DY"]
    due = date(2026, 10, 15)
    pledges = [
        PublishedPledge(hs, f"T-{n}", ids[name], ids[name], [(f"{name}{k}", due) for k in (1, 2)])
        for n, name in enumerate(("王建国", "杨友林", "沈红梅"))
    ]
    await insert_published(db, pledges, CLOSED - timedelta(days=60))
    await set_progress(
        db, [{"item_id": p.item_ids[0], "status": "fulfilled", "done_on": due} for p in pledges]
    )
    async with db.engine.begin() as conn:
        evaluated: list[tuple[int, str, dict[int | None, tuple[int, int, int]]]] = [
            (hs, "members", {ids[n]: t for n, t in members.items()}),
            (dy, "branch", {None: branch}),
        ]
        for where, kind, tallies in evaluated:
            ev = await conn.execute(
                insert(s.evaluations).values(
                    org_id=where,
                    subject_kind=kind,
                    opened_by=ids["沈宝方"],
                    status="closed",
                    quorum=5,
                    pass_permille=900,
                    valid_voters=76,
                    closes_at=CLOSED,
                    created_at=CLOSED - timedelta(days=7),
                    closed_at=CLOSED,
                )
            )
            assert ev.inserted_primary_key is not None
            for position, (who, (good, basic, bad)) in enumerate(tallies.items(), start=1):
                rate = (good + basic) * 1000 // (good + basic + bad)
                await conn.execute(
                    insert(s.evaluation_subjects).values(
                        evaluation_id=ev.inserted_primary_key[0],
                        position=position,
                        person_id=who,
                        org_id=where,
                        satisfied=good,
                        basic=basic,
                        unsatisfied=bad,
                        rate_permille=rate,
                        passed=rate >= 900,
                    )
                )
    return db


def _workbook(data: bytes) -> list[list[Any]]:
    book = load_workbook(BytesIO(data))
    return [list(row) for ws in book.worksheets for row in ws.iter_rows(values_only=True)]


def _chart_figures(f: StatsFigures) -> list[Any]:
    # The images too: a bar drawn from a hidden tally would move a pixel.
    captions = [
        (c.kind, c.caption, hashlib.sha256(c.png).hexdigest()) for c in render("zh_CN", f, 90.0)
    ]
    return [captions, f.evaluations, f.evaluations_total, f.status, f.fulfilment]


async def _screens(db: Database) -> dict[str, Any]:
    """Everything a person can read that is built from the tallies."""
    clock = FakeClock(NOW)
    out: dict[str, Any] = {}
    async with db.uow() as uow:
        for code in ("XH-HS", "XH"):
            org = await uow.orgs.by_code(code)
            assert org is not None
            for locale in ("zh_CN", "en"):
                form = await gather(uow, org, NOW.date(), locale)
                out[f"form {code} {locale}"] = render_message(locale, form)
                out[f"workbook {code} {locale}"] = _workbook(stats_xlsx(form))
    stats = StatsService(db, clock)
    for name in ("沈宝方", "刘晓燕", "张桂英"):
        figures = await stats.figures(await actor_for(db, ACCOUNTS[name]))
        assert isinstance(figures, StatsFigures)
        out[f"stats {name}"] = _chart_figures(figures)
    board = PublicBoard(db, clock)
    codes: tuple[str | None, ...] = ("XH-HS", "XH-DY", "XH", None)
    for page in codes:
        out[f"web board {page}"] = (await board.page(page)).html
    selection = SelectionService(db, clock, Settings(_env_file=None))
    for name in ("沈宝方", "刘晓燕"):
        out[f"ranking {name}"] = ranking_text(
            "zh_CN", await selection.ranking(await actor_for(db, ACCOUNTS[name]))
        )
    async with db.uow() as uow:
        hs = await uow.orgs.by_code("XH-HS")
        dy = await uow.orgs.by_code("XH-DY")
        assert hs is not None and dy is not None
        members = {p.name: p.id for p in await uow.people.in_org(hs.id)}
    for person in ("王建国", "杨友林", "沈红梅"):
        card = await selection.assess_card(
            await actor_for(db, ACCOUNTS["沈宝方"]), SubjectKind.MEMBER, members[person]
        )
        out[f"assess {person}"] = assess_card_text("zh_CN", card, "")
    card = await selection.assess_card(
        await actor_for(db, ACCOUNTS["刘晓燕"]), SubjectKind.BRANCH, dy.id
    )
    out["assess 东园"] = assess_card_text("zh_CN", card, "")
    _, view = await selection.propose(await actor_for(db, ACCOUNTS["刘晓燕"]), 2026)
    out["awards"] = awards_text("zh_CN", view)
    return out


async def _read(path: Path, members: dict[str, Any], branch: tuple[int, int, int]) -> Any:
    db = await _build(path, members, branch)
    try:
        return await _screens(db)
    finally:
        await db.dispose()


def _differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    return [key for key in a if a[key] != b[key]]


@pytest.fixture
async def hidden_bad(tmp_path: Path) -> dict[str, Any]:
    result: dict[str, Any] = await _read(tmp_path / "a.db", HIDDEN_BAD, BRANCH_BAD)
    return result


async def test_no_published_figure_moves_with_a_hidden_tally(
    tmp_path: Path, hidden_bad: dict[str, Any]
) -> None:
    hidden_good = await _read(tmp_path / "b.db", HIDDEN_GOOD, BRANCH_GOOD)
    assert _differences(hidden_bad, hidden_good) == []


async def test_the_audit_sees_a_published_tally_change(
    tmp_path: Path, hidden_bad: dict[str, Any]
) -> None:
    changed = await _read(tmp_path / "c.db", VISIBLE_CHANGED, BRANCH_BAD)
    moved = set(_differences(hidden_bad, changed))
    # Every kind of screen reads the tallies: each must notice a published change.
    for screen in (
        "form XH-HS zh_CN",
        "form XH en",
        "workbook XH-HS zh_CN",
        "workbook XH zh_CN",
        "stats 沈宝方",
        "stats 刘晓燕",
        "stats 张桂英",
        "web board XH-HS",
        "ranking 沈宝方",
        "assess 王建国",
    ):
        assert screen in moved, screen
