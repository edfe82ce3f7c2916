"""Shared handler plumbing: the user's language, replying, turning DomainErrors into replies."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import BadRequest, TelegramError

from bot.channels.telegram.callbacks import decode, markup
from bot.channels.telegram.renderer import TEXT_LIMIT
from bot.chat.actions import Action, AnyRows
from bot.chat.actor import TELEGRAM, Account, Actor
from bot.chat.text import split_text
from bot.context import Ctx
from bot.domain.enums import Role
from bot.domain.errors import DomainError, NotRegistered
from bot.domain.typed_text import visible
from bot.i18n import normalize_locale, t
from bot.menu import commands_for

log = logging.getLogger(__name__)

Buttons = AnyRows
R = TypeVar("R")
CALLBACK_ANSWER_LIMIT = 200


async def locale_of(update: Update, ctx: Ctx) -> str:
    """The person's chosen language, else their Telegram language, else zh_CN."""
    user = update.effective_user
    if user is None:
        return normalize_locale(None)
    chosen = await ctx.svc.onboarding.locale(Account(TELEGRAM, str(user.id)))
    if chosen:
        return chosen
    return normalize_locale(user.language_code)


async def reply(
    update: Update, text: str, buttons: Buttons | None = None, *, edit: bool = False
) -> None:
    """Answer in the chat the update came from; with ``edit``, replace the tapped message."""
    query = update.callback_query
    if edit and query is not None and query.message is not None:
        try:
            await query.edit_message_text(text, reply_markup=markup(buttons))
            return
        except BadRequest as exc:
            if "not modified" in exc.message.lower():
                return
            log.info("could not edit, sending instead: %s", exc.message)
    chat = update.effective_chat
    if chat is None:
        return
    parts = split_text(text, TEXT_LIMIT)
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        await chat.send_message(part, reply_markup=markup(buttons) if last else None)


def pressed(update: Update) -> Action | None:
    """The action of the button this update pressed; None when it pressed none we could make."""
    query = update.callback_query
    return decode(query.data if query is not None else None)


async def answer_callback(update: Update, text: str | None = None, alert: bool = False) -> None:
    """Stop the button's spinner, optionally with a short notice (≤ 200 characters)."""
    query = update.callback_query
    if query is None:
        return
    if text and len(text) > CALLBACK_ANSWER_LIMIT:
        text = text[: CALLBACK_ANSWER_LIMIT - 1] + "…"
    try:
        await query.answer(text, show_alert=alert)
    except TelegramError as exc:  # an old query cannot be answered any more; harmless
        log.debug("callback answer failed: %s", exc.message)


def guarded(
    func: Callable[[Update, Ctx], Coroutine[Any, Any, R]],
) -> Callable[[Update, Ctx], Coroutine[Any, Any, R | None]]:
    """Run a handler; a DomainError becomes a clear message in the user's language."""

    @functools.wraps(func)
    async def wrapper(update: Update, ctx: Ctx) -> R | None:
        try:
            return await func(update, ctx)
        except DomainError as exc:
            text = exc.render(await locale_of(update, ctx))
            if update.callback_query is not None:
                await answer_callback(update, text, alert=True)
                if len(text) > CALLBACK_ANSWER_LIMIT:
                    await reply(update, text)
            else:
                await reply(update, text)
            return None

    return wrapper


def private_only(update: Update) -> bool:
    """Whether the update comes from a private chat."""
    chat = update.effective_chat
    return chat is not None and chat.type == "private"


async def set_user_menu(ctx: Ctx, chat_id: int, role: Role | None, locale: str) -> None:
    """Show this person exactly their role's commands, in their language."""
    commands = [BotCommand(c, t(locale, f"cmd.{c}")) for c in commands_for(role)]
    try:
        await ctx.bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id))
    except TelegramError as exc:
        log.warning("could not set the command menu for %s: %s", chat_id, exc.message)


def account_of(update: Update) -> Account:
    """The Telegram account the update comes from (every handled update has one)."""
    return Account(TELEGRAM, str(user_id(update)))


async def actor_of(update: Update, ctx: Ctx) -> Actor:
    """The person acting: the Telegram adapter resolved them once for this update, before any
    handler ran (bot/channels/telegram/adapter.py); NotRegistered (a clear reply, through
    ``guarded``) if their account is bound to nobody."""
    held = ctx.inbound
    if held is not None:
        found = held[0].actor
    else:  # an update the adapter turned into no event: read the account here
        user = update.effective_user
        assert user is not None
        found = await ctx.svc.onboarding.actor(account_of(update), user.language_code)
    if found is None:
        raise NotRegistered()
    return found


def user_id(update: Update) -> int:
    """The acting user's Telegram id (every handled update has one)."""
    user = update.effective_user
    assert user is not None
    return user.id


def text_of(update: Update) -> str:
    """The message's text as the bot reads it (invisible ends removed), or empty."""
    message = update.effective_message
    return visible(message.text) if message is not None else ""


def caption_of(update: Update) -> str:
    """A photo's or file's caption as the bot reads it (invisible ends removed), or empty."""
    message = update.effective_message
    return visible(message.caption) if message is not None else ""
