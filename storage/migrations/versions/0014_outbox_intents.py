"""outbox rows are channel-neutral intents: method → kind, buttons stored neutrally, parts_sent

Rows held Bot API calls (``method``: sendMessage, upsert, view, sendPoll, stopPoll,
sendPhoto, sendDocument, editMessageText, editMessageReplyMarkup, and Telegram's payloads).
They become intents (bot/chat/intents.py: message, view, ballot, close_ballot, edit, file),
which each channel renders. Pending rows are converted whole (payload and buttons: a button
``{"text", "callback_data": "f:a:x"}`` becomes ``{"label", "action": ["f", "a", "x"]}``);
settled rows keep their payloads (history) and get their kind. ``parts_sent`` counts the parts
of a message its channel split that were delivered.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-09 10:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_PENDING_VIEW = "method = 'view' AND status = 'pending'"
NEW_PENDING_VIEW = "kind = 'view' AND status = 'pending'"
# Settled rows: their kind from the method alone (a chart's photo names its renderer).
SETTLED_KIND = """
CASE kind
  WHEN 'sendMessage' THEN 'message'
  WHEN 'upsert' THEN 'message'
  WHEN 'sendDocument' THEN 'message'
  WHEN 'sendPhoto' THEN CASE WHEN CAST(payload AS TEXT) LIKE '%"render"%' THEN 'file'
                        ELSE 'message' END
  WHEN 'sendPoll' THEN 'ballot'
  WHEN 'stopPoll' THEN 'close_ballot'
  WHEN 'editMessageText' THEN 'edit'
  WHEN 'editMessageReplyMarkup' THEN 'edit'
  ELSE kind
END
"""
SETTLED_METHOD = """
CASE method
  WHEN 'message' THEN CASE WHEN ref IS NULL THEN 'sendMessage' ELSE 'upsert' END
  WHEN 'file' THEN 'sendPhoto'
  WHEN 'ballot' THEN 'sendPoll'
  WHEN 'close_ballot' THEN 'stopPoll'
  WHEN 'edit' THEN 'editMessageReplyMarkup'
  ELSE method
END
"""


def _outbox(column: str) -> sa.TableClause:
    return sa.table(
        "outbox",
        sa.column("id", sa.Integer),
        sa.column(column, sa.String),
        sa.column("payload", sa.JSON),
        sa.column("ref", sa.String),
        sa.column("status", sa.String),
    )


def neutral_buttons(rows: Any) -> Any:
    """Telegram's inline keyboard rows as neutral rows (label + action parts, or url)."""
    if not isinstance(rows, list):
        return rows
    out = []
    for row in rows:
        line = []
        for button in row if isinstance(row, list) else []:
            if not isinstance(button, dict) or "label" in button:
                line.append(button)
            elif button.get("url") is not None:
                line.append({"label": button.get("text", ""), "url": button["url"]})
            else:
                parts = str(button.get("callback_data") or "").split(":")
                line.append({"label": button.get("text", ""), "action": parts})
        out.append(line)
    return out


def telegram_buttons(rows: Any) -> Any:
    """Neutral rows back as Telegram's inline keyboard rows."""
    if not isinstance(rows, list):
        return rows
    out = []
    for row in rows:
        line = []
        for button in row if isinstance(row, list) else []:
            if not isinstance(button, dict) or "label" not in button:
                line.append(button)
            elif button.get("url") is not None:
                line.append({"text": button["label"], "url": button["url"]})
            else:
                data = ":".join(str(p) for p in button.get("action") or [])
                line.append({"text": button["label"], "callback_data": data})
        out.append(line)
    return out


