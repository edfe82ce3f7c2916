"""Jiannuo's file store: stored files and each channel's upload ids; today's Telegram file
ids carried over

Before this revision evidence photos and files, a broadcast's media and a paper ballot box's
tally sheet were kept as Telegram file_ids, which cannot be downloaded here (no network at
migration time). Each distinct file_id becomes a stored file *held by Telegram only* (no bytes
yet, ``held_by = 'telegram'``) with that file_id as its Telegram upload id: it is sent by that id
as before, and the bot fetches its bytes when it runs with Telegram
(bot/channels/telegram/files.py). The rows that named a file_id name the stored file instead:
progress_entries.evidence, broadcasts.media, paper_boxes.photo_file, pending outbox rows of a
photo or file, and the dialogs open in PTB's persisted user_data (kv).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 10:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "stored_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("media_type", sa.String(length=127), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("held_by", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stored_files")),
    )
    with op.batch_alter_table("stored_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stored_files_sha256"), ["sha256"], unique=False)
    op.create_table(
        "file_uploads",
        sa.Column("stored_file_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("upload_id", sa.String(length=255), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["stored_file_id"],
            ["stored_files.id"],
            name=op.f("fk_file_uploads_stored_file_id_stored_files"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("stored_file_id", "channel", name=op.f("pk_file_uploads")),
    )
    if context.is_offline_mode():
        # A script printed for an administrator cannot rewrite JSON rows portably: it refuses
        # to run over a database that has file ids to carry (migrate that one online).
        op.execute(OFFLINE_GUARD)
        _paper_boxes_column(None, None)
    else:
        _carry_over(op.get_bind())


OFFLINE_GUARD = """DO $$ BEGIN
IF EXISTS (SELECT 1 FROM paper_boxes)
   OR EXISTS (SELECT 1 FROM progress_entries WHERE evidence::text LIKE '%file_id%')
   OR EXISTS (SELECT 1 FROM broadcasts WHERE media::text LIKE '%file_id%')
   OR EXISTS (SELECT 1 FROM outbox WHERE status = 'pending' AND payload::text LIKE '%file_id%')
   OR EXISTS (SELECT 1 FROM kv WHERE value::text LIKE '%file_id%')
