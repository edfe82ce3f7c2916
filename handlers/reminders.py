"""/mute: turn routine reminders off or on (deadline and overdue reminders always come)."""

from __future__ import annotations

from bot.chat.events import Command
from bot.chat.router import Router, Turn
from bot.i18n import t

router = Router()


@router.command("mute")
async def toggle_mute(ev: Command, turn: Turn) -> None:
    """Flip the person's reminder setting and say what it is now."""
    muted = await turn.svc.reminders.toggle_mute(ev.person)
    await turn.out.reply(t(turn.locale, "reminder.muted" if muted else "reminder.unmuted"))
