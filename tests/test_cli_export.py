"""``jiannuo export``: each export written to a file; unknown codes, numbers and formats
refused with a clear message and exit code 2, nothing written."""

from __future__ import annotations

import asyncio
import zipfile
from datetime import date, datetime
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from bot.cli import main
from storage.db import Database
from tests.export_data import Published, publish

DEMO = Path(__file__).resolve().parents[1] / "bot" / "playground" / "demo"
NOW = datetime(2026, 6, 5, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def env(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The CLI's environment: this test's database (SQLite or PostgreSQL); its URL."""
    monkeypatch.setenv("JIANNUO_DATABASE_URL", database_url)
    monkeypatch.delenv("JIANNUO_BOT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    return database_url


def _publish(db_url: str) -> None:
    async def run() -> None:
        db = Database(db_url)
        try:
            async with db.uow() as uow:
                hs = await uow.orgs.by_code("XH-HS")
                assert hs is not None
                wang = next(p for p in await uow.people.in_org(hs.id) if p.name == "王建国")
            await publish(
                db,
                [
                    Published(
                        hs.id,
                        "XH-HS-2026-001",
                        wang.id,
                        "王建国",
                        [("每月参加支部学习", date(2026, 12, 31))],
                    )
                ],
                NOW,
            )
        finally:
            await db.dispose()

    asyncio.run(run())


@pytest.fixture
def published(env: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["roster", "import", str(DEMO / "orgs.csv"), str(DEMO / "people.csv")]) == 0
    _publish(env)
    capsys.readouterr()
    return env


def test_each_export_is_written(
    published: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    assert main(["export", "publicity", "--org", "XH-HS", "--out", str(out)]) == 0
    [xlsx] = out.glob("*.xlsx")
    assert xlsx.name.startswith("黄思村党总支_承诺登记公示表_")
    ws = load_workbook(BytesIO(xlsx.read_bytes())).active
    assert ws is not None and ws["E4"].value == "每月参加支部学习"
    assert "已导出" in capsys.readouterr().out

    pdf = tmp_path / "board.pdf"
    assert (
        main(["export", "publicity", "--org", "XH-HS", "--format", "pdf", "--out", str(pdf)]) == 0
    )
    assert pdf.read_bytes().startswith(b"%PDF")

    ledger = tmp_path / "ledger.xlsx"
    assert main(["export", "ledger", "--org", "XH-HS", "--out", str(ledger)]) == 0
    ws = load_workbook(BytesIO(ledger.read_bytes())).active
    assert ws is not None and ws["C4"].value == "王建国"

    letter = tmp_path / "letter.pdf"
    args = ["export", "letter", "--org", "XH", "--pledge", "XH-HS-2026-001", "--out", str(letter)]
    assert main(args) == 0
    assert letter.read_bytes().startswith(b"%PDF")

    capsys.readouterr()
    stats = tmp_path / "stats.xlsx"
    assert main(["export", "stats", "--org", "XH", "--out", str(stats)]) == 0
    printed = capsys.readouterr().out
    assert "新华镇党委 创先争优活动有关项目统计" in printed
    assert "作出公开承诺的 1 名" in printed
    assert stats.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["publicity", "--org", "NOPE"], "找不到代码为 NOPE 的组织"),
        (["letter", "--org", "XH-HS"], "需要用 --pledge 指定承诺编号"),
        (["letter", "--org", "XH-HS", "--pledge", "XH-HS-2026-404"], "XH-HS-2026-404"),
        (["letter", "--org", "XH-DY", "--pledge", "XH-HS-2026-001"], "不属于 XH-DY"),
        (["ledger", "--org", "XH-HS", "--format", "pdf"], "不能导出为 pdf"),
    ],
)
def test_refusals_exit_2_and_write_nothing(
    published: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    target = tmp_path / "never.bin"
    assert main(["export", *args, "--out", str(target)]) == 2
    assert message in capsys.readouterr().err
    assert not target.exists()


def test_the_archive_is_written_to_a_path(
    published: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "迎检" / "档案.zip"
    target.parent.mkdir()
    assert main(["export", "archive", "--org", "XH", "--year", "2026", "--out", str(target)]) == 0
    with zipfile.ZipFile(target) as zf:
        names = zf.namelist()
        index = zf.read("00_目录.html").decode()
    assert "新华镇党委 2026年创先争优公开承诺档案" in index
    assert "02_承诺登记公示表.xlsx" in names and "10_统计表.xlsx" in names
    assert str(target) in capsys.readouterr().out
    # An unknown organisation: a clear message, exit code 2, nothing written.
    assert main(["export", "archive", "--org", "NOPE", "--out", str(tmp_path / "x.zip")]) == 2
    assert "找不到代码为 NOPE 的组织" in capsys.readouterr().err
    assert not (tmp_path / "x.zip").exists()
