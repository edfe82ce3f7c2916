"""The Telegram edge of actions: callback data as before (``feature:action:args``, ≤ 64 bytes),
decoded back, anything malformed or over-long refused; stored rows of either shape render."""

from __future__ import annotations

import pytest

from bot.channels.telegram.callbacks import (
    MAX_BYTES,
    actions_pattern,
    decode,
    encode,
    inline_keyboard,
    markup,
)
from bot.chat.actions import Action, Button, action, stored


def test_an_action_is_encoded_as_buttons_already_sent_carry_it() -> None:
    assert encode(action("rv", "ok", 123456789, 42)) == "rv:ok:123456789:42"
    assert decode("rv:ok:123456789:42") == Action("rv", "ok", ("123456789", "42"))
    assert decode("pg:pend") == Action("pg", "pend")


def test_an_action_beyond_telegrams_64_bytes_is_refused_when_encoded() -> None:
    fits = action("pd", "tpl", "字" * 19)  # "pd:tpl:" and 19 three-byte characters: 64
    assert len(encode(fits).encode()) <= MAX_BYTES
    with pytest.raises(ValueError, match="too long"):
        encode(action("pd", "tpl", "字" * 30))


@pytest.mark.parametrize("data", [None, "", "nocolon", ":x", "x:", "pd:" + "9" * 64])
def test_malformed_or_over_long_callback_data_decodes_to_nothing(data: str | None) -> None:
    assert decode(data) is None


def test_a_pattern_routes_only_the_named_actions() -> None:
    import re

    routed = re.compile(actions_pattern("ev", "cly", "nv"))
    assert routed.match("ev:cly:3") and routed.match("ev:nv")
    assert not routed.match("ev:clyx:3") and not routed.match("rv:cly:3")


def test_stored_rows_of_both_shapes_render_the_same_keyboard() -> None:
    """A row queued before buttons were neutral (Bot API dicts) renders as it did."""
    neutral = [
        [Button("通过", action=action("rv", "ok", 7, 2)), Button("看板", url="https://x.org")]
    ]
    old = [
        [{"text": "通过", "callback_data": "rv:ok:7:2"}, {"text": "看板", "url": "https://x.org"}]
    ]
    expected = [
        [{"text": "通过", "callback_data": "rv:ok:7:2"}, {"text": "看板", "url": "https://x.org"}]
    ]
    assert inline_keyboard(neutral) == inline_keyboard(stored(neutral)) == expected
    assert inline_keyboard(old) == expected
    keyboard = markup(stored(neutral))
    assert keyboard is not None
    assert keyboard.inline_keyboard[0][0].callback_data == "rv:ok:7:2"
    assert markup([]) is None


@pytest.mark.parametrize(
    "queued", [{"text": "x", "callback_data": "nocolon"}, {"text": "x"}, {"label": "x"}]
)
def test_a_queued_button_that_is_none_of_ours_is_refused(queued: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        inline_keyboard([[queued]])
