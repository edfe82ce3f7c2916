"""The neutral action: built from parts, refused when a part could not survive a channel."""

from __future__ import annotations

import pytest

from bot.chat.actions import Action, Button, action, from_parts


def test_an_action_keeps_its_parts_as_strings() -> None:
    built = action("pd", "hz", 7, 3, "annual")
    assert built == Action("pd", "hz", ("7", "3", "annual"))
    assert built.int_arg(0) == 7
    assert from_parts(built.parts()) == built


@pytest.mark.parametrize("parts", [[], ["pd"], ["", "x"], ["pd", ""], ["pd", "a:b"]])
def test_malformed_parts_decode_to_nothing(parts: list[str]) -> None:
    assert from_parts(parts) is None


def test_a_separator_inside_an_argument_is_refused_when_built() -> None:
    with pytest.raises(ValueError):
        action("pd", "hz", "a:b")


def test_a_button_has_an_action_or_a_link_never_both() -> None:
    Button("通过", action=action("rv", "ok", 1))
    Button("看板", url="https://example.org/board")
    with pytest.raises(ValueError):
        Button("?")
    with pytest.raises(ValueError):
        Button("?", action=action("rv", "ok", 1), url="https://example.org")
