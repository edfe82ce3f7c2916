"""Printable PDFs (fpdf2 with the shipped CJK font): the publicity table for the physical board
and the pledge letter (承诺书) laid out for signing, in the three copies the seeds keep.

The shipped font covers GBK; a character beyond it (a rare name) is drawn from the system's
full CJK font when the machine has one, so a name is never printed as an empty box.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from bot.exports.models import Letter, PublicityTable
from bot.fonts import cjk_font_path, system_fallback_font
from bot.i18n import t

FAMILY = "cjk"
FALLBACK = "cjk-full"
SC_FACE_IN_COLLECTION = 2  # NotoSansCJK-Regular.ttc: JP, KR, SC, TC, HK
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
        self.cmap: dict[int, int] = getattr(self.fonts[FAMILY], "cmap", {})
        self.has_fallback = False
        self.set_title(t(locale, "export.pdf.producer"))
        self.set_creator(t(locale, "export.pdf.producer"))

    def use_fallback_for(self, texts: Iterable[str]) -> None:
        """Register the system's full CJK font if some character is not in the shipped one."""
        missing = any(ord(ch) not in self.cmap for text in texts for ch in text if ord(ch) > 0x7F)
        fallback = system_fallback_font()
        if missing and fallback is not None:
            # In a .ttc collection, pick the Simplified Chinese face.
            number = SC_FACE_IN_COLLECTION if fallback.suffix.lower() == ".ttc" else 0
            self.add_font(FALLBACK, fname=str(fallback), collection_font_number=number)
            self.set_fallback_fonts([FALLBACK], exact_match=False)
            self.has_fallback = True

    def family_for(self, ch: str) -> str:
        """The font drawing this character (the fallback only for what the shipped one lacks)."""
        if self.has_fallback and ord(ch) > 0x7F and ord(ch) not in self.cmap:
            return FALLBACK
        return FAMILY

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


# A line must not start with closing punctuation: it stays at the end of the line before.
NO_LINE_START = set("，。、；：？！）》」』”’,.;:?!)%")


