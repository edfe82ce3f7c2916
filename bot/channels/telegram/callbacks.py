"""Actions as Telegram callback data: ``feature:action[:arg…]``, at most 64 bytes.

The encoding is the one buttons carried before actions were channel-neutral, so a button
already sent keeps working after a deploy. Decoding refuses anything malformed or longer than
Telegram allows (a tampered client); whether a well-formed action is still valid is the
handler's and the service's business.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.chat.actions import SEPARATOR, Action, AnyRows, Button, from_parts, read_button

MAX_BYTES = 64


def encode(action: Action) -> str:
    """The callback data of an action; ValueError beyond Telegram's 64 bytes."""
    data = SEPARATOR.join(action.parts())
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data too long: {data!r}")
    return data


def decode(data: str | None) -> Action | None:
    """The action a button's callback data asks for; None for anything malformed."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    return from_parts(data.split(SEPARATOR))


def feature_pattern(feature: str) -> str:
    """The regex that routes a feature's buttons to its handler."""
    return rf"^{feature}{SEPARATOR}"


def actions_pattern(feature: str, *names: str) -> str:
    """The regex that routes some of a feature's actions to one handler."""
    return rf"^{feature}{SEPARATOR}({'|'.join(names)})({SEPARATOR}|$)"


def read_button_or_old(value: Button | Mapping[str, Any]) -> Button:
    """A button of a payload; rows queued before buttons were neutral hold the Bot API's own
    ``{"text", "callback_data"}`` (or ``{"text", "url"}``) and still render, so the messages
    pending at a deploy go out with the buttons they had. ValueError for anything else."""
    if isinstance(value, Mapping) and "label" not in value and isinstance(value.get("text"), str):
        if value.get("url") is not None:
            return Button(value["text"], url=str(value["url"]))
        found = decode(value.get("callback_data"))
        if found is None:
            raise ValueError(f"a queued button without valid callback data: {value!r}")
        return Button(value["text"], action=found)
    return read_button(value)


def inline_keyboard(rows: AnyRows) -> list[list[dict[str, str]]]:
    """The Bot API's ``inline_keyboard`` for these rows (neutral buttons or stored ones)."""
    keyboard: list[list[dict[str, str]]] = []
    for row in rows:
        line: list[dict[str, str]] = []
        for button in map(read_button_or_old, row):
            if button.action is not None:
                line.append({"text": button.label, "callback_data": encode(button.action)})
            else:
                line.append({"text": button.label, "url": str(button.url)})
        keyboard.append(line)
    return keyboard


def markup(rows: AnyRows | None) -> InlineKeyboardMarkup | None:
    """PTB's inline keyboard for these rows; None without buttons."""
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    b["text"], callback_data=b.get("callback_data"), url=b.get("url")
                )
                for b in row
            ]
            for row in inline_keyboard(rows)
        ]
    )
