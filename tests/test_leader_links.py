"""Liaison leaders' branches: the roster's 联系支部 column and `jiannuo leaders link`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.cli import main
from bot.domain.roster import RosterInvalid, parse_roster
from storage.db import Database

DEMO = Path(__file__).resolve().parents[1] / "bot" / "playground" / "demo"

ORGS = [["code", "name", "type", "parent"], ["XH", "镇党委", "committee", ""]]
ORGS += [["A", "甲村", "rural", "XH"], ["B", "乙村", "rural", "XH"]]
HEADER = ["姓名", "组织", "角色", "电话", "联系支部"]


@pytest.fixture
def env(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The CLI's environment: this test's database (SQLite or PostgreSQL); its URL."""
    monkeypatch.setenv("JIANNUO_DATABASE_URL", database_url)
    monkeypatch.delenv("JIANNUO_BOT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    return database_url


def _links(db_url: str) -> dict[int, list[int]]:
    async def read() -> dict[int, list[int]]:
        db = Database(db_url)
        try:
            async with db.uow() as uow:
                return await uow.leader_reviews.all_links()
        finally:
            await db.dispose()

    return asyncio.run(read())


def test_roster_column_reads_codes_separated_any_way() -> None:
    people = [HEADER, ["老陈", "XH", "联点领导", "13800000009", "A；B, A"]]
    roster = parse_roster(ORGS, people)
    assert roster.people[0].linked_orgs == ("A", "B")


def test_roster_column_refuses_unknown_codes_and_non_leaders() -> None:
    people = [
        HEADER,
        ["老陈", "XH", "联点领导", "13800000009", "A;Z"],
        ["小王", "A", "党员", "13800000010", "B"],
    ]
    with pytest.raises(RosterInvalid) as caught:
        parse_roster(ORGS, people)
    rendered = [p.render("zh_CN") for p in caught.value.problems]
    assert any("“Z”在组织表里找不到" in r for r in rendered), rendered
    assert any("只有联点领导可以填写“联系支部”" in r for r in rendered), rendered


def test_demo_import_links_the_leader_and_the_cli_adds_more(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["roster", "import", str(DEMO / "orgs.csv"), str(DEMO / "people.csv")]) == 0
    links = _links(env)
    assert len(links) == 1 and len(next(iter(links.values()))) == 2  # 陈国平: XH-HS, XH-DY
    capsys.readouterr()
    assert main(["leaders", "link", "--person", "13800000002", "--org", "XH-JX，XH-JG"]) == 0
    assert "已将 陈国平 联系到" in capsys.readouterr().out
    assert len(next(iter(_links(env).values()))) == 4
    # Refused: not a leader, a committee instead of a branch, an unknown code.
    assert main(["leaders", "link", "--person", "沈宝方", "--org", "XH-HS"]) == 2
    assert "找不到联点领导" in capsys.readouterr().err
    assert main(["leaders", "link", "--person", "陈国平", "--org", "XH"]) == 2
    assert main(["leaders", "link", "--person", "陈国平", "--org", "NOPE"]) == 2
    assert "不是名单中的支部编码" in capsys.readouterr().err
    assert len(next(iter(_links(env).values()))) == 4
