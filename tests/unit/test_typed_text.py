"""What a person typed, as the bot reads it: nothing that shows nothing is kept at its ends."""

from __future__ import annotations

import pytest

from bot.domain.typed_text import visible


@pytest.mark.parametrize(
    "blank",
    [
        "\u200b",  # zero-width space
        "\u200c\u200d",  # zero-width non-joiner, joiner
        "\ufeff",  # byte-order mark
        "\u2060",  # word joiner
        "\u3000",  # ideographic space
        "\u00a0\u202f",  # no-break spaces
        "\u3164\u2800",  # Hangul filler, Braille blank
        "\u200e\u200f",  # direction marks
        " \n\t\r",
    ],
)
def test_a_text_of_only_invisible_characters_reads_as_empty(blank: str) -> None:
    assert visible(blank) == ""
    assert visible(f"{blank}每月学习{blank}") == "每月学习"


def test_inside_a_text_they_stay() -> None:
    family = "家人👨\u200d👩\u200d👧"  # the joiners bind the emoji into one
    assert visible(family) == family
    assert visible("第一行\n\n第二行") == "第一行\n\n第二行"
    assert visible(None) == ""
