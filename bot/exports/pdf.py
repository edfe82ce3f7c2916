"""Printable PDFs (fpdf2 with the shipped CJK font): the publicity table for the physical board
and the pledge letter (承诺书) laid out for signing, in the three copies the seeds keep.

The shipped font covers GBK; a character beyond it (a rare name) is drawn from the system's
full CJK font when the machine has one, so a name is never printed as an empty box.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from bot.exports.models import Letter, PublicityTable
from bot.fonts import cjk_font_path, system_fallback_font
from bot.i18n import t

FAMILY = "cjk"
FALLBACK = "cjk-full"
HEADER_FILL = (217, 225, 242)
LETTER_COPIES = (
    "export.letter.copy.reviewer",
    "export.letter.copy.pledger",
    "export.letter.copy.board",
)


class _Doc(FPDF):
    """A page with the CJK font and a footer: page x of y (and the copy, for a letter)."""

    def __init__(self, locale: str, orientation: str) -> None:
        super().__init__(orientation=orientation, unit="mm", format="A4")
        self.locale = locale
        self.copy_label: str | None = None
        self.next_label: str | None = None  # takes effect on the next page (after its footer)
        self.set_auto_page_break(auto=True, margin=16)
        self.set_margins(12, 12, 12)
        self.add_font(FAMILY, fname=str(cjk_font_path()))
        self.add_font(FAMILY, style="B", fname=str(cjk_font_path()))
        self.set_font(FAMILY, size=10)
        self.set_title(t(locale, "export.pdf.producer"))
        self.set_creator(t(locale, "export.pdf.producer"))

    def use_fallback_for(self, texts: Iterable[str]) -> None:
        """Register the system's full CJK font if some character is not in the shipped one."""
        font = self.fonts[FAMILY]
        cmap = getattr(font, "cmap", {})
        missing = any(ord(ch) not in cmap for text in texts for ch in text if ord(ch) > 0x7F)
        fallback = system_fallback_font()
        if missing and fallback is not None:
            self.add_font(FALLBACK, fname=str(fallback))
            self.set_fallback_fonts([FALLBACK], exact_match=False)

    def header(self) -> None:
        self.copy_label = self.next_label
        if self.copy_label:
            self.set_font(FAMILY, size=9)
            self.set_xy(self.w - self.r_margin - 50, 6)
            self.cell(50, 6, self.copy_label, border=1, align="C")
            self.set_xy(self.l_margin, self.t_margin)
            self.set_font(FAMILY, size=10)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, size=8)
        text = t(self.locale, "export.pdf.page", page=self.page_no(), pages="{nb}")
        if self.copy_label:
            text = f"{self.copy_label}　{text}"
        self.cell(0, 6, text, align="C")


def _cn_date(locale: str, day: date) -> str:
    return t(locale, "export.pdf.date", year=day.year, month=day.month, day=day.day)


