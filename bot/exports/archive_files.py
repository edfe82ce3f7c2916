"""The archive's own files (bot/domain/archive.py): the ZIP being written, small tables as
workbooks, a committee's large tables streamed row by row to a file, and the index page.

The workbooks reuse the sheet layout of bot/exports/xlsx.py (title, frozen header, A4 print).
A streamed table is an openpyxl write-only workbook: rows go to disk as they are added, so a
district's 46,000 items never sit in memory as cells.
"""

from __future__ import annotations

import contextlib
import html
import os
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.exports.models import IndexEntry, Table
from bot.exports.xlsx import BOX, CENTER, FONT, HEADER_FILL, fill_sheet, workbook_bytes
from bot.i18n import t


def tables_xlsx(tables: Sequence[Table]) -> bytes:
    """A workbook of one or more sheets laid out like every other export."""
    wb = Workbook()
    first = wb.active
    assert first is not None
    wb.remove(first)
    for table in tables:
        ws = wb.create_sheet(table.sheet[:31])
        fill_sheet(ws, table.title, table.subtitle, table.headers, table.widths, table.rows)
    return workbook_bytes(wb)


class StreamedTable:
    """A one-sheet workbook written to ``path`` as rows come (write-only: nothing is kept).

    Used from one worker thread at a time: ``add`` for each page of rows, then ``close``.
    """

    def __init__(
        self,
        path: Path,
        sheet: str,
        title: str,
        subtitle: str,
        headers: Sequence[str],
        widths: Sequence[int],
    ) -> None:
        from openpyxl.styles import Font

        self.path = path
        self.rows = 0
        self._saved = False
        self._wb = Workbook(write_only=True)
        ws = self._wb.create_sheet(sheet[:31])
        for col, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(col)].width = width
        ws.freeze_panes = "A4"
        ws.print_title_rows = "3:3"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        heading = WriteOnlyCell(ws, value=title)
        heading.font = Font(name=FONT, size=16, bold=True)
        ws.append([heading])
        ws.append([subtitle])
        cells = []
        for text in headers:
            cell = WriteOnlyCell(ws, value=text)
            cell.font = Font(name=FONT, bold=True)
            cell.fill = HEADER_FILL
            cell.border = BOX
            cell.alignment = CENTER
            cells.append(cell)
        ws.append(cells)
        self._ws = ws

    def add(self, rows: Sequence[Sequence[Any]]) -> None:
        """Append a page of rows (plain values: numbers, text, dates)."""
        for row in rows:
            self._ws.append(list(row))
        self.rows += len(rows)

    def close(self) -> None:
        """Write the workbook's end; the file is complete after this."""
        self._wb.save(str(self.path))
        self._saved = True

    def discard(self) -> None:
        """Remove the file, and openpyxl's own temporary file of an unfinished sheet (saving
        is what removes it)."""
        if not self._saved:
            with contextlib.suppress(Exception):
                self._wb.save(os.devnull)
            self._saved = True
        self.path.unlink(missing_ok=True)


def index_html(
    loc: str, title: str, subtitle: str, entries: Sequence[IndexEntry], notes: Sequence[str]
) -> bytes:
    """目录: a page that opens in any browser, listing every file, what it is and its period."""
    esc = html.escape
    head = "".join(
        f"<th>{esc(t(loc, key))}</th>"
        for key in (
            "archive.index.col.file",
            "archive.index.col.what",
            "archive.index.col.period",
            "archive.index.col.count",
        )
    )
    body = "".join(
        f'<tr><td><a href="{esc(e.name)}">{esc(e.name)}</a></td><td>{esc(e.what)}</td>'
        f"<td>{esc(e.period)}</td><td>{esc(e.count)}</td></tr>"
        for e in entries
    )
    remarks = "".join(f"<li>{esc(note)}</li>" for note in notes)
    lang = "zh-CN" if loc.startswith("zh") else "en"
    page = (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>"
        "body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:2em;}"
        "table{border-collapse:collapse;}th,td{border:1px solid #888;padding:4px 8px;"
        "text-align:left;vertical-align:top;}th{background:#d9e1f2;}"
        "td:nth-child(3),td:nth-child(4){white-space:nowrap;}"
        f"</style></head><body><h1>{esc(title)}</h1><p>{esc(subtitle)}</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        f"<ul>{remarks}</ul></body></html>\n"
    )
    return page.encode("utf-8")


CHUNK = 1024 * 1024  # bytes copied at a time into the ZIP


@dataclass
class ZipWriter:
    """The ZIP being written (only from worker threads, one step at a time) and its index.
    Each entry is stamped with the campaign's local time and is readable by all once unzipped.
    """

    zip: zipfile.ZipFile
    path: Path
    stamp: tuple[int, int, int, int, int, int]
    entries: list[IndexEntry] = field(default_factory=list)

    @classmethod
    def create(cls, stamp: tuple[int, int, int, int, int, int]) -> ZipWriter:
        """A new ZIP in a temporary file."""
        handle, raw = tempfile.mkstemp(prefix="jiannuo-archive-", suffix=".zip")
        os.close(handle)
        return cls(zipfile.ZipFile(raw, "w", allowZip64=True), Path(raw), stamp)

    def _info(self, name: str, compress: bool) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=self.stamp)
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        info.external_attr = 0o644 << 16
        return info

    def put(self, name: str, data: bytes, compress: bool = False) -> None:
        """Add a file (PDF and XLSX are compressed already: stored as they are)."""
        self.zip.writestr(self._info(name, compress), data)

    def put_file(self, name: str, path: Path) -> None:
        """Add a file from disk, copied in chunks."""
        with path.open("rb") as source, self.zip.open(self._info(name, False), "w") as target:
            shutil.copyfileobj(source, target, CHUNK)


def scratch_file(stem: str) -> Path:
    """An empty temporary file for a table streamed to disk."""
    handle, raw = tempfile.mkstemp(prefix=f"jiannuo-{stem}-", suffix=".xlsx")
    os.close(handle)
    return Path(raw)
