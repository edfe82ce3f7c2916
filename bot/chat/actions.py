"""Actions: what a button asks for, as (feature, action, arguments), channel-neutral.

The domain builds :class:`Button` rows carrying an :class:`Action`; each channel encodes the
action in its own form (Telegram's callback data ≤ 64 bytes, a WeCom card key ≤ 1024 bytes, a
numbered text reply) and decodes it back. Decoding is the channel's job and refuses anything
malformed; whether an action is still valid (stale, someone else's, forged arguments) is the
handler's and the service's job, as before.

Arguments are short strings (ids, versions, codes); ``SEPARATOR`` never occurs inside a part,
so every channel can join and split them losslessly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SEPARATOR = ":"


@dataclass(frozen=True)
class Action:
    """A parsed or built action: feature, action name and its arguments."""

    feature: str
    name: str
    args: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for part in (self.feature, self.name, *self.args):
            if not isinstance(part, str) or SEPARATOR in part:
                raise ValueError(f"bad action part: {part!r}")
        if not self.feature or not self.name:
            raise ValueError("an action needs a feature and a name")

    def int_arg(self, index: int) -> int:
        """An integer argument; ValueError if missing or malformed."""
        return int(self.args[index])

    def parts(self) -> list[str]:
        """Feature, name and arguments in order (what a channel joins)."""
        return [self.feature, self.name, *self.args]


def action(feature: str, name: str, *args: object) -> Action:
    """Build an action; arguments are turned into strings."""
    return Action(feature, name, tuple(str(a) for a in args))


def from_parts(parts: Sequence[str]) -> Action | None:
    """The action a channel decoded into parts; None for anything malformed."""
    if len(parts) < 2:
        return None
    try:
        return Action(parts[0], parts[1], tuple(parts[2:]))
    except ValueError:
        return None


@dataclass(frozen=True)
class Button:
    """A button a person can press: a label and the action it asks for (or a link)."""

    label: str
    action: Action | None = None
    url: str | None = None

    def __post_init__(self) -> None:
        if (self.action is None) == (self.url is None):
            raise ValueError("a button has exactly one of an action or a url")


Keyboard = Sequence[Sequence[Button]]
Rows = list[list[Button]]
"""A keyboard being built (rows appended)."""
StoredRows = list[list[dict[str, Any]]]
"""Buttons as an outbox payload keeps them: ``{"label", "action": [parts]}`` or
``{"label", "url"}`` — plain JSON that every channel's renderer reads back."""
AnyRows = Sequence[Sequence[Button | Mapping[str, Any]]]
"""Buttons, or rows as a payload keeps them (what a renderer accepts)."""


def stored(rows: Keyboard) -> StoredRows:
    """Rows of buttons as an outbox payload keeps them."""
    return [[_store(button) for button in row] for row in rows]


def _store(button: Button) -> dict[str, Any]:
    if button.action is not None:
        return {"label": button.label, "action": button.action.parts()}
    return {"label": button.label, "url": button.url}


def read_button(value: Button | Mapping[str, Any]) -> Button:
    """A button back from a payload (or a button already); ValueError if it is not one."""
    if isinstance(value, Button):
        return value
    label = value.get("label")
    if not isinstance(label, str):
        raise ValueError(f"a stored button without a label: {value!r}")
    if value.get("url") is not None:
        return Button(label, url=str(value["url"]))
    parts = value.get("action")
    found = from_parts(parts) if isinstance(parts, list) else None
    if found is None:
        raise ValueError(f"a stored button without a valid action: {value!r}")
    return Button(label, action=found)


def read_rows(rows: AnyRows) -> list[list[Button]]:
    """Rows of buttons back from a payload."""
    return [[read_button(value) for value in row] for row in rows]
