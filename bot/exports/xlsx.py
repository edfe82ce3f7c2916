"""XLSX files (openpyxl): the publicity table, the ledger and the statistics form.

Each sheet: a title, a styled header that stays frozen while scrolling and repeats on every
printed page, column widths that fit Chinese text, and A4 landscape print set to fit the width.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.domain.ledger import percent
from bot.domain.progress_models import Figures
from bot.domain.stats_form import StatsForm, StatsLine
from bot.exports.models import LedgerLine, LedgerSheet, PublicityRow, PublicityTable
from bot.i18n import t

FONT = "宋体"
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
DATE_FORMAT = "yyyy-mm-dd"
PERCENT_FORMAT = "0.0%"


def fill_sheet(
    ws: Worksheet,
    title: str,
    subtitle: str,
    headers: Sequence[str],
    widths: Sequence[int],
    rows: Sequence[Sequence[Any]],
) -> None:
    """Title in row 1, subtitle in row 2, the header in row 3, data from row 4."""
    last = get_column_letter(len(headers))
    ws.merge_cells(f"A1:{last}1")
    ws["A1"] = title
    ws["A1"].font = Font(name=FONT, size=16, bold=True)
    ws["A1"].alignment = CENTER
    ws.row_dimensions[1].height = 30
    ws.merge_cells(f"A2:{last}2")
    ws["A2"] = subtitle
    ws["A2"].font = Font(name=FONT, size=10)
    for col, (header, width) in enumerate(zip(headers, widths, strict=True), start=1):
        cell = ws.cell(row=3, column=col, value=header)
        cell.font = Font(name=FONT, bold=True)
        cell.fill = HEADER_FILL
        cell.border = BOX
        cell.alignment = CENTER
        ws.column_dimensions[get_column_letter(col)].width = width
    body = Font(name=FONT, size=10)
    for r, row in enumerate(rows, start=4):
        for col, value in enumerate(row, start=1):
            cell = ws.cell(row=r, column=col, value=value)
            cell.font = body
            cell.border = BOX
            cell.alignment = WRAP
            if isinstance(value, date):
                cell.number_format = DATE_FORMAT
    ws.freeze_panes = "A4"
    ws.print_title_rows = "3:3"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.oddFooter.center.text = "&P / &N"
    if rows:
        ws.auto_filter.ref = f"A3:{last}{3 + len(rows)}"


def workbook(title: str) -> tuple[Workbook, Worksheet]:
    """A new workbook and its one sheet, named."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title
    return wb, ws


def workbook_bytes(wb: Workbook) -> bytes:
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


PUBLICITY_COLUMNS = (
    "n",
    "number",
    "pledger",
    "category",
    "content",
    "target",
    "deadline",
    "responsible",
    "state",
)
PUBLICITY_WIDTHS = (6, 16, 12, 14, 40, 32, 12, 12, 16)
LEDGER_COLUMNS = (
    "n",
    "number",
    "pledger",
    "category",
    "content",
    "target",
    "deadline",
    "responsible",
    "status",
    "last_progress",
    "last_progress_on",
    "verified_on",
)
LEDGER_WIDTHS = (6, 16, 12, 14, 36, 28, 12, 12, 12, 36, 12, 12)


def headers(loc: str, columns: Sequence[str]) -> list[str]:
    """The column headers of a table, in the reader's language."""
    return [t(loc, f"export.col.{c}") for c in columns]


def publicity_cells(n: int, r: PublicityRow) -> list[Any]:
    """One row of the publicity table (its columns: ``PUBLICITY_COLUMNS``)."""
    return [
        n,
        r.number,
        r.pledger,
        r.category,
        r.content,
        r.target,
        r.deadline,
        r.responsible,
        r.state,
    ]


def ledger_cells(n: int, line: LedgerLine) -> list[Any]:
    """One row of the ledger (its columns: ``LEDGER_COLUMNS``)."""
    return [
        n,
        line.number,
        line.pledger,
        line.category,
        line.content,
        line.target,
        line.deadline,
        line.responsible,
        line.status,
        line.last_progress,
        line.last_progress_on,
        line.verified_on,
    ]


def publicity_xlsx(table: PublicityTable) -> bytes:
    """承诺登记(公示)表 as a workbook."""
    loc = table.locale
    wb, ws = workbook(t(loc, "export.sheet.publicity"))
    rows = [publicity_cells(n, r) for n, r in enumerate(table.rows, start=1)]
    fill_sheet(
        ws,
        t(loc, "export.publicity.title", org=table.org_name),
        t(
            loc,
            "export.publicity.subtitle",
            date=table.as_of.isoformat(),
            pledges=table.pledges,
            items=len(table.rows),
        ),
        headers(loc, PUBLICITY_COLUMNS),
        PUBLICITY_WIDTHS,
        rows,
    )
    return workbook_bytes(wb)


def ledger_subtitle(loc: str, as_of: date, f: Figures) -> str:
    """The ledger's line of figures under its title."""
    return t(
        loc,
        "export.ledger.subtitle",
        date=as_of.isoformat(),
        items=f.items,
        fulfilled=f.fulfilled,
        rate=percent(f.rate),
        overdue=f.overdue,
        claimed=f.claimed,
    )


