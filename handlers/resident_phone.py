"""A resident confirms their phone: a reply-keyboard button shares their own contact.

Asked right after a resident joins (and on /start or /phone while unconfirmed). The keyboard
goes away once the number is confirmed; on a mismatch the person is told what to do.
"""

from __future__ import annotations

from telegram import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.channels.telegram.callbacks import feature_pattern
from bot.chat import features
from bot.context import Ctx
from bot.domain.dates import format_moment
from bot.domain.errors import DomainError
from bot.domain.models import Person
from bot.domain.resident_phone import needs_phone
from bot.i18n import t
from handlers.common import actor_of, answer_callback, guarded, locale_of, user_id


def contact_keyboard(locale: str | None) -> ReplyKeyboardMarkup:
    """One big button that shares the person's own contact."""
    return ReplyKeyboardMarkup(
        [[KeyboardButton(t(locale, "resphone.btn.share"), request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
        input_field_placeholder=t(locale, "resphone.placeholder"),
    )


async def ask_phone(update: Update, locale: str | None) -> None:
    """Ask for the contact with the request_contact keyboard."""
    chat = update.effective_chat
    if chat is not None:
        await chat.send_message(t(locale, "resphone.ask"), reply_markup=contact_keyboard(locale))


async def ask_if_needed(update: Update, person: Person) -> None:
    """After joining or greeting: ask a resident who has not confirmed their phone yet."""
    if needs_phone(person):
        await ask_phone(update, person.locale)


@guarded
async def phone_command(update: Update, ctx: Ctx) -> None:
    """/phone: confirm (again) by sharing the contact, or say it is confirmed."""
    loc = await locale_of(update, ctx)
    person = await ctx.svc.phones.status(await actor_of(update, ctx))
    chat = update.effective_chat
    if person.phone_confirmed and chat is not None:
        await chat.send_message(t(loc, "resphone.already"), reply_markup=ReplyKeyboardRemove())
        return
    await ask_phone(update, loc)


@guarded
async def ask_button_tapped(update: Update, ctx: Ctx) -> None:
    """📱 确认手机号 on a message the bot sent on its own: bring up the keyboard."""
    await answer_callback(update)
    await phone_command(update, ctx)


@guarded
async def receive_contact(update: Update, ctx: Ctx) -> None:
    """A shared contact: one's own, matching the roster → confirmed, keyboard removed."""
    loc = await locale_of(update, ctx)
    message = update.effective_message
    chat = update.effective_chat
    if message is None or message.contact is None or chat is None:
        return
    contact = message.contact
    try:
        own = contact.user_id is not None and contact.user_id == user_id(update)
        result = await ctx.svc.phones.confirm(
            await actor_of(update, ctx), contact.phone_number, own=own
        )
    except DomainError as exc:
        again = exc.key in ("resphone.not_own", "resphone.mismatch")  # they may try again
        keyboard = contact_keyboard(loc) if again else ReplyKeyboardRemove()
        await chat.send_message(exc.render(loc), reply_markup=keyboard)
        return
    if result.already:
        text = t(loc, "resphone.already")
    elif not result.ongoing:
        text = t(loc, "resphone.confirmed")
    else:  # their ballots in the evaluations under way count from now on
        tz = ctx.svc.clock.tz
        lines = [t(loc, "resphone.confirmed.now")]
        for ongoing in result.ongoing:
            key = "resphone.ongoing.voted" if ongoing.voted else "resphone.ongoing.vote"
            closes = format_moment(ongoing.closes_at, tz, loc)
            lines.append(t(loc, key, org=ongoing.org.name, closes=closes))
        text = "\n".join(lines)
        ctx.svc.outbox.wake()  # the board's turnout counts them now
    await chat.send_message(text, reply_markup=ReplyKeyboardRemove())


def build() -> list[BaseHandler[Update, Ctx, object]]:
    """/phone and shared contacts (private chats)."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("phone", phone_command, filters=private),
        CallbackQueryHandler(ask_button_tapped, pattern=feature_pattern(features.RESIDENT_PHONE)),
        MessageHandler(filters.CONTACT & private, receive_contact),
    ]