def publicity_pdf(table: PublicityTable) -> bytes:
    """承诺登记(公示)表 for the board: title, a wrapped table whose header repeats on each
    page, page numbers."""
    loc = table.locale
    doc = _Doc(loc, "L")
    doc.use_fallback_for(
        [table.org_name]
        + [f"{r.pledger}{r.content}{r.target}{r.responsible}{r.category}" for r in table.rows]
    )
    doc.add_page()
    doc.set_font(FAMILY, "B", size=18)
    doc.multi_cell(
        0,
        10,
        t(loc, "export.publicity.title", org=table.org_name),
        align="C",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    doc.set_font(FAMILY, size=10)
    doc.cell(
        0,
        7,
        t(
            loc,
            "export.publicity.subtitle",
            date=_cn_date(loc, table.as_of),
            pledges=table.pledges,
            items=len(table.rows),
        ),
        align="C",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    doc.ln(2)
    headers = [
        t(loc, f"export.col.{c}")
        for c in (
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
    ]
    doc.set_font(FAMILY, size=9)
    if not table.rows:
        doc.multi_cell(0, 8, t(loc, "export.publicity.empty"), align="C")
        return bytes(doc.output())
    with doc.table(
        col_widths=(9, 26, 20, 24, 66, 52, 22, 22, 32),
        repeat_headings=1,
        line_height=5,
        headings_style=FontFace(emphasis="B", fill_color=HEADER_FILL),
        text_align=("CENTER", "LEFT", "LEFT", "LEFT", "LEFT", "LEFT", "CENTER", "LEFT", "LEFT"),
        padding=1,
    ) as grid:
        grid.row(headers)
        for n, r in enumerate(table.rows, start=1):
            grid.row(
                [
                    str(n),
                    r.number,
                    r.pledger,
                    r.category,
                    r.content,
                    r.target,
                    r.deadline.isoformat(),
                    r.responsible,
                    r.state,
                ]
            )
    doc.ln(4)
    doc.set_font(FAMILY, size=10)
    doc.multi_cell(0, 6, t(loc, "export.publicity.footer"), new_x=XPos.LMARGIN)
    return bytes(doc.output())


def _letter_copy(doc: _Doc, letter: Letter, copy_label: str) -> None:
    loc = letter.locale
    doc.next_label = copy_label
    doc.add_page()
    doc.set_font(FAMILY, "B", size=20)
    title = "export.letter.title.branch" if letter.branch_pledge else "export.letter.title.member"
    doc.cell(0, 14, t(loc, title), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.set_font(FAMILY, size=10)
    doc.cell(
        0,
        6,
        t(loc, "export.letter.number", number=letter.number),
        align="R",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    doc.ln(2)
    doc.set_font(FAMILY, size=11)
    lines = [
        t(loc, "export.letter.pledger", name=letter.pledger, org=letter.org_name),
        t(loc, "export.letter.horizon", horizon=letter.horizon),
    ]
    if letter.post:
        lines.append(t(loc, "export.letter.post", post=letter.post))
    if letter.oral_recorder:
        lines.append(t(loc, "export.letter.oral", name=letter.oral_recorder))
    for line in lines:
        doc.multi_cell(0, 7, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.ln(2)
    preamble = (
        "export.letter.preamble.branch"
        if letter.branch_pledge
        else "export.letter.preamble.member"
    )
    doc.multi_cell(0, 7, t(loc, preamble), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.ln(2)
    doc.set_font(FAMILY, size=10)
    with doc.table(
        col_widths=(10, 28, 56, 48, 22, 22),
        repeat_headings=1,
        line_height=6,
        headings_style=FontFace(emphasis="B", fill_color=HEADER_FILL),
        text_align=("CENTER", "LEFT", "LEFT", "LEFT", "CENTER", "LEFT"),
        padding=1,
    ) as grid:
        grid.row(
            [
                t(loc, f"export.col.{c}")
                for c in ("n", "category", "content", "target", "deadline", "responsible")
            ]
        )
        for n, item in enumerate(letter.items, start=1):
            grid.row(
                [
                    str(n),
                    item.category,
                    item.content,
                    item.target,
                    item.deadline.isoformat(),
                    item.responsible,
                ]
            )
    doc.ln(4)
    doc.set_font(FAMILY, size=11)
    doc.multi_cell(0, 7, t(loc, "export.letter.closing"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    # The signatures stay together: start a new page of this copy if they would be cut.
    if doc.get_y() > doc.h - 16 - 52:
        doc.add_page()
    doc.ln(8)
    half = (doc.w - doc.l_margin - doc.r_margin) / 2
    left = [
        t(loc, "export.letter.sign.pledger"),
        "",
        t(loc, "export.letter.sign.date"),
    ]
    right = [
        t(loc, "export.letter.sign.reviewer_org", org=letter.reviewer_org),
        t(loc, "export.letter.sign.reviewer"),
        t(loc, "export.letter.sign.date"),
    ]
    for a, b in zip(left, right, strict=True):
        doc.cell(half, 10, a)
        doc.cell(half, 10, b, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.ln(4)
    doc.set_font(FAMILY, size=9)
    note = t(loc, "export.letter.published", date=_cn_date(loc, letter.published_on))
    if letter.approver:
        note += t(loc, "export.letter.approved_by", name=letter.approver)
    doc.multi_cell(0, 6, note, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.multi_cell(0, 6, t(loc, "export.letter.copies"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def letter_pdf(letter: Letter) -> bytes:
    """承诺书: one copy for the reviewer, one for the pledger, one for the public board."""
    doc = _Doc(letter.locale, "P")
    doc.use_fallback_for(
        [letter.pledger, letter.org_name, letter.post or "", letter.reviewer_org]
        + [f"{i.content}{i.target}{i.responsible}" for i in letter.items]
    )
    for key in LETTER_COPIES:
        _letter_copy(doc, letter, t(letter.locale, key))
    return bytes(doc.output())
