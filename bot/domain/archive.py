"""The archive for inspection (档案包): every file of a branch or a committee in one ZIP, with an
index page in the reader's language.

A branch's archive holds its publicity table (PDF, XLSX), ledger, every pledge letter (one PDF,
the archive's copy of each), monthly records, leader reviews, evaluation results (published
tallies only), rectifications, rankings and awards, and the statistics form. A committee's
archive covers its whole subtree in the same files: the item tables of every organisation
streamed into one workbook each, the letters and board table of the organisational pledges it
reviews, monthly records summed per organisation and month (each branch's own records, like its
members' letters, are in that branch's archive).

The single exports' builders (bot/domain/exports.py, bot/exports/) make the files. Reads go
page by page (``ORG_PAGE`` organisations, ``PLEDGE_PAGE`` pledges) in short read units of work;
every file is built and written in a worker thread after its read has closed, and the ZIP is
written to a temporary file, so neither the database nor the event loop is held meanwhile.
Permissions: a secretary their branch, committee staff any organisation of their subtree;
anyone else is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.chat.actor import Actor
from bot.domain import access
from bot.domain import archive_tables as tables
from bot.domain.clock import Clock
from bot.domain.enums import PledgerKind, Role
from bot.domain.errors import DomainError, Forbidden
from bot.domain.exports import ExportFile, ExportKind, ExportService, file_name
from bot.domain.models import Org
from bot.exports.models import (
    IndexEntry,
    LedgerSheet,
    Letter,
    PublicityRow,
    PublicityTable,
    Table,
)

if TYPE_CHECKING:
    from bot.exports.archive_files import StreamedTable, ZipWriter
from bot.i18n import t
from storage.db import Database

ORG_PAGE = 50  # organisations read per unit of work (a committee's subtree, page by page)
PLEDGE_PAGE = 50  # published pledges read per unit of work for the letters
ZIP_MIME = "application/zip"


@dataclass(frozen=True)
class Archive:
    """A built archive: a temporary file (``discard`` it once delivered), its name and size."""

    path: Path
    name: str
    size: int
    caption: str
    org_code: str
    files: int

    def discard(self) -> None:
        """Remove the temporary file."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


_Span = tuple[datetime, datetime]


