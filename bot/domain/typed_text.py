"""What a person typed, as the bot reads it: invisible characters at its ends removed.

Every typed answer and caption passes through ``visible`` once, at the edge where it comes
in (handlers/common.text_of, caption_of), so each step's "empty" check refuses a text that
shows nothing: zero-width spaces and joiners, the byte-order mark, the word joiner, the
ideographic space, a Hangul or Braille blank. Inside a text they stay (a zero-width joiner
binds an emoji sequence).
"""

from __future__ import annotations

import unicodedata

# Characters Unicode does not class as spaces or format characters, yet which show nothing.
_BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf"})


def invisible(ch: str) -> bool:
    """Whether a character shows nothing on its own (a space, a control or format char)."""
    return (
        ch.isspace() or ch in _BLANK_LOOKING or unicodedata.category(ch) in _INVISIBLE_CATEGORIES
    )


def visible(text: str | None) -> str:
    """The text without the invisible characters at its start and end ('' if nothing shows)."""
    if not text:
        return ""
    start, end = 0, len(text)
    while start < end and invisible(text[start]):
        start += 1
    while end > start and invisible(text[end - 1]):
        end -= 1
    return text[start:end]
