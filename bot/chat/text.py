"""Splitting a long text into messages a channel takes whole.

Lengths are counted in UTF-16 code units (an emoji such as 📢 counts two), as Telegram counts
them; a channel that counts otherwise gives a limit that holds in its own units.
"""

from __future__ import annotations


def utf16_len(text: str) -> int:
    """The length of ``text`` in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _fitting(text: str, limit: int) -> int:
    """How many characters of ``text`` fit in ``limit`` UTF-16 code units (pairs kept whole)."""
    head = text[:limit]
    if utf16_len(head) <= limit:
        return len(head)
    # Characters outside the BMP take two units: keep whole ones (a cut pair is dropped).
    return len(head.encode("utf-16-le")[: 2 * limit].decode("utf-16-le", errors="ignore"))


def split_text(text: str, limit: int) -> list[str]:
    """Split a long text into parts of at most ``limit`` UTF-16 code units, preferring line
    breaks; nothing is lost but the line breaks a cut falls on."""
    parts: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        hard = _fitting(rest, limit)
        cut = rest.rfind("\n", 0, hard)
        if cut <= hard // 2:
            cut = hard
        parts.append(rest[:cut])
        rest = rest[cut:].lstrip("\n")
    if rest or not parts:
        parts.append(rest)
    return parts


def cut_text(text: str, limit: int) -> str:
    """``text`` whole if it fits in ``limit`` units, else its head and an ellipsis (a message
    that is edited in place later cannot be split)."""
    if utf16_len(text) <= limit:
        return text
    head = text[: _fitting(text, limit - 2)]
    cut = head.rfind("\n")
    return (head[:cut] if cut > len(head) // 2 else head) + "\n…"