class ArchiveService:
    """Builds archives for people in chat and for the command line."""

    def __init__(self, db: Database, clock: Clock, exports: ExportService) -> None:
        self.db = db
        self.clock = clock
        self.exports = exports

    async def permitted(self, actor: Actor, org_id: int) -> Org:
        """The organisation, if this person may export its archive: a secretary their branch,
        committee staff their subtree; anyone else is refused with a clear message."""
        async with self.db.read() as uow:
            me = await access.person_of(uow, actor)
            if not (me.role in (Role.SECRETARY, Role.COMMITTEE) or me.is_admin):
                raise Forbidden("archive.staff_only")
            org = await self.exports.org(uow, org_id)
            await self.exports.may_export(uow, me, ExportKind.ARCHIVE, org)
        return org

    async def build(self, actor: Actor, org_id: int, locale: str) -> Archive:
        """This year's archive of ``org_id`` for a person allowed it (see ``permitted``)."""
        org = await self.permitted(actor, org_id)
        return await self._build(org, locale, self.exports.today().year)

    async def build_for_operator(self, org_code: str, locale: str, year: int | None) -> Archive:
        """The command line: any organisation by its code, any year."""
        async with self.db.read() as uow:
            org = await uow.orgs.by_code(org_code)
        if org is None:
            raise DomainError("export.cli.unknown_org", code=org_code)
        return await self._build(org, locale, year or self.exports.today().year)

    # ---- building -------------------------------------------------------------------------

    async def _build(self, org: Org, locale: str, year: int) -> Archive:
        from bot.exports import archive_files as af  # the builders load when first used

        today = self.exports.today()
        local = self.clock.now().astimezone(self.clock.tz)
        stamp = (local.year, local.month, local.day, local.hour, local.minute, local.second)
        writer = await asyncio.to_thread(af.ZipWriter.create, stamp)
        path, zf = writer.path, writer.zip
        try:
            try:
                async with self.db.read() as uow:
                    below = await uow.exports.count_children(org.id)
                span = _year_span(year, self.clock)
                if below:
                    notes = await self._committee(writer, org, locale, year, today, span)
                else:
                    notes = await self._branch(writer, org, locale, year, today, span)
                title = t(locale, "archive.index.title", org=org.name, year=year)
                subtitle = t(locale, "archive.index.subtitle", date=today.isoformat())
                entries = sorted(writer.entries, key=lambda e: e.name)
                page = af.index_html(locale, title, subtitle, entries, notes)
                index = t(locale, "archive.file.index")
                await asyncio.to_thread(writer.put, index, page, True)
            finally:
                await asyncio.to_thread(zf.close)
            name = file_name(org.name, t(locale, "archive.file.zip"), str(year), ext="zip")
            files = len(writer.entries) + 1
            caption = t(locale, "archive.caption", org=org.name, year=year, files=files)
            size = (await asyncio.to_thread(path.stat)).st_size
            return Archive(path, name, size, caption, org.code, files)
        except BaseException:
            await asyncio.to_thread(path.unlink, True)
            raise

    async def _put(self, writer: ZipWriter, entry: IndexEntry, build: Callable[[], bytes]) -> None:
        """Build one file and add it to the ZIP, both off the event loop."""

        def step() -> None:
            writer.put(entry.name, build())

        await asyncio.to_thread(step)
        writer.entries.append(entry)

    async def _branch(
        self, w: ZipWriter, org: Org, loc: str, year: int, today: date, span: _Span
    ) -> list[str]:
        as_of = t(loc, "archive.period.as_of", date=today.isoformat())
        in_year = t(loc, "archive.period.year", year=year)
        async with self.db.read() as uow:
            table = await self.exports.publicity_table(uow, org, today, loc)
            sheet = await self.exports.ledger_sheet(uow, org, today, loc)
        items = t(loc, "archive.count.items", count=len(table.rows))
        files: tuple[tuple[str, str, str, Callable[[], bytes], str], ...] = (
            ("01", "archive.what.publicity_pdf", "pdf", lambda: _publicity_pdf(table), items),
            ("02", "archive.what.publicity_xlsx", "xlsx", lambda: _publicity_xlsx(table), items),
            (
                "03",
                "archive.what.ledger",
                "xlsx",
                lambda: _ledger_xlsx(sheet),
                t(loc, "archive.count.items", count=len(sheet.lines)),
            ),
        )
        for number, what, ext, build, count in files:
            entry = IndexEntry(_name(loc, number, what, ext), t(loc, what), as_of, count)
            await self._put(w, entry, build)
        letters: list[Letter] = []
        offset = 0
        while True:  # a page of pledges per read
            async with self.db.read() as uow:
                page = await uow.exports.published_pledges(org.id, PLEDGE_PAGE, offset)
                for pledge in page:
                    letters.append(await self.exports.letter_model(uow, pledge, loc))
            if len(page) < PLEDGE_PAGE:
                break
            offset += PLEDGE_PAGE
        notes = []
        if letters:
            await self._letters(w, loc, "archive.what.letters", letters, as_of)
        else:
            notes.append(t(loc, "archive.note.no_letters"))
        ctx = tables.Context(loc, self.clock.tz, org.name, year, today, {org.id: org.name})
        async with self.db.read() as uow:
            records = await uow.archive.monthly_records([org.id], *span)
        await self._tables(
            w, loc, "05", "archive.what.records", in_year, [tables.monthly_records(ctx, records)]
        )
        await self._evaluation_files(w, ctx, [org.id], span, in_year)
        await self._stats(w, org, loc, as_of)
        return notes

    async def _committee(
        self, w: ZipWriter, org: Org, loc: str, year: int, today: date, span: _Span
    ) -> list[str]:
        ex = self.exports
        as_of = t(loc, "archive.period.as_of", date=today.isoformat())
        in_year = t(loc, "archive.period.year", year=year)
        scope = t(loc, "archive.scope.subtitle", date=today.isoformat())
        from bot.exports import archive_files as af

        streams: dict[str, StreamedTable] = {}
        for which in ("publicity", "ledger"):
            path = af.scratch_file(which)
            try:
                streams[which] = af.StreamedTable(
                    path,
                    t(loc, f"export.sheet.{which}"),
                    t(loc, f"export.{which}.title", org=org.name),
                    scope,
                    [t(loc, "export.col.org"), *_headers(loc, which)],
                    (16, *_widths(which)),
                )
            except BaseException:  # no scratch file is left behind
                path.unlink(missing_ok=True)
                for made in streams.values():
                    made.discard()
                raise
        org_names: dict[int, str] = {}
        board_rows: list[PublicityRow] = []
        board_pledges = 0
        letters: list[Letter] = []
        summary: list[dict[str, Any]] = []
        try:
            offset = 0
            while True:  # a page of organisations per read; its rows written after it closed
                pub: list[tuple[str, list[Any]]] = []
                led: list[tuple[str, list[Any]]] = []
                async with self.db.read() as uow:
                    page = [
                        Org.model_validate(o)
                        for o in await uow.archive.orgs_page(org.id, ORG_PAGE, offset)
                    ]
                    for o in page:
                        org_names[o.id] = o.name
                        pledges = await uow.exports.published_pledges(o.id)
                        table = await ex.publicity_table(uow, o, today, loc, pledges)
                        sheet = await ex.ledger_sheet(uow, o, today, loc, pledges)
                        pub.append((o.name, table.rows))
                        led.append((o.name, sheet.lines))
                        own = [p for p in pledges if p["pledger_kind"] == PledgerKind.BRANCH]
                        numbers = {str(p["number"]) for p in own}
                        board_rows.extend(r for r in table.rows if r.number in numbers)
                        board_pledges += len(own)
                        for pledge in own:
                            letters.append(await ex.letter_model(uow, pledge, loc))
                    ids = [o.id for o in page]
                    summary.extend(await uow.archive.monthly_summary(ids, *span) if ids else [])
                if not page:
                    break
                await asyncio.to_thread(_add_rows, streams["publicity"], pub, "publicity")
                await asyncio.to_thread(_add_rows, streams["ledger"], led, "ledger")
                offset += ORG_PAGE
            named = (
                ("02", "archive.what.publicity_xlsx", "archive.what.scope_publicity", "publicity"),
                ("03", "archive.what.ledger", "archive.what.scope_ledger", "ledger"),
            )
            for number, file_key, what, which in named:
                stream = streams[which]
                name = _name(loc, number, file_key, "xlsx")
                await asyncio.to_thread(stream.close)
                await asyncio.to_thread(w.put_file, name, stream.path)
                count = t(loc, "archive.count.items", count=stream.rows)
                w.entries.append(IndexEntry(name, t(loc, what), as_of, count))
        finally:
            for stream in streams.values():
                await asyncio.to_thread(stream.discard)
        board = PublicityTable(loc, org.name, today, board_pledges, board_rows)
        entry = IndexEntry(
            _name(loc, "01", "archive.what.publicity_pdf", "pdf"),
            t(loc, "archive.what.board_pdf"),
            as_of,
            t(loc, "archive.count.items", count=len(board_rows)),
        )
        await self._put(w, entry, lambda: _publicity_pdf(board))
        notes = [t(loc, "archive.note.branch_files")]
        if letters:
            await self._letters(w, loc, "archive.what.branch_letters", letters, as_of)
        else:
            notes.append(t(loc, "archive.note.no_branch_letters"))
        ctx = tables.Context(loc, self.clock.tz, org.name, year, today, org_names)
        await self._tables(
            w,
            loc,
            "05",
            "archive.what.records_summary",
            in_year,
            [tables.monthly_summary(ctx, summary)],
        )
        await self._evaluation_files(w, ctx, list(org_names), span, in_year)
        await self._stats(w, org, loc, as_of)
        return notes

    async def _letters(
        self, w: ZipWriter, loc: str, what: str, letters: list[Letter], as_of: str
    ) -> None:
        entry = IndexEntry(
            _name(loc, "04", "archive.what.letters", "pdf"),
            t(loc, what),
            as_of,
            t(loc, "archive.count.letters", count=len(letters)),
        )
        await self._put(w, entry, lambda: _letters_pdf(loc, letters))

    async def _evaluation_files(
        self,
        w: ZipWriter,
        ctx: tables.Context,
        org_ids: Sequence[int],
        span: _Span,
        in_year: str,
    ) -> None:
        """Leader reviews, evaluation results, rectifications, rankings and awards."""
        reviews: list[dict[str, Any]] = []
        results: list[dict[str, Any]] = []
        rects: list[dict[str, Any]] = []
        ranks: list[dict[str, Any]] = []
        awards: list[dict[str, Any]] = []
        for start in range(0, len(org_ids), ORG_PAGE):
            page = list(org_ids[start : start + ORG_PAGE])
            async with self.db.read() as uow:
                reviews += await uow.archive.leader_reviews(page, *span)
                results += await uow.archive.evaluation_results(page, *span)
                rects += await uow.archive.rectifications(page, *span)
                ranks += await uow.archive.rankings(page, ctx.year)
                awards += await uow.archive.awards(page, ctx.year)
        files = (
            ("06", "archive.what.reviews", [tables.leader_reviews(ctx, reviews)]),
            ("07", "archive.what.evaluations", [tables.evaluation_results(ctx, results)]),
            ("08", "archive.what.rectifications", [tables.rectifications(ctx, rects)]),
            ("09", "archive.what.rankings", tables.rankings_and_awards(ctx, ranks, awards)),
        )
        for number, what, sheets in files:
            await self._tables(w, ctx.locale, number, what, in_year, sheets)

    async def _tables(
        self, w: ZipWriter, loc: str, number: str, what: str, period: str, sheets: list[Table]
    ) -> None:
        rows = sum(len(sheet.rows) for sheet in sheets)
        count = t(loc, "archive.count.rows", count=rows)
        entry = IndexEntry(_name(loc, number, what, "xlsx"), t(loc, what), period, count)
        await self._put(w, entry, lambda: _tables_xlsx(sheets))

    async def _stats(self, w: ZipWriter, org: Org, loc: str, as_of: str) -> None:
        async with self.db.read() as uow:
            build = await self.exports.gather_file(uow, ExportKind.STATS, org, loc)
        what = "archive.what.stats"
        entry = IndexEntry(_name(loc, "10", what, "xlsx"), t(loc, what), as_of)
        await self._put(w, entry, _data_of(build))


