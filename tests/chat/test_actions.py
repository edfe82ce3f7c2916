"""The neutral action: built from parts, refused when a part could not survive a channel."""

from __future__ import annotations

import pytest

from bot.chat.actions import Action, Button, action, from_parts, read_button, read_rows, stored


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


def test_buttons_are_stored_as_plain_parts_and_read_back() -> None:
    rows = [
        [Button("通过", action=action("rv", "ok", 7, 2))],
        [Button("看板", url="https://x.org")],
    ]
    kept = stored(rows)
    assert kept == [
        [{"label": "通过", "action": ["rv", "ok", "7", "2"]}],
        [{"label": "看板", "url": "https://x.org"}],
    ]
    assert read_rows(kept) == rows


@pytest.mark.parametrize(
    "value", [{"label": "x"}, {"label": "x", "action": ["nocolon"]}, {"action": ["a", "b"]}]
)
def test_a_stored_button_without_a_label_or_a_valid_action_is_refused(
    value: dict[str, object],
) -> None:
    with pytest.raises(ValueError):
        read_button(value)
