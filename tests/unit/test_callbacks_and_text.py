"""Callback data stays within Telegram's 64 bytes; long texts split at 4096."""

from __future__ import annotations

import pytest

from bot import callbacks as cb
from bot.domain.notify import TEXT_LIMIT, message_row, split_text


def test_build_and_parse_round_trip() -> None:
    data = cb.build(cb.REVIEW, "ok", 123456789, 42)
    parsed = cb.parse(data)
    assert parsed is not None
    assert (parsed.feature, parsed.action, parsed.int_arg(0), parsed.int_arg(1)) == (
        "rv",
        "ok",
        123456789,
        42,
    )


def test_oversized_callback_data_is_refused_at_build_time() -> None:
    with pytest.raises(ValueError, match="too long"):
        cb.build(cb.DRAFT, "tpl", "字" * 30)


@pytest.mark.parametrize("data", [None, "", "nocolon"])
def test_malformed_callback_data(data: str | None) -> None:
    assert cb.parse(data) is None


def test_split_text_keeps_everything_and_respects_the_limit() -> None:
    text = "\n".join(f"第{i}行：" + "内容" * 40 for i in range(200))
    parts = split_text(text)
    assert len(parts) > 1
    assert all(0 < len(p) <= TEXT_LIMIT for p in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")


def test_split_text_without_line_breaks() -> None:
    parts = split_text("字" * 10_000)
    assert [len(p) for p in parts] == [4096, 4096, 1808]


def test_split_text_counts_utf16_code_units_as_telegram_does() -> None:
    # 📢 is one character but two UTF-16 code units: Telegram counts the units.
    text = "📢 通知｜黄思村党总支 沈宝方\n\n" + "为民服务办实事，" * 625
    parts = split_text(text)
    assert [len(p.encode("utf-16-le")) // 2 for p in parts] == [4096, len(text) + 1 - 4096]
    assert "".join(parts) == text
    emoji = split_text("🌱" * 3000)  # 6000 units: no part ends in half a pair
    assert [len(p) for p in emoji] == [2048, 952]


def test_long_message_rows_put_buttons_on_the_last_part() -> None:
    from datetime import UTC, datetime

    buttons = [[{"text": "ok", "callback_data": "x:y"}]]
    rows = message_row(1, "字" * 5000, datetime.now(UTC), buttons=buttons, ref="board:1")
    assert len(rows) == 2
    assert "buttons" not in rows[0]["payload"] and rows[1]["payload"]["buttons"] == buttons
    assert all(r["ref"] is None for r in rows)  # a split post cannot be edited in place
