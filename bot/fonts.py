"""The CJK font every image and document uses: shipped with the package, so a fresh machine
renders Chinese without any system font (a system Noto CJK, when present, covers the rare
characters outside GBK as a fallback)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

FONT_DIR = Path(__file__).parent / "assets" / "fonts"
CJK_FONT = FONT_DIR / "NotoSansSC-GBK.otf"
"""Noto Sans CJK SC Regular cut down to GBK (≈21,000 hanzi): names and text of the campaign."""

SYSTEM_CJK_CANDIDATES = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc"),
)


def cjk_font_path() -> Path:
    """The shipped CJK font (always present: it is package data)."""
    return CJK_FONT


@cache
def system_fallback_font() -> Path | None:
    """A full system CJK font for characters beyond GBK, if this machine has one."""
    for path in SYSTEM_CJK_CANDIDATES:
        if path.exists():
            return path
    return None