def _name(loc: str, number: str, what: str, ext: str) -> str:
    return f"{number}_{t(loc, what + '.file')}.{ext}"


def _data_of(build: Callable[[], ExportFile]) -> Callable[[], bytes]:
    return lambda: build().data


def _publicity_pdf(table: PublicityTable) -> bytes:
    from bot.exports.pdf import publicity_pdf

    return publicity_pdf(table)


def _letters_pdf(loc: str, letters: list[Letter]) -> bytes:
    from bot.exports.pdf import letters_pdf

    return letters_pdf(letters, t(loc, "archive.letter.copy"))


def _headers(loc: str, table: str) -> list[str]:
    from bot.exports import xlsx

    columns = xlsx.PUBLICITY_COLUMNS if table == "publicity" else xlsx.LEDGER_COLUMNS
    return xlsx.headers(loc, columns)


def _widths(table: str) -> tuple[int, ...]:
    from bot.exports import xlsx

    return xlsx.PUBLICITY_WIDTHS if table == "publicity" else xlsx.LEDGER_WIDTHS


def _add_rows(stream: StreamedTable, pages: list[tuple[str, list[Any]]], table: str) -> None:
    from bot.exports import xlsx

    cells = xlsx.publicity_cells if table == "publicity" else xlsx.ledger_cells
    for org_name, rows in pages:
        stream.add([[org_name, *cells(stream.rows + n, row)] for n, row in enumerate(rows, 1)])


def _publicity_xlsx(table: PublicityTable) -> bytes:
    from bot.exports.xlsx import publicity_xlsx

    return publicity_xlsx(table)


def _ledger_xlsx(sheet: LedgerSheet) -> bytes:
    from bot.exports.xlsx import ledger_xlsx

    return ledger_xlsx(sheet)


def _tables_xlsx(sheets: list[Table]) -> bytes:
    from bot.exports.archive_files import tables_xlsx

    return tables_xlsx(sheets)


def _year_span(year: int, clock: Clock) -> tuple[datetime, datetime]:
    """The campaign year as [1 Jan, 1 Jan next year) in the campaign's time zone."""
    start = datetime.combine(date(year, 1, 1), time(), tzinfo=clock.tz)
    end = datetime.combine(date(year + 1, 1, 1), time(), tzinfo=clock.tz)
    return start, end
