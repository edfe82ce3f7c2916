"""``jiannuo ballots --evaluation ID --count N --out FILE.pdf [--base-url URL]``: print N
one-time ballot slips (现场票) of an open evaluation, the same PDF as /evaluate sends in chat.

A refusal (no such evaluation, closed, a count out of range, no web address configured) prints
a clear message and exits with code 2; no slip is issued and no file is written then.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.domain.clock import SystemClock
from bot.domain.errors import DomainError
from bot.domain.slips import SlipFile, SlipService
from bot.i18n import t
from config.settings import Settings
from storage.db import Database


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``ballots`` sub-command."""
    ballots = sub.add_parser("ballots", help="print one-time ballot slips (现场票) as a PDF")
    ballots.add_argument("--evaluation", type=int, required=True, help="evaluation id")
    ballots.add_argument("--count", type=int, required=True, help="how many slips")
    ballots.add_argument("--out", type=Path, required=True, help="the PDF file to write")
    ballots.add_argument(
        "--base-url", help="where the slips' page is reached (default: from the settings)"
    )


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Issue the slips and write the PDF; 2 with a message on stderr when refused."""
    locale = settings.locale
    out: Path = args.out
    if out.is_dir() or not out.parent.is_dir():
        sys.stderr.write(t(locale, "slip.cli.bad_out", path=out) + "\n")
        return 2
    base = args.base_url or settings.ballot_base()
    try:
        printed = asyncio.run(_print(settings, args.evaluation, args.count, base))
    except DomainError as exc:
        sys.stderr.write(exc.render(locale) + "\n")
        return 2
    out.write_bytes(printed.data)
    sys.stdout.write(
        t(locale, "slip.cli.written", count=printed.count, org=printed.org_name, path=out) + "\n"
    )
    return 0


async def _print(settings: Settings, evaluation_id: int, count: int, base: str | None) -> SlipFile:
    db = Database(settings.database_url)
    try:
        await db.migrate()
        # Issuing hashes no voter: the ballot key is not needed here.
        service = SlipService(db, SystemClock(settings.timezone), b"")
        return await service.print(evaluation_id, count, base, settings.locale)
    finally:
        await db.dispose()
