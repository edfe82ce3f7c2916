"""``jiannuo export publicity|ledger|letter|stats|archive --org CODE [--pledge NUMBER]
[--format xlsx|pdf|zip] [--year YEAR] [--out PATH]``: the operator's exports, the same files as
/export in chat. ``archive`` writes the whole archive for inspection (bot/domain/archive.py) of
the organisation, of any size (chat delivers at most Telegram's 50 MB).

Unknown codes or numbers, or a format the export does not have, print a clear message and
exit with code 2; nothing is written then.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
from pathlib import Path

from bot.domain.archive import Archive, ArchiveService
from bot.domain.clock import SystemClock
from bot.domain.errors import DomainError
from bot.domain.exports import ExportFile, ExportKind, ExportService
from bot.i18n import t
from config.settings import Settings
from storage.db import Database

# what → {format: kind}; the first format is the default
FORMATS: dict[str, dict[str, ExportKind]] = {
    "publicity": {"xlsx": ExportKind.PUBLICITY_XLSX, "pdf": ExportKind.PUBLICITY_PDF},
    "ledger": {"xlsx": ExportKind.LEDGER},
    "letter": {"pdf": ExportKind.LETTER},
    "stats": {"xlsx": ExportKind.STATS},
    "archive": {"zip": ExportKind.ARCHIVE},
}


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``export`` sub-command."""
    export = sub.add_parser("export", help="export a table, the ledger, a letter or statistics")
    export.add_argument("what", choices=sorted(FORMATS), help="what to export")
    export.add_argument("--org", required=True, help="organisation code")
    export.add_argument("--pledge", help="pledge number (for a letter)")
    export.add_argument("--format", choices=("xlsx", "pdf", "zip"), help="file format")
    export.add_argument("--year", type=int, help="the archive's year (default: this year)")
    export.add_argument("--out", type=Path, help="file or directory to write (default: here)")


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Build the export and write it; 2 with a message on stderr when refused."""
    locale = settings.locale
    formats = FORMATS[args.what]
    fmt = args.format or next(iter(formats))
    if fmt not in formats:
        message = t(
            locale, "export.cli.bad_format", what=args.what, format=fmt, formats="/".join(formats)
        )
        sys.stderr.write(message + "\n")
        return 2
    if args.what == "archive":
        return _archive(settings, args)
    try:
        export = asyncio.run(_build(settings, formats[fmt], args.org, args.pledge))
    except DomainError as exc:
        sys.stderr.write(exc.render(locale) + "\n")
        return 2
    out: Path = args.out or Path.cwd()
    path = out / export.name if out.is_dir() else out
    path.write_bytes(export.data)
    if export.message:
        sys.stdout.write(export.message + "\n")
    sys.stdout.write(t(locale, "export.cli.written", path=path, size=len(export.data)) + "\n")
    return 0


def _archive(settings: Settings, args: argparse.Namespace) -> int:
    """Build the archive into a temporary file, then move it where asked."""
    locale = settings.locale
    try:
        archive = asyncio.run(_build_archive(settings, args.org, args.year))
    except DomainError as exc:
        sys.stderr.write(exc.render(locale) + "\n")
        return 2
    out: Path = args.out or Path.cwd()
    path = out / archive.name if out.is_dir() else out
    shutil.move(archive.path, path)
    sys.stdout.write(t(locale, "export.cli.written", path=path, size=archive.size) + "\n")
    return 0


async def _build_archive(settings: Settings, org_code: str, year: int | None) -> Archive:
    db = Database(settings.database_url)
    try:
        await db.migrate()
        clock = SystemClock(settings.timezone)
        service = ArchiveService(db, clock, ExportService(db, clock))
        return await service.build_for_operator(org_code, settings.locale, year)
    finally:
        await db.dispose()


async def _build(
    settings: Settings, kind: ExportKind, org_code: str, pledge: str | None
) -> ExportFile:
    db = Database(settings.database_url)
    try:
        await db.migrate()
        service = ExportService(db, SystemClock(settings.timezone))
        return await service.export_for_operator(kind, org_code, pledge, settings.locale)
    finally:
        await db.dispose()
