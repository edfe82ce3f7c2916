"""Joining: invite codes bind a Telegram account to a roster entry; languages; admins."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from bot.chat.actor import Account, Actor
from bot.domain.clock import Clock
from bot.domain.enums import OrgType, Role
from bot.domain.errors import DomainError, NotRegistered
from bot.domain.models import Org, Person
from bot.i18n import LOCALES, normalize_locale
from storage.db import Database

log = logging.getLogger(__name__)

INVITE_BYTES = 12  # 16 url-safe characters: unguessable, and short enough for a deep link


@dataclass(frozen=True)
class Profile:
    """A person and their organisation, as a greeting needs them."""

    person: Person
    org: Org


@dataclass(frozen=True)
class IssuedInvite:
    """An invite printed for the clerk."""

    person: Person
    code: str | None  # None: the person is already bound


class OnboardingService:
    """Binds accounts, remembers languages, bootstraps admins."""

    def __init__(
        self, db: Database, clock: Clock, admin_ids: list[int], invite_ttl_days: int = 30
    ) -> None:
        self.db = db
        self.clock = clock
        self.admin_ids = set(admin_ids)
        self.invite_ttl = timedelta(days=invite_ttl_days)

    async def actor(self, account: Account, channel_language: str | None) -> Actor | None:
        """The person behind a channel account, as services take them; None if the account is
        bound to nobody (read once per update: the handlers' and the services' later reads
        of the person are answered from it)."""
        async with self.db.read() as uow:
            person = await uow.people.by_account(account)
        if person is None:
            return None
        return Actor(
            person_id=person.id,
            name=person.name,
            org_id=person.org_id,
            role=person.role,
            locale=person.locale or normalize_locale(channel_language),
            is_admin=person.is_admin,
        )

    async def profile(self, actor: Actor) -> Profile:
        """The acting person and their org, as they stand now (NotRegistered if they left the
        roster)."""
        async with self.db.read() as uow:
            person = await uow.people.get(actor.person_id)
            if person is None:
                raise NotRegistered()
            org = await uow.orgs.get(person.org_id)
            assert org is not None
            return Profile(person, org)

    async def locale(self, account: Account) -> str | None:
        """The chosen language of the person behind a channel account, or None (read for
        every update: one query, none if the update read its sender already)."""
        known, person = self.db.remembered_account(account)
        if known:
            return person.locale if person is not None else None
        async with self.db.read() as uow:
            person = await uow.people.by_account(account)
            return person.locale if person is not None else None

    async def redeem_invite(
        self, tg_user_id: int, code: str, telegram_language: str | None
    ) -> Profile:
        """Bind the account to the invite's roster entry (single use, expiring)."""
        now = self.clock.now()
        async with self.db.uow() as uow:
            invite = await uow.invites.get(code.strip()[:64])
            if invite is None:
                raise DomainError("invite.unknown")
            bound = await uow.people.by_tg(tg_user_id)
            if invite.used_at is not None:
                if bound is not None and bound.id == invite.person_id:
                    org = await uow.orgs.get(bound.org_id)
                    assert org is not None
                    return Profile(bound, org)
                raise DomainError("invite.used")
            if invite.expires_at <= now:
                raise DomainError("invite.expired")
            person = await uow.people.get(invite.person_id)
            assert person is not None
            if bound is not None and bound.id != person.id:
                raise DomainError("invite.account_taken", name=bound.name)
            if person.tg_user_id is not None and person.tg_user_id != tg_user_id:
                raise DomainError("invite.used")
            if not await uow.invites.mark_used(invite.code, now, tg_user_id):
                raise DomainError("invite.used")
            locale = person.locale or normalize_locale(telegram_language)
            await uow.people.bind(person.id, tg_user_id, locale, now)
            person = person.model_copy(update={"tg_user_id": tg_user_id, "locale": locale})
            org = await uow.orgs.get(person.org_id)
            assert org is not None
            # The ballots of open mass evaluations they are on the list of (群众评议).
            from bot.domain.evaluation import on_joined

            await on_joined(uow, self.clock, person)
            log.info("person %s bound to a Telegram account", person.id)
            return Profile(person, org)

    async def bootstrap_admin(
        self, tg_user_id: int, display_name: str, telegram_language: str | None
    ) -> Profile | None:
        """An id in JIANNUO_ADMIN_IDS becomes committee staff of the root organisation."""
        if tg_user_id not in self.admin_ids:
            return None
        now = self.clock.now()
        async with self.db.uow() as uow:
            existing = await uow.people.by_tg(tg_user_id)
            if existing is not None:
                org = await uow.orgs.get(existing.org_id)
                assert org is not None
                return Profile(existing, org)
            roots = [o for o in await uow.orgs.all() if o.parent_id is None]
            root = next((o for o in roots if o.type is OrgType.COMMITTEE), None)
            if root is None:
                await uow.orgs.upsert_many(
                    [{"code": "ROOT", "name": "党委", "type": OrgType.COMMITTEE.value}]
                )
                root = await uow.orgs.by_code("ROOT")
                assert root is not None
            person = await uow.people.create(
                name=display_name[:100] or str(tg_user_id),
                org_id=root.id,
                role=Role.COMMITTEE.value,
                phone=f"tg{tg_user_id}",
                locale=normalize_locale(telegram_language),
                is_admin=True,
                created_at=now,
                updated_at=now,
            )
            await uow.people.bind(person.id, tg_user_id, person.locale or "zh_CN", now)
            person = person.model_copy(update={"tg_user_id": tg_user_id})
            return Profile(person, root)

    async def set_locale(self, actor: Actor, locale: str) -> Person:
        """Switch the acting person's language."""
        if locale not in LOCALES:
            raise DomainError("lang.unknown")
        async with self.db.uow() as uow:
            person = await uow.people.get(actor.person_id)
            if person is None:
                raise NotRegistered()
            await uow.people.set_locale(person.id, locale)
            return person.model_copy(update={"locale": locale})

    async def issue_invites(self, org_code: str, with_suborgs: bool = False) -> list[IssuedInvite]:
        """New invite codes for everyone unbound in an org; older unused codes stop working."""
        now = self.clock.now()
        async with self.db.uow() as uow:
            org = await uow.orgs.by_code(org_code)
            if org is None:
                raise DomainError("invites.unknown_org", code=org_code)
            org_ids = [org.id]
            if with_suborgs:
                all_orgs = await uow.orgs.all()
                frontier = [org.id]
                while frontier:
                    children = [o.id for o in all_orgs if o.parent_id in frontier]
                    org_ids.extend(children)
                    frontier = children
            people: list[Person] = []
            for oid in org_ids:
                people.extend(await uow.people.in_org(oid))
            unbound = [p for p in people if not p.joined]
            await uow.invites.revoke_open_for([p.id for p in unbound], now)
            issued: list[IssuedInvite] = []
            rows = []
            for person in people:
                if person.joined:
                    issued.append(IssuedInvite(person, None))
                    continue
                code = secrets.token_urlsafe(INVITE_BYTES)
                rows.append(
                    {
                        "code": code,
                        "person_id": person.id,
                        "created_at": now,
                        "expires_at": now + self.invite_ttl,
                    }
                )
                issued.append(IssuedInvite(person, code))
            await uow.invites.add_many(rows)
            return issued
