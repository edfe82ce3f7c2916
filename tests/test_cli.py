"""The command line: roster import (refused whole, with every bad line) and invites."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.cli import main
from storage.db import Database

DEMO = Path(__file__).resolve().parents[1] / "bot" / "playground" / "demo"


@pytest.fixture
def env(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The CLI's environment: this test's database (SQLite or PostgreSQL); its URL."""
    monkeypatch.setenv("JIANNUO_DATABASE_URL", database_url)
    monkeypatch.setenv("JIANNUO_BOT_USERNAME", "jiannuo_bot")
    monkeypatch.delenv("JIANNUO_BOT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    return database_url


def _count_people(db_url: str) -> int:
    async def count() -> int:
        db = Database(db_url)
        try:
            async with db.uow() as uow:
                return len(await uow.people.identity_map())
        finally:
            await db.dispose()

    return asyncio.run(count())


def test_import_then_reimport_updates_instead_of_duplicating(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["roster", "import", str(DEMO / "orgs.csv"), str(DEMO / "people.csv")]) == 0
    first = capsys.readouterr().out
    assert "名册导入完成" in first
    people = _count_people(env)
    assert people > 30
    assert main(["roster", "import", str(DEMO / "orgs.csv"), str(DEMO / "people.csv")]) == 0
    assert f"更新 {people}" in capsys.readouterr().out
    assert _count_people(env) == people


def test_bad_roster_is_refused_whole_with_every_bad_line(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    orgs = tmp_path / "orgs.csv"
    orgs.write_text(
        "code,name,type,parent\nA,甲党委,committee,\nB,乙村,village,A\nA,重复,rural,\n",
        encoding="utf-8",
    )
    people = tmp_path / "people.csv"
    people.write_text(
        "name,org,role,phone,cadre,post,oral,origin_org,residence_org\n"
        "张三,A,member,13800000000,否,,否,,\n"
        "李四,ZZ,member,13800000001,否,,否,,\n",
        encoding="utf-8",
    )
    assert main(["roster", "import", str(orgs), str(people)]) == 2
    err = capsys.readouterr().err
    assert "未导入" in err
    for line in ("第3行", "第4行"):  # bad type, duplicate code
        assert line in err
    assert "ZZ" in err
    assert _count_people(env) == 0  # nothing half-imported


def test_invites_print_one_single_use_link_per_person(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["roster", "import", str(DEMO / "orgs.csv"), str(DEMO / "people.csv")])
    capsys.readouterr()
    assert main(["invites", "--org", "XH-HS"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert any(line.startswith("沈宝方\t支部书记") for line in lines)
    links = [line.split("\t")[-1] for line in lines]
    assert all(link.startswith("https://t.me/jiannuo_bot?start=") for link in links)
    assert len(set(links)) == len(links)
    assert main(["invites", "--org", "NOPE"]) == 2
    assert "NOPE" in capsys.readouterr().err
