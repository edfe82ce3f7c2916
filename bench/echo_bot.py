"""A bare python-telegram-bot echo bot: the baseline process of bench_district.

    JIANNUO_BOT_TOKEN=… JIANNUO_BOT_API_URL=… python -m bench.echo_bot

The same library, interpreter and polling as the bot, and nothing of Jiannuo: no database,
no handlers but one that repeats the text. Its start-up time and resident memory are the
floor the bot's are compared with.
"""

from __future__ import annotations

import os

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters


async def echo(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
    """Repeat the text."""
    if update.effective_message is not None and update.effective_message.text:
        await update.effective_message.reply_text(update.effective_message.text)


def main() -> None:
    """Poll until SIGTERM."""
    app = (
        ApplicationBuilder()
        .token(os.environ["JIANNUO_BOT_TOKEN"])
        .base_url(os.environ["JIANNUO_BOT_API_URL"])
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.run_polling(allowed_updates=[Update.MESSAGE])


if __name__ == "__main__":
    main()
