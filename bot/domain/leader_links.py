"""Linking liaison leaders (联点领导) to the branches they review: `jiannuo leaders link`.

The roster's 联系支部 column does the same at import; this command adds links afterwards.
"""

from __future__ import annotations

import re
import sys

from bot.domain.enums import OrgType, Role
from bot.domain.errors import DomainError
from bot.domain.models import Org, Person
from config.settings import Settings
from storage.db import Database
from storage.uow import UnitOfWork

_SEP = re.compile(r"[;；,，、\s]+")


async def _find_leader(uow: UnitOfWork, who: str) -> Person:
    matches: list[Person] = []
    for org in await uow.orgs.all():
        for person in await uow.people.in_org(org.id, [Role.LEADER.value]):
            if who in (person.phone, person.name):
                matches.append(person)
    if not matches:
        raise DomainError("lr.cli.no_leader", who=who)
    if len(matches) > 1:
        raise DomainError("lr.cli.ambiguous", who=who, count=len(matches))
    return matches[0]


async def link_leader(db: Database, who: str, org_codes: str) -> tuple[Person, list[Org]]:
    """Link the leader (by phone, or by name if unique) to branches; returns the new links."""
    codes = [c for c in _SEP.split(org_codes.strip()) if c]
    if not codes:
        raise DomainError("lr.cli.no_orgs")
    async with db.uow() as uow:
        leader = await _find_leader(uow, who.strip())
        orgs: list[Org] = []
        for code in codes:
            org = await uow.orgs.by_code(code)
            if org is None or org.type is OrgType.COMMITTEE:
                raise DomainError("lr.cli.bad_org", code=code)
            orgs.append(org)
        await uow.leader_reviews.link(leader.id, [o.id for o in orgs])
        return leader, orgs


async def link_leader_cli(settings: Settings, who: str, org_codes: str) -> int:
    """The command line: print what was linked, or why not (exit code 2)."""
    from bot.i18n import t

    db = Database(settings.database_url)
    try:
        await db.migrate()
        try:
            leader, orgs = await link_leader(db, who, org_codes)
        except DomainError as exc:
            sys.stderr.write(exc.render(settings.locale) + "\n")
            return 2
        names = "、".join(o.name for o in orgs)
        sys.stdout.write(t(settings.locale, "lr.cli.linked", name=leader.name, orgs=names) + "\n")
        return 0
    finally:
        await db.dispose()
