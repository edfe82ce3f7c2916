"""Long texts split at Telegram's 4096 UTF-16 code units (the renderer's limit), at line breaks."""

from __future__ import annotations

from bot.channels.telegram.renderer import TEXT_LIMIT
from bot.chat.text import split_text


def test_split_text_keeps_everything_and_respects_the_limit() -> None:
    text = "\n".join(f"第{i}行：" + "内容" * 40 for i in range(200))
    parts = split_text(text, TEXT_LIMIT)
    assert len(parts) > 1
    assert all(0 < len(p) <= TEXT_LIMIT for p in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")


def test_split_text_without_line_breaks() -> None:
    parts = split_text("字" * 10_000, TEXT_LIMIT)
    assert [len(p) for p in parts] == [4096, 4096, 1808]


def test_split_text_counts_utf16_code_units_as_telegram_does() -> None:
    # 📢 is one character but two UTF-16 code units: Telegram counts the units.
    text = "📢 通知｜黄思村党总支 沈宝方\n\n" + "为民服务办实事，" * 625
    parts = split_text(text, TEXT_LIMIT)
    assert [len(p.encode("utf-16-le")) // 2 for p in parts] == [4096, len(text) + 1 - 4096]
    assert "".join(parts) == text
    emoji = split_text("🌱" * 3000, TEXT_LIMIT)  # 6000 units: no part ends in half a pair
    assert [len(p) for p in emoji] == [2048, 952]