THEN RAISE EXCEPTION 'revision 0012 carries Telegram file ids over: run alembic upgrade online';
END IF; END $$"""


# ---- the rows as this revision reads and writes them -----------------------------------------

_stored = sa.table(
    "stored_files",
    sa.column("id", sa.Integer),
    sa.column("sha256", sa.String),
    sa.column("size", sa.BigInteger),
    sa.column("media_type", sa.String),
    sa.column("name", sa.String),
    sa.column("held_by", sa.String),
    sa.column("created_at", sa.DateTime),
)
_uploads = sa.table(
    "file_uploads",
    sa.column("stored_file_id", sa.Integer),
    sa.column("channel", sa.String),
    sa.column("upload_id", sa.String),
    sa.column("uploaded_at", sa.DateTime),
)
_entries = sa.table(
    "progress_entries", sa.column("id", sa.Integer), sa.column("evidence", sa.JSON)
)
_broadcasts = sa.table("broadcasts", sa.column("id", sa.Integer), sa.column("media", sa.JSON))
_outbox = sa.table(
    "outbox",
    sa.column("id", sa.Integer),
    sa.column("method", sa.String),
    sa.column("payload", sa.JSON),
    sa.column("status", sa.String),
)
_kv = sa.table(
    "kv",
    sa.column("namespace", sa.String),
    sa.column("key", sa.String),
    sa.column("value", sa.JSON),
)
_boxes = sa.table(
    "paper_boxes",
    sa.column("evaluation_id", sa.Integer),
    sa.column("photo_file_id", sa.String),
    sa.column("photo_file", sa.Integer),
)

TELEGRAM = "telegram"
MEDIA_TYPES = {"photo": "image/jpeg", "document": "application/octet-stream"}


class _Carrier:
    """Telegram file_ids to stored files held by Telegram (one per distinct file_id)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.now = datetime.now(UTC).replace(tzinfo=None)  # stored as naive UTC
        self.known: dict[str, int] = {}

    def file(self, file_id: str, kind: str, name: str | None, size: int | None) -> int:
        """The stored file standing for this Telegram file_id."""
        if file_id in self.known:
            return self.known[file_id]
        result = self.conn.execute(
            sa.insert(_stored)
            .values(
                sha256=None,
                size=size or None,
                media_type=MEDIA_TYPES.get(kind, MEDIA_TYPES["document"]),
                name=name,
                held_by=TELEGRAM,
                created_at=self.now,
            )
            .returning(_stored.c.id)
        )
        stored_id = int(result.scalar_one())
        self.conn.execute(
            sa.insert(_uploads).values(
                stored_file_id=stored_id, channel=TELEGRAM, upload_id=file_id, uploaded_at=self.now
            )
        )
        self.known[file_id] = stored_id
        return stored_id

    def attachment(self, value: dict[str, Any]) -> dict[str, Any]:
        """An evidence entry or a broadcast's media: ``file_id`` becomes ``file``."""
        kind = str(value.get("kind") or "document")
        name = value.get("name", value.get("file_name"))
        size = value.get("size", value.get("file_size"))
        carried = {k: v for k, v in value.items() if k != "file_id"}
        carried["file"] = self.file(str(value["file_id"]), kind, name, size)
        return carried

    def walk(self, value: Any) -> Any:
        """A dialog's persisted data with every attachment carried over (and a paper box's
        tally-sheet photo, kept as a bare file_id under ``photo``)."""
        if isinstance(value, list):
            return [self.walk(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "file_id" in value and value.get("kind") in MEDIA_TYPES:
            return self.attachment(value)
        walked = {k: self.walk(v) for k, v in value.items()}
        if "eid" in walked and isinstance(walked.get("photo"), str):
            walked["photo"] = self.file(walked["photo"], "photo", None, None)
        return walked


def _carry_over(conn: Any) -> None:
    carrier = _Carrier(conn)
    for row in conn.execute(
        sa.select(_entries.c.id, _entries.c.evidence).order_by(_entries.c.id)
    ).all():
        evidence = row.evidence or []
        if any("file_id" in e for e in evidence):
            carried = [carrier.attachment(e) if "file_id" in e else e for e in evidence]
            conn.execute(
                sa.update(_entries).where(_entries.c.id == row.id).values(evidence=carried)
            )
    for row in conn.execute(sa.select(_broadcasts.c.id, _broadcasts.c.media)).all():
        if row.media and "file_id" in row.media:
            conn.execute(
                sa.update(_broadcasts)
                .where(_broadcasts.c.id == row.id)
                .values(media=carrier.attachment(row.media))
            )
    pending = sa.select(_outbox.c.id, _outbox.c.method, _outbox.c.payload).where(
        _outbox.c.status == "pending", _outbox.c.method.in_(("sendPhoto", "sendDocument"))
    )
    for row in conn.execute(pending).all():
        payload = dict(row.payload or {})
        if "file_id" not in payload:
            continue  # a chart drawn when it is sent
        kind = "photo" if row.method == "sendPhoto" else "document"
        payload["file"] = carrier.file(str(payload.pop("file_id")), kind, None, None)
        conn.execute(sa.update(_outbox).where(_outbox.c.id == row.id).values(payload=payload))
    for row in conn.execute(sa.select(_kv.c.namespace, _kv.c.key, _kv.c.value)).all():
        walked = carrier.walk(row.value)
        if walked != row.value:
            conn.execute(
                sa.update(_kv)
                .where(_kv.c.namespace == row.namespace, _kv.c.key == row.key)
                .values(value=walked)
            )
    _paper_boxes_column(conn, carrier)


def _paper_boxes_column(conn: Any, carrier: _Carrier | None) -> None:
    """The tally sheet's photo: a column naming a stored file instead of a file_id."""
    with op.batch_alter_table("paper_boxes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("photo_file", sa.Integer(), nullable=True))
    if conn is not None and carrier is not None:
        boxes = conn.execute(sa.select(_boxes.c.evaluation_id, _boxes.c.photo_file_id)).all()
        for row in boxes:
            stored = carrier.file(row.photo_file_id, "photo", None, None)
            conn.execute(
                sa.update(_boxes)
                .where(_boxes.c.evaluation_id == row.evaluation_id)
                .values(photo_file=stored)
            )
    with op.batch_alter_table("paper_boxes", schema=None) as batch_op:
        batch_op.alter_column("photo_file", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_paper_boxes_photo_file_stored_files"),
            "stored_files",
            ["photo_file"],
            ["id"],
        )
        batch_op.drop_column("photo_file_id")


def _telegram_ids(conn: Any) -> dict[int, str]:
    rows = conn.execute(
        sa.select(_uploads.c.stored_file_id, _uploads.c.upload_id).where(
            _uploads.c.channel == TELEGRAM
        )
    )
    return {int(r.stored_file_id): str(r.upload_id) for r in rows}


def _back(value: dict[str, Any], ids: dict[int, str]) -> dict[str, Any]:
    """``file`` back to a Telegram file_id (a file Telegram never saw: an empty one)."""
    back = {k: v for k, v in value.items() if k != "file"}
    back["file_id"] = ids.get(int(value["file"]), "")
    return back


def downgrade() -> None:
    """Revert this revision: files become Telegram file_ids again where Telegram has one."""
    conn = op.get_bind()
    ids = _telegram_ids(conn)
    for row in conn.execute(sa.select(_entries.c.id, _entries.c.evidence)).all():
        evidence = row.evidence or []
        if any("file" in e for e in evidence):
            back = [_back(e, ids) if "file" in e else e for e in evidence]
            conn.execute(sa.update(_entries).where(_entries.c.id == row.id).values(evidence=back))
    for row in conn.execute(sa.select(_broadcasts.c.id, _broadcasts.c.media)).all():
        if row.media and "file" in row.media:
            conn.execute(
                sa.update(_broadcasts)
                .where(_broadcasts.c.id == row.id)
                .values(media=_back(row.media, ids))
            )
    with op.batch_alter_table("paper_boxes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("photo_file_id", sa.String(length=255), nullable=True))
    for row in conn.execute(sa.select(_boxes.c.evaluation_id, _boxes.c.photo_file)).all():
        conn.execute(
            sa.update(_boxes)
            .where(_boxes.c.evaluation_id == row.evaluation_id)
            .values(photo_file_id=ids.get(int(row.photo_file), ""))
        )
    with op.batch_alter_table("paper_boxes", schema=None) as batch_op:
        batch_op.alter_column("photo_file_id", existing_type=sa.String(length=255), nullable=False)
        batch_op.drop_constraint(
            batch_op.f("fk_paper_boxes_photo_file_stored_files"), type_="foreignkey"
        )
        batch_op.drop_column("photo_file")
    op.drop_table("file_uploads")
    with op.batch_alter_table("stored_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stored_files_sha256"))
    op.drop_table("stored_files")
