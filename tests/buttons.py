"""Reading the buttons a view built: their labels, their actions, and whether Telegram can
carry them (its callback data holds 64 bytes)."""

from __future__ import annotations

from bot.channels.telegram.callbacks import MAX_BYTES, encode
from bot.chat.actions import Action, Keyboard


def labels(rows: Keyboard) -> list[str]:
    """Every button's label, row by row."""
    return [b.label for row in rows for b in row]


def actions(rows: Keyboard) -> list[Action]:
    """Every button's action, row by row (links have none)."""
    return [b.action for row in rows for b in row if b.action is not None]


def fit_telegram(rows: Keyboard) -> bool:
    """Whether Telegram can carry every button's action (encode refuses beyond 64 bytes)."""
    return all(len(encode(a).encode()) <= MAX_BYTES for a in actions(rows))