class _Grid:
    """A table drawn cell by cell with the font's own widths: wrapped text, ruled cells, the
    header repeated at the top of every page, rows never split across a page break.

    fpdf2's table wraps each cell twice through its general line breaker; a board table of
    800 items needs something leaner to print in well under a second.
    """

    def __init__(
        self,
        doc: _Doc,
        widths: Sequence[float],
        aligns: Sequence[str],
        *,
        size: float = 9,
        line_height: float = 4.6,
        padding: float = 1.2,
    ) -> None:
        total = sum(widths)
        usable = doc.w - doc.l_margin - doc.r_margin
        self.doc = doc
        self.widths = [w * usable / total for w in widths]
        self.aligns = aligns
        self.size = size
        self.line_height = line_height
        self.padding = padding
        self.header: list[str] | None = None
        self._char_widths: dict[str, float] = {}

    def _width(self, ch: str) -> float:
        width = self._char_widths.get(ch)
        if width is None:
            doc = self.doc
            if doc.family_for(ch) == FAMILY:
                width = doc.get_string_width(ch)
            else:
                style = doc.font_style
                doc.set_font(FALLBACK, size=self.size)
                width = doc.get_string_width(ch)
                doc.set_font(FAMILY, style, size=self.size)
            self._char_widths[ch] = width
        return width

    def _runs(self, line: str) -> list[tuple[str, str]]:
        """The line cut where the drawing font changes: (family, text) pieces."""
        runs: list[tuple[str, str]] = []
        for ch in line:
            family = self.doc.family_for(ch)
            if runs and runs[-1][0] == family:
                runs[-1] = (family, runs[-1][1] + ch)
            else:
                runs.append((family, ch))
        return runs

    def _text(self, x: float, baseline: float, line: str) -> None:
        doc = self.doc
        if not doc.has_fallback:
            doc.text(x, baseline, line)
            return
        style = doc.font_style
        for family, piece in self._runs(line):
            if family == FALLBACK:
                doc.set_font(FALLBACK, size=self.size)
                doc.text(x, baseline, piece)
                doc.set_font(FAMILY, style, size=self.size)
            else:
                doc.text(x, baseline, piece)
            x += sum(self._width(c) for c in piece)

    def wrap(self, text: str, width: float) -> list[str]:
        """Lines of ``text`` that fit ``width`` (CJK breaks between any two characters)."""
        room = width - 2 * self.padding
        lines: list[str] = []
        for paragraph in text.split("\n") or [""]:
            line: list[str] = []
            used = 0.0
            for ch in paragraph:
                w = self._width(ch)
                if line and used + w > room and ch not in NO_LINE_START:
                    lines.append("".join(line))
                    line, used = [], 0.0
                    if ch == " ":
                        continue
                line.append(ch)
                used += w
            lines.append("".join(line))
        return lines

    def _draw_row(self, cells: Sequence[str], fill: bool) -> None:
        doc = self.doc
        wrapped = [self.wrap(text, w) for text, w in zip(cells, self.widths, strict=True)]
        height = max(len(lines) for lines in wrapped) * self.line_height + 2 * self.padding
        if doc.get_y() + height > doc.page_break_trigger:
            doc.add_page()
            if self.header is not None and cells is not self.header:
                self._draw_row(self.header, True)
        x, y = doc.l_margin, doc.get_y()
        if fill:
            doc.set_fill_color(*HEADER_FILL)
        for lines, width, align in zip(wrapped, self.widths, self.aligns, strict=True):
            doc.rect(x, y, width, height, style="DF" if fill else "D")
            baseline = y + self.padding + self.line_height * 0.78
            for line in lines:
                if align == "C":
                    offset = (width - sum(self._width(c) for c in line)) / 2
                else:
                    offset = self.padding
                self._text(x + offset, baseline, line)
                baseline += self.line_height
            x += width
        doc.set_xy(doc.l_margin, y + height)

    def heading(self, cells: Sequence[str]) -> None:
        """The header row, drawn now and again on every new page."""
        self.header = list(cells)
        self.doc.set_font(FAMILY, "B", size=self.size)
        self._draw_row(self.header, True)
        self.doc.set_font(FAMILY, size=self.size)

    def row(self, cells: Sequence[str]) -> None:
        """One body row."""
        self._draw_row(cells, False)


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
    grid = _Grid(
        doc,
        (9, 29, 20, 24, 64, 50, 21, 22, 30),
        ("C", "L", "L", "L", "L", "L", "C", "L", "L"),
    )
    grid.heading(headers)
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
        t(loc, "export.letter.pledger.branch", org=letter.org_name)
        if letter.branch_pledge
        else t(loc, "export.letter.pledger", name=letter.pledger, org=letter.org_name),
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
    grid = _Grid(
        doc, (10, 28, 56, 48, 22, 22), ("C", "L", "L", "L", "C", "L"), size=10, line_height=5.4
    )
    grid.heading(
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
    doc.use_fallback_for(_letter_texts(letter))
    for key in LETTER_COPIES:
        _letter_copy(doc, letter, t(letter.locale, key))
    return bytes(doc.output())


def letters_pdf(letters: Sequence[Letter], copy_label: str) -> bytes:
    """Several pledge letters in one document, one copy each under ``copy_label`` (the
    archive's copy): a branch's letters print and file together."""
    if not letters:
        raise ValueError("no letters to print")
    doc = _Doc(letters[0].locale, "P")
    doc.use_fallback_for([text for letter in letters for text in _letter_texts(letter)])
    for letter in letters:
        _letter_copy(doc, letter, copy_label)
    return bytes(doc.output())


def _letter_texts(letter: Letter) -> list[str]:
    return [letter.pledger, letter.org_name, letter.post or "", letter.reviewer_org] + [
        f"{i.content}{i.target}{i.responsible}" for i in letter.items
    ]
