"""Outbox rows: one intent each (``bot.chat.intents``), addressed to a chat."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.chat.intents import KINDS, VIEW


def intent_row(
    chat_id: int,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    *,
    ref: str | None = None,
    sender_id: int | None = None,
    dedupe_key: str | None = None,
    broadcast_id: int | None = None,
) -> dict[str, Any]:
    """A complete outbox row (a batch insert needs the same columns in every row)."""
    if kind not in KINDS:
        raise ValueError(f"unknown intent {kind!r}")
    return {
        "chat_id": chat_id,
        "kind": kind,
        "payload": payload,
        "ref": ref,
        "status": "pending",
        "attempts": 0,
        "parts_sent": 0,
        "not_before": now,
        "sender_id": sender_id,
        "dedupe_key": dedupe_key,
        "broadcast_id": broadcast_id,
        "created_at": now,
    }


def view_row(chat_id: int, ref: str, payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A live view under ``ref``: rendered when it is sent (``payload["view"]`` names it)."""
    return intent_row(chat_id, VIEW, payload, now, ref=ref)
