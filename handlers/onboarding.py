"""/start with an invite code, /help, /lang."""

from __future__ import annotations

from bot.chat import features
from bot.chat.actions import Button, action
from bot.chat.events import Command, Joined, Pressed
from bot.chat.router import Router, Turn
from bot.domain.enums import Role
from bot.domain.onboarding import Profile
from bot.domain.resident_phone import needs_phone
from bot.i18n import LOCALES, t
from bot.menu import help_lines

LANG = features.LANG

router = Router()


def _greeting(profile: Profile) -> str:
    loc = profile.person.locale
    person = profile.person
    address = "resident" if person.role is Role.RESIDENT else "comrade"
    text = t(
        loc,
        "start.welcome",
        address=t(loc, f"start.address.{address}", name=person.name),
        role=t(loc, f"role.{profile.person.role.value}"),
        org=profile.org.name,
    )
    return text + "\n\n" + _help_text(profile.person.role, loc, bound=True)


def _help_text(role: Role | None, loc: str | None, *, bound: bool) -> str:
    lines = [t(loc, "help.title"), *help_lines(role, loc)]
    if not bound:
        lines.append("")
        lines.append(t(loc, "help.unbound"))
    return "\n".join(lines)


@router.command("start", unbound=True)
async def start(ev: Command | Joined, turn: Turn) -> None:
    """/start [code]: bind by invite, or greet a known person."""
    svc = turn.svc.onboarding
    account = int(ev.account)
    if isinstance(ev, Joined):
        profile = await svc.redeem_invite(account, ev.code, ev.language)
    else:
        found = (await svc.profile(ev.actor) if ev.actor is not None else None) or (
            await svc.bootstrap_admin(account, ev.sender_name, ev.language)
        )
        if found is None:
            await turn.out.reply(t(ev.locale, "start.need_invite"))
            return
        profile = found
    person = profile.person
    await turn.out.show_commands(person.role, person.locale or "zh_CN")
    await turn.out.reply(_greeting(profile))
    if needs_phone(person):  # a resident confirms their phone (handlers/resident_phone.py)
        loc = person.locale
        await turn.out.ask_contact(
            t(loc, "resphone.ask"), t(loc, "resphone.btn.share"), t(loc, "resphone.placeholder")
        )


@router.command("help", private=False, unbound=True)
async def show_help(ev: Command, turn: Turn) -> None:
    """/help: exactly the commands this person's role may use."""
    role = ev.actor.role if ev.actor is not None else None
    await turn.out.reply(_help_text(role, turn.locale, bound=ev.actor is not None))


@router.command("lang")
async def choose_language(ev: Command, turn: Turn) -> None:
    """/lang: offer the languages (the choice is kept on the person, so they must be bound)."""
    buttons = [[Button(t(code, "lang.name"), action(LANG, "set", code)) for code in LOCALES]]
    await turn.out.reply(t(turn.locale, "lang.choose"), buttons)


@router.action(LANG)
async def set_language(ev: Pressed, turn: Turn) -> None:
    """A language button."""
    code = ev.action.args[0] if ev.action and ev.action.args else ""
    person = await turn.svc.onboarding.set_locale(ev.person, code)
    await turn.out.notice()
    await turn.out.show_commands(person.role, code)
    await turn.out.edit(t(code, "lang.switched"))
