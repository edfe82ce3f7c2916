"""The reply port (bot/chat/replies.py) on Telegram: answers to the update in hand."""

from __future__ import annotations

import logging
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, TelegramError

from bot.channels.telegram.callbacks import markup
from bot.channels.telegram.renderer import TEXT_LIMIT
from bot.chat.actions import Keyboard
from bot.chat.text import split_text
from bot.domain.enums import Role
from bot.i18n import t
from bot.menu import commands_for

log = logging.getLogger(__name__)

NOTICE_LIMIT = 200  # answerCallbackQuery's text limit


def inline_keyboard(buttons: Keyboard | None) -> InlineKeyboardMarkup | None:
    """Button rows as an inline keyboard: an action as callback data, or a link."""
    return markup(buttons)


class TelegramReplies:
    """Answers in the chat the update came from; edits the message whose button was pressed."""

    def __init__(self, update: Update, bot: Any) -> None:
        self.update = update
        self.bot = bot
        self._answered = False

    async def reply(self, text: str, buttons: Keyboard | None = None) -> None:
        """A new message (split where Telegram's limit needs it; buttons on the last part)."""
        chat = self.update.effective_chat
        if chat is None:
            return
        parts = split_text(text, TEXT_LIMIT)
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            await chat.send_message(part, reply_markup=inline_keyboard(buttons) if last else None)

    async def edit(self, text: str, buttons: Keyboard | None = None) -> None:
        """Replace the pressed message; a new message if it cannot be edited."""
        query = self.update.callback_query
        if query is not None and query.message is not None:
            try:
                await query.edit_message_text(text, reply_markup=inline_keyboard(buttons))
                return
            except BadRequest as exc:
                if "not modified" in exc.message.lower():
                    return
                log.info("could not edit, sending instead: %s", exc.message)
        await self.reply(text, buttons)

    async def notice(self, text: str | None = None, *, alert: bool = False) -> None:
        """answerCallbackQuery, once per press (≤ 200 characters)."""
        query = self.update.callback_query
        if query is None or self._answered:
            return
        self._answered = True
        if text and len(text) > NOTICE_LIMIT:
            text = text[: NOTICE_LIMIT - 1] + "…"
        try:
            await query.answer(text, show_alert=alert)
        except TelegramError as exc:  # an old query cannot be answered any more; harmless
            log.debug("callback answer failed: %s", exc.message)

    async def send_file(
        self, name: str, data: bytes, *, caption: str | None = None, photo: bool = False
    ) -> None:
        """sendPhoto or sendDocument in the update's chat."""
        chat = self.update.effective_chat
        if chat is None:
            return
        if photo:
            await chat.send_photo(data, caption=caption)
        else:
            await chat.send_document(InputFile(data, filename=name), caption=caption)

    async def ask_contact(self, text: str, label: str, placeholder: str | None = None) -> None:
        """A one-button reply keyboard that shares the person's own contact."""
        chat = self.update.effective_chat
        if chat is None:
            return
        keyboard = ReplyKeyboardMarkup(
            [[KeyboardButton(label, request_contact=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
            input_field_placeholder=placeholder,
        )
        await chat.send_message(text, reply_markup=keyboard)

    async def show_commands(self, role: Role | None, locale: str) -> None:
        """The chat's command menu: exactly the role's commands, in the person's language."""
        chat = self.update.effective_chat
        if chat is None:
            return
        commands = [BotCommand(c, t(locale, f"cmd.{c}")) for c in commands_for(role)]
        try:
            await self.bot.set_my_commands(commands, scope=BotCommandScopeChat(chat.id))
        except TelegramError as exc:
            log.warning("could not set the command menu for %s: %s", chat.id, exc.message)