def to_intent(method: str, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A pending row's (method, payload) as (kind, payload)."""
    new = dict(payload)
    if "buttons" in new:
        new["buttons"] = neutral_buttons(new["buttons"])
    if method in ("sendMessage", "upsert"):
        return "message", new
    if method == "view":
        return "view", new
    if method in ("sendPhoto", "sendDocument") and new.get("render"):
        new.setdefault("type", "photo" if method == "sendPhoto" else "document")
        return "file", new
    if method in ("sendPhoto", "sendDocument"):
        attachment: dict[str, Any] = {"type": "photo" if method == "sendPhoto" else "document"}
        if "file" in new:  # a stored file (revision 0012)
            attachment["file"] = new["file"]
        else:
            attachment["file_id"] = new.get("file_id")
        message: dict[str, Any] = {"text": new.get("caption") or "", "attachment": attachment}
        if new.get("buttons"):
            message["buttons"] = new["buttons"]
        return "message", message
    if method == "sendPoll":
        new.pop("is_anonymous", None)
        return "ballot", new
    if method == "stopPoll":
        return "close_ballot", new
    if method in ("editMessageText", "editMessageReplyMarkup"):
        return "edit", new
    return method, new  # unknown: its channel fails it with the reason, nothing is dropped


def to_method(kind: str, ref: str | None, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A pending row's (kind, payload) back as (method, payload) (long texts stay whole)."""
    new = dict(payload)
    if "buttons" in new:
        new["buttons"] = telegram_buttons(new["buttons"])
    if kind == "message":
        title, text = new.pop("title", None), new.get("text") or ""
        whole = f"{title}\n\n{text}" if title and text else (title or text)
        attachment = new.pop("attachment", None)
        if attachment:
            kind_of = attachment.get("type")
            old = {k: v for k, v in attachment.items() if k in ("file", "file_id")}
            old["caption"] = whole[:1024]
            if new.get("buttons"):
                old["buttons"] = new["buttons"]
            return ("sendPhoto" if kind_of == "photo" else "sendDocument"), old
        new["text"] = whole
        return ("upsert" if ref else "sendMessage"), new
    if kind == "file":
        return ("sendPhoto" if new.get("type", "photo") == "photo" else "sendDocument"), new
    if kind == "ballot":
        new["is_anonymous"] = False
        return "sendPoll", new
    if kind == "close_ballot":
        return "stopPoll", new
    if kind == "edit":
        return ("editMessageText" if "text" in new else "editMessageReplyMarkup"), new
    return kind, new


def _convert(column: str, convert: Any) -> None:
    """Convert the pending rows (in Python: their payloads change shape). An offline script
    (``alembic upgrade --sql``) has no rows to read: it is for an empty database."""
    if op.get_context().as_sql:
        return
    table = _outbox(column)
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(table.c.id, table.c[column], table.c.ref, table.c.payload).where(
            table.c.status == "pending"
        )
    ).all()
    changes = []
    for row_id, value, ref, payload in rows:
        new_value, new_payload = convert(value, ref, payload if isinstance(payload, dict) else {})
        changes.append({"b_id": row_id, "b_value": new_value, "b_payload": new_payload})
    for start in range(0, len(changes), 1000):  # executemany, in bounded chunks
        conn.execute(
            sa.update(table)
            .where(table.c.id == sa.bindparam("b_id"))
            .values({column: sa.bindparam("b_value"), "payload": sa.bindparam("b_payload")}),
            changes[start : start + 1000],
        )


def upgrade() -> None:
    """Apply this revision."""
    op.drop_index("uq_outbox_pending_view", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column(
            "method", new_column_name="kind", existing_type=sa.String(32), existing_nullable=False
        )
        batch.add_column(sa.Column("parts_sent", sa.Integer(), nullable=False, server_default="0"))
    _convert("kind", lambda method, _ref, payload: to_intent(method, payload))
    op.execute(f"UPDATE outbox SET kind = {SETTLED_KIND} WHERE status <> 'pending'")
    op.create_index(
        "uq_outbox_pending_view",
        "outbox",
        ["ref"],
        unique=True,
        sqlite_where=sa.text(NEW_PENDING_VIEW),
        postgresql_where=sa.text(NEW_PENDING_VIEW),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("uq_outbox_pending_view", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column(
            "kind", new_column_name="method", existing_type=sa.String(32), existing_nullable=False
        )
        batch.drop_column("parts_sent")
    _convert("method", to_method)
    op.execute(f"UPDATE outbox SET method = {SETTLED_METHOD} WHERE status <> 'pending'")
    op.create_index(
        "uq_outbox_pending_view",
        "outbox",
        ["ref"],
        unique=True,
        sqlite_where=sa.text(OLD_PENDING_VIEW),
        postgresql_where=sa.text(OLD_PENDING_VIEW),
    )