def ledger_xlsx(sheet: LedgerSheet) -> bytes:
    """台账 as a workbook: one row per item."""
    loc = sheet.locale
    wb, ws = workbook(t(loc, "export.sheet.ledger"))
    rows = [ledger_cells(n, line) for n, line in enumerate(sheet.lines, start=1)]
    fill_sheet(
        ws,
        t(loc, "export.ledger.title", org=sheet.org_name),
        ledger_subtitle(loc, sheet.as_of, sheet.figures),
        headers(loc, LEDGER_COLUMNS),
        LEDGER_WIDTHS,
        rows,
    )
    return workbook_bytes(wb)


def _stat_rows(loc: str, line: StatsLine) -> list[tuple[str, Any, str]]:
    f = line.figures
    return [
        (t(loc, "export.stat.branches"), line.branches, t(loc, "export.unit.org")),
        (t(loc, "export.stat.pledging_orgs"), line.pledging_orgs, t(loc, "export.unit.org")),
        (t(loc, "export.stat.members"), line.members, t(loc, "export.unit.person")),
        (
            t(loc, "export.stat.pledging_members"),
            line.pledging_members,
            t(loc, "export.unit.person"),
        ),
        (t(loc, "export.stat.items"), f.items, t(loc, "export.unit.item")),
        (t(loc, "export.stat.fulfilled"), f.fulfilled, t(loc, "export.unit.item")),
        (t(loc, "export.stat.rate"), f.rate, ""),
        (t(loc, "export.stat.on_time"), f.on_time_rate, ""),
        (t(loc, "export.stat.overdue"), f.overdue, t(loc, "export.unit.item")),
        (t(loc, "export.stat.suggestions"), line.suggestions, t(loc, "export.unit.issue")),
        (t(loc, "export.stat.solved"), line.solved, t(loc, "export.unit.issue")),
        (t(loc, "export.stat.evaluations"), line.evaluations, t(loc, "export.unit.times")),
        (t(loc, "export.stat.voters"), line.voters, t(loc, "export.unit.person_times")),
        (t(loc, "export.stat.satisfaction"), line.satisfaction, ""),
        (t(loc, "export.stat.passed"), line.passed, t(loc, "export.unit.subject")),
        (t(loc, "export.stat.subjects"), line.subjects, t(loc, "export.unit.subject")),
        (t(loc, "export.stat.hidden"), line.hidden, t(loc, "export.unit.subject")),
    ]


RATE_LABELS = ("export.stat.rate", "export.stat.on_time", "export.stat.satisfaction")


def stats_xlsx(form: StatsForm) -> bytes:
    """创先争优活动有关项目统计: the totals, and one row per organisation of the scope."""
    loc = form.locale
    wb, ws = workbook(t(loc, "export.sheet.stats"))
    rates = {t(loc, key) for key in RATE_LABELS}
    rows = [
        [n, label, "—" if value is None else value, unit]
        for n, (label, value, unit) in enumerate(_stat_rows(loc, form.total), start=1)
    ]
    fill_sheet(
        ws,
        t(loc, "export.stats.sheet_title"),
        t(loc, "export.stats.subtitle", org=form.org_name, date=form.as_of.isoformat()),
        [t(loc, f"export.col.{c}") for c in ("n", "stat_item", "stat_value", "stat_unit")],
        (6, 36, 14, 8),
        rows,
    )
    ws.page_setup.orientation = "portrait"
    for r, row in enumerate(rows, start=4):
        if row[1] in rates and isinstance(row[2], float):
            ws.cell(row=r, column=3).number_format = PERCENT_FORMAT
    if form.lines:
        detail = wb.create_sheet(t(loc, "export.sheet.detail"))
        headers = [
            t(loc, f"export.col.{c}")
            for c in (
                "n",
                "org",
                "code",
                "members",
                "pledging_members",
                "pledging_org",
                "items",
                "fulfilled",
                "rate",
                "suggestions",
                "solved",
                "evaluations",
                "satisfaction",
            )
        ]
        detail_rows = [
            [
                n,
                line.name,
                line.code,
                line.members,
                line.pledging_members,
                line.pledging_orgs,
                line.figures.items,
                line.figures.fulfilled,
                line.figures.rate,
                line.suggestions,
                line.solved,
                line.evaluations,
                line.satisfaction,
            ]
            for n, line in enumerate(form.lines, start=1)
        ]
        fill_sheet(
            detail,
            t(loc, "export.stats.detail_title", org=form.org_name),
            t(loc, "export.stats.subtitle", org=form.org_name, date=form.as_of.isoformat()),
            headers,
            (6, 28, 12, 8, 10, 10, 10, 10, 10, 10, 10, 10, 10),
            detail_rows,
        )
        for r in range(4, 4 + len(detail_rows)):
            for col in (9, 13):
                detail.cell(row=r, column=col).number_format = PERCENT_FORMAT
    return workbook_bytes(wb)
