"""/start with an invite code, /help, /lang."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot import callbacks as cb
from bot.context import Ctx
from bot.domain.enums import Role
from bot.domain.onboarding import Profile
from bot.i18n import LOCALES, normalize_locale, t
from bot.menu import help_lines
from handlers.common import (
    answer_callback,
    guarded,
    locale_of,
    reply,
    set_user_menu,
    user_id,
)
from handlers.resident_phone import ask_if_needed


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
    return text + "\n\n" + _help_text(profile)


def _help_text(profile: Profile | None, locale: str | None = None) -> str:
    loc = profile.person.locale if profile else locale
    role = profile.person.role if profile else None
    lines = [t(loc, "help.title"), *help_lines(role, loc)]
    if profile is None:
        lines.append("")
        lines.append(t(loc, "help.unbound"))
    return "\n".join(lines)


@guarded
async def start(update: Update, ctx: Ctx) -> None:
    """/start [code]: bind by invite, or greet a known person."""
    user = update.effective_user
    assert user is not None
    svc = ctx.svc.onboarding
    args = ctx.args or []
    if args:
        profile = await svc.redeem_invite(user.id, args[0], user.language_code)
    else:
        found = await svc.profile(user.id) or await svc.bootstrap_admin(
            user.id, user.full_name, user.language_code
        )
        if found is None:
            await reply(update, t(normalize_locale(user.language_code), "start.need_invite"))
            return
        profile = found
    await set_user_menu(ctx, user.id, profile.person.role, profile.person.locale or "zh_CN")
    await reply(update, _greeting(profile))
    await ask_if_needed(update, profile.person)  # a resident confirms their phone


@guarded
async def show_help(update: Update, ctx: Ctx) -> None:
    """/help: exactly the commands this person's role may use."""
    profile = await ctx.svc.onboarding.profile(user_id(update))
    await reply(update, _help_text(profile, await locale_of(update, ctx)))


@guarded
async def choose_language(update: Update, ctx: Ctx) -> None:
    """/lang: offer the languages (the choice is kept on the person, so they must be bound)."""
    loc = await locale_of(update, ctx)
    if await ctx.svc.onboarding.profile(user_id(update)) is None:
        await reply(update, t(loc, "auth.not_registered"))
        return
    buttons = [
        [
            {"text": t(code, "lang.name"), "callback_data": cb.build(cb.LANG, "set", code)}
            for code in LOCALES
        ]
    ]
    await reply(update, t(loc, "lang.choose"), buttons)


@guarded
async def set_language(update: Update, ctx: Ctx) -> None:
    """A language button."""
    data = cb.parse(update.callback_query.data if update.callback_query else None)
    code = data.args[0] if data and data.args else ""
    person = await ctx.svc.onboarding.set_locale(user_id(update), code)
    await answer_callback(update)
    await set_user_menu(ctx, user_id(update), person.role, code)
    await reply(update, t(code, "lang.switched"), edit=True)


def build() -> list[BaseHandler[Update, Ctx, object]]:
    """The onboarding handlers."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("start", start, filters=private),
        CommandHandler("help", show_help),
        CommandHandler("lang", choose_language, filters=private),
        CallbackQueryHandler(set_language, pattern=cb.pattern(cb.LANG)),
    ]
