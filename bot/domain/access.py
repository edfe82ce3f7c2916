"""Who may do what: looking up the acting person and the rules of reviewing."""

from __future__ import annotations

from bot.chat.actor import Actor
from bot.domain.enums import PledgerKind, Role
from bot.domain.errors import Forbidden, NotRegistered
from bot.domain.models import Org, Person, Pledge
from storage.uow import UnitOfWork


async def person_of(uow: UnitOfWork, actor: Actor) -> Person:
    """The acting person's roster entry as it stands in this unit of work (their role may
    have changed since the event arrived), or NotRegistered if they left the roster."""
    person = await uow.people.get(actor.person_id)
    if person is None:
        raise NotRegistered()
    return person


def as_actor(person: Person) -> Actor:
    """A roster entry as the acting person, for code that acts for someone without an
    inbound event (the playground's seeding); in their language, else zh_CN."""
    return Actor(
        person_id=person.id,
        name=person.name,
        org_id=person.org_id,
        role=person.role,
        locale=person.locale or "zh_CN",
        is_admin=person.is_admin,
    )


def require_role(person: Person, *roles: Role) -> None:
    """Refuse unless the person has one of the roles (admins count as committee)."""
    if person.role in roles or (person.is_admin and Role.COMMITTEE in roles):
        return
    raise Forbidden("auth.role_required", roles=roles)


def can_pledge(person: Person) -> bool:
    """Members, secretaries, cadres and committee staff pledge; residents do not."""
    return person.role is not Role.RESIDENT


def may_edit(pledge: Pledge, person: Person) -> bool:
    """Who may change a pledge (continue, revise, amend): its member or who drafted it; an
    oral pledge only who recorded it (the member pledged by word of mouth: the recorder
    writes any change down with him)."""
    if pledge.is_oral:
        return person.id == pledge.drafter_id
    return person.id in {pledge.drafter_id, pledge.person_id}


async def may_review(uow: UnitOfWork, reviewer: Person, pledge: Pledge) -> bool:
    """Member pledges: the branch secretary (or the committee above).

    Branch pledges: the upper committee. Nobody reviews their own pledge, nor one they wrote
    down: an oral pledge the secretary recorded for a member goes to another reviewer (as the
    progress they record is verified, and the rectification plan they write is accepted, by
    someone else).
    """
    if reviewer.id in {pledge.person_id, pledge.drafter_id}:
        return False
    ancestors = {org.id for org in await uow.orgs.ancestors(pledge.org_id)}
    is_committee_above = (reviewer.role is Role.COMMITTEE or reviewer.is_admin) and (
        reviewer.org_id in ancestors
    )
    if pledge.pledger_kind is PledgerKind.MEMBER:
        if reviewer.role is Role.SECRETARY and reviewer.org_id == pledge.org_id:
            return True
        return is_committee_above
    return is_committee_above


async def reviewers_for(uow: UnitOfWork, pledge: Pledge) -> list[Person]:
    """Who gets the submission: the branch secretaries, else the nearest committee staff."""
    if pledge.pledger_kind is PledgerKind.MEMBER:
        secretaries = [
            p
            for p in await uow.people.in_org(pledge.org_id, [Role.SECRETARY.value])
            if p.id not in {pledge.drafter_id, pledge.person_id}
        ]
        if secretaries:
            return secretaries
    for org in await uow.orgs.ancestors(pledge.org_id):
        staff = [
            p
            for p in await uow.people.in_org(org.id, [Role.COMMITTEE.value])
            if p.id not in {pledge.drafter_id, pledge.person_id}
        ]
        if staff:
            return staff
    return []


async def pledger_name(uow: UnitOfWork, pledge: Pledge, org: Org) -> str:
    """The member's name, or the branch's name for a branch pledge."""
    if pledge.pledger_kind is PledgerKind.BRANCH or pledge.person_id is None:
        return org.name
    person = await uow.people.get(pledge.person_id)
    return person.name if person else "?"
