"""The ``jiannuo`` command: run the bot, import a roster, print invite links."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.domain.clock import SystemClock
from bot.domain.onboarding import OnboardingService
from bot.domain.roster import RosterInvalid, load_roster
from bot.domain.roster_import import import_roster
from bot.i18n import t
from config.settings import Settings
from storage.db import Database

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jiannuo", description="践诺 public-pledge bot")
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="run the bot (no token: the local playground)")
    run.add_argument("--no-console", action="store_true", help="playground without the console")
    roster = sub.add_parser("roster", help="roster commands")
    roster_sub = roster.add_subparsers(dest="roster_command", required=True)
    imp = roster_sub.add_parser("import", help="import orgs and people (.csv or .xlsx)")
    imp.add_argument("orgs", type=Path)
    imp.add_argument("people", type=Path)
    inv = sub.add_parser("invites", help="print one invite link per unbound person")
    inv.add_argument("--org", required=True, help="organisation code")
    inv.add_argument("--tree", action="store_true", help="include every organisation below")
    inv.add_argument("--bot", help="bot username for the links (default: settings or getMe)")
    leaders = sub.add_parser("leaders", help="liaison leaders (联点领导)")
    leaders_sub = leaders.add_subparsers(dest="leaders_command", required=True)
    link = leaders_sub.add_parser("link", help="link a liaison leader to branches")
    link.add_argument("--person", required=True, help="the leader's phone, or name if unique")
    link.add_argument("--org", required=True, help="branch codes, separated by , or ;")
    from bot import export_cli

    export_cli.add_parser(sub)
    from bot import ballots_cli

    ballots_cli.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    args = _parser().parse_args(argv)
    settings = Settings()
    command = args.command or "run"
    if command == "roster":
        return asyncio.run(_roster_import(settings, args.orgs, args.people))
    if command == "invites":
        return asyncio.run(_invites(settings, args.org, args.tree, args.bot))
    if command == "export":
        from bot import export_cli

        return export_cli.run(settings, args)
    if command == "ballots":
        from bot import ballots_cli

        return ballots_cli.run(settings, args)
    if command == "leaders":
        from bot.domain.leader_links import link_leader_cli

        return asyncio.run(link_leader_cli(settings, args.person, args.org))
    return _run(settings, console=not getattr(args, "no_console", False))


async def _roster_import(settings: Settings, orgs: Path, people: Path) -> int:
    db = Database(settings.database_url)
    try:
        await db.migrate()
        async with db.uow() as uow:
            known = frozenset((await uow.orgs.codes()).keys())
        try:
            roster = load_roster(orgs, people, existing_org_codes=known)
        except RosterInvalid as exc:
            sys.stderr.write(t(settings.locale, "cli.roster.refused", count=len(exc.problems)))
            sys.stderr.write("\n")
            for problem in exc.problems:
                sys.stderr.write(problem.render(settings.locale) + "\n")
            return 2
        report = await import_roster(db, SystemClock(settings.timezone), roster)
        sys.stdout.write(
            t(
                settings.locale,
                "cli.roster.done",
                orgs_created=report.orgs_created,
                orgs_updated=report.orgs_updated,
                people_created=report.people_created,
                people_updated=report.people_updated,
            )
            + "\n"
        )
        return 0
    finally:
        await db.dispose()


async def _bot_username(settings: Settings, override: str | None) -> str:
    if override:
        return override.lstrip("@")
    if settings.bot_username:
        return settings.bot_username.lstrip("@")
    if settings.bot_token is None:
        return "jiannuo_bot"
    from telegram import Bot

    async with Bot(settings.bot_token.get_secret_value(), base_url=settings.bot_api_url) as bot:
        return bot.username


async def _invites(settings: Settings, org_code: str, tree: bool, bot: str | None) -> int:
    from bot.domain.errors import DomainError

    db = Database(settings.database_url)
    try:
        await db.migrate()
        service = OnboardingService(
            db, SystemClock(settings.timezone), settings.admin_ids, settings.invite_ttl_days
        )
        try:
            issued = await service.issue_invites(org_code, with_suborgs=tree)
        except DomainError as exc:
            sys.stderr.write(exc.render(settings.locale) + "\n")
            return 2
        username = await _bot_username(settings, bot)
        for entry in issued:
            person = entry.person
            role = t(settings.locale, f"role.{person.role.value}")
            if entry.code is None:
                link = t(settings.locale, "cli.invites.bound")
            else:
                link = f"https://t.me/{username}?start={entry.code}"
            sys.stdout.write(f"{person.name}\t{role}\t{person.phone}\t{link}\n")
        return 0
    finally:
        await db.dispose()


def _run(settings: Settings, console: bool) -> int:
    if settings.bot_token is not None:
        from bot.app import ALLOWED_UPDATES, build_application

        app = build_application(settings)
        app.run_polling(allowed_updates=ALLOWED_UPDATES)
        return 0
    from bot.playground.run import run_playground

    return asyncio.run(run_playground(settings, console=console and sys.stdin.isatty()))


if __name__ == "__main__":
    raise SystemExit(main())
