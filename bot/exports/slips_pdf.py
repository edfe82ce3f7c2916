"""The printable sheet of one-time ballot slips (现场票): A4, eight slips a page, dashed cut
lines. Each slip: a QR code of its address, the address printed in full (a monospace font, so
it can be typed), the branch, what is evaluated and the closing time. Slips carry no number:
nothing printed tells one slip from another except its random address.

The QR code is made by segno (pure Python, no dependencies, maintained, and it hands over the
module matrix, which is drawn here as vector rectangles: sharp at any printer's resolution,
no image library in between).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import segno
from fpdf import FPDF

from bot.domain.dates import format_moment
from bot.domain.evaluation_models import SubjectKind
from bot.fonts import cjk_font_path
from bot.i18n import t

FAMILY = "cjk"
MONO = "Courier"
COLUMNS, ROWS = 2, 4
MARGIN = 8.0  # mm around the grid
PAD = 4.0  # mm inside each slip
QR_SIZE = 36.0  # mm, quiet zone included
QR_BORDER = 4  # modules of quiet zone (the standard's minimum)
ADDRESS_MAX_PT = 9.0
ADDRESS_MIN_PT = 5.5


@dataclass(frozen=True)
class SlipSheet:
    """What every slip of one print run shows."""

    org_name: str
    kind: SubjectKind
    subjects: int
    closes_at: datetime
    tz: Any
    locale: str | None = None


def _draw_qr(pdf: FPDF, text: str, x: float, y: float, size: float) -> None:
    """The QR code of ``text`` as filled rectangles (one per run of dark modules in a row)."""
    code = segno.make(text, error="m", micro=False)
    rows = [list(row) for row in code.matrix]
    count = len(rows) + 2 * QR_BORDER
    module = size / count
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(rows):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            pdf.rect(
                x + (QR_BORDER + start) * module,
                y + (QR_BORDER + r) * module,
                (c - start) * module + 0.01,  # a hair of overlap: no seams between runs
                module + 0.01,
                style="F",
            )


def _address_size(pdf: FPDF, address: str, width: float) -> float:
    size = ADDRESS_MAX_PT
    while size > ADDRESS_MIN_PT:
        pdf.set_font(MONO, size=size)
        if pdf.get_string_width(address) <= width:
            break
        size -= 0.5
    return size


def slips_pdf(sheet: SlipSheet, addresses: Sequence[str]) -> bytes:
    """The PDF of slips for these addresses (in the order given)."""
    loc = sheet.locale
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=False)
    pdf.add_font(FAMILY, fname=str(cjk_font_path()))
    title = t(loc, "slip.pdf.title", count=len(addresses))
    pdf.set_title(title)
    pdf.set_creator(t(loc, "export.pdf.producer"))
    cell_w = (pdf.w - 2 * MARGIN) / COLUMNS
    cell_h = (pdf.h - 2 * MARGIN) / ROWS
    kind = (
        t(loc, "slip.pdf.kind.branch")
        if sheet.kind is SubjectKind.BRANCH
        else t(loc, "slip.pdf.kind.members", count=sheet.subjects)
    )
    lines = [
        t(loc, "slip.pdf.org", org=sheet.org_name),
        kind,
        t(loc, "slip.pdf.closes", closes=format_moment(sheet.closes_at, sheet.tz, loc)),
    ]
    per_page = COLUMNS * ROWS
    for n, address in enumerate(addresses):
        slot = n % per_page
        if slot == 0:
            pdf.add_page()
            _cut_lines(pdf, cell_w, cell_h, min(per_page, len(addresses) - n), loc)
        x = MARGIN + (slot % COLUMNS) * cell_w
        y = MARGIN + (slot // COLUMNS) * cell_h
        _slip(pdf, x, y, cell_w, cell_h, address, lines, loc)
    return bytes(pdf.output())


def _cut_lines(pdf: FPDF, cell_w: float, cell_h: float, used: int, loc: str | None) -> None:
    pdf.set_draw_color(120, 120, 120)
    pdf.set_line_width(0.2)
    rows = -(-used // COLUMNS)
    with pdf.local_context():
        pdf.set_dash_pattern(dash=2, gap=1.5)
        for r in range(rows + 1):
            y = MARGIN + r * cell_h
            pdf.line(MARGIN, y, pdf.w - MARGIN, y)
        for c in range(COLUMNS + 1):
            x = MARGIN + c * cell_w
            pdf.line(x, MARGIN, x, MARGIN + rows * cell_h)
    pdf.set_font(FAMILY, size=6.5)
    pdf.set_text_color(120, 120, 120)
    pdf.set_xy(MARGIN, 2.5)
    pdf.cell(pdf.w - 2 * MARGIN, 4, t(loc, "slip.pdf.cut"), align="C")
    pdf.set_text_color(0, 0, 0)


def _slip(
    pdf: FPDF,
    x: float,
    y: float,
    w: float,
    h: float,
    address: str,
    lines: Sequence[str],
    loc: str | None,
) -> None:
    inner = w - 2 * PAD
    pdf.set_font(FAMILY, size=13)
    pdf.set_xy(x + PAD, y + PAD)
    pdf.cell(inner, 7, t(loc, "slip.pdf.heading"))
    qr_y = y + PAD + 9
    _draw_qr(pdf, address, x + PAD - 2, qr_y, QR_SIZE)
    text_x = x + PAD + QR_SIZE
    text_w = w - PAD - QR_SIZE - PAD
    pdf.set_font(FAMILY, size=9)
    pdf.set_xy(text_x, qr_y + 2)
    for line in lines:
        pdf.set_x(text_x)
        pdf.multi_cell(text_w, 4.6, line, align="L", new_x="LEFT", new_y="NEXT")
        pdf.set_y(pdf.get_y() + 0.8)
    pdf.set_font(FAMILY, size=7.5)
    pdf.set_text_color(70, 70, 70)
    pdf.set_x(text_x)
    pdf.multi_cell(text_w, 3.8, t(loc, "slip.pdf.how"), align="L", new_x="LEFT", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    # The full address on one line, as large as fits: it can be typed in.
    size = _address_size(pdf, address, inner)
    pdf.set_font(MONO, size=size)
    pdf.set_xy(x + PAD, y + h - PAD - 6)
    pdf.cell(inner, 6, address, align="C")
