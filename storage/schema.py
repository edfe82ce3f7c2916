"""SQLAlchemy Core tables. Portable SQL only: the same schema must run on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class AwareDateTime(TypeDecorator[datetime]):
    """Stores UTC, returns aware datetimes on every engine (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: every datetime must be timezone-aware")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def _ts(name: str, nullable: bool = True) -> Column[datetime]:
    return Column(name, AwareDateTime(), nullable=nullable)


orgs = Table(
    "orgs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("type", String(20), nullable=False),
    Column("parent_id", Integer, ForeignKey("orgs.id"), nullable=True, index=True),
    Column("board_chat_id", BigInteger, nullable=True),
)

people = Table(
    "people",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("org_id", Integer, ForeignKey("orgs.id"), nullable=False, index=True),
    Column("role", String(20), nullable=False),
    Column("phone", String(32), nullable=False, default=""),
    Column("cadre", Boolean, nullable=False, default=False),
    Column("post", String(200), nullable=True),
    Column("oral", Boolean, nullable=False, default=False),
    Column("origin_org_id", Integer, ForeignKey("orgs.id"), nullable=True),
    Column("residence_org_id", Integer, ForeignKey("orgs.id"), nullable=True),
    Column("tg_user_id", BigInteger, nullable=True, unique=True),
    Column("locale", String(10), nullable=True),
    Column("is_admin", Boolean, nullable=False, default=False),
    _ts("created_at", nullable=False),
    _ts("updated_at", nullable=False),
    UniqueConstraint("org_id", "name", "phone", name="uq_people_identity"),
)

invites = Table(
    "invites",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("person_id", Integer, ForeignKey("people.id"), nullable=False, index=True),
    _ts("created_at", nullable=False),
    _ts("expires_at", nullable=False),
    _ts("used_at"),
    Column("used_by_tg", BigInteger, nullable=True),
)

pledges = Table(
    "pledges",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("number", String(32), nullable=True, unique=True),
    Column("pledger_kind", String(10), nullable=False),
    Column("person_id", Integer, ForeignKey("people.id"), nullable=True, index=True),
    Column("org_id", Integer, ForeignKey("orgs.id"), nullable=False, index=True),
    Column("drafter_id", Integer, ForeignKey("people.id"), nullable=False, index=True),
    Column("horizon", String(12), nullable=True),
    Column("status", String(12), nullable=False, index=True),
    Column("is_oral", Boolean, nullable=False, default=False),
    Column("version", Integer, nullable=False, default=1),
    Column("pending_item", JSON, nullable=True),
    Column("last_comment", Text, nullable=True),
    Column("submitted_snapshot", JSON, nullable=True),
    Column("published_snapshot", JSON, nullable=True),
    Column("cadre_gaps", JSON, nullable=True),
    _ts("created_at", nullable=False),
    _ts("updated_at", nullable=False),
    _ts("submitted_at"),
    _ts("published_at"),
)

pledge_items = Table(
    "pledge_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("pledge_id", Integer, ForeignKey("pledges.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("category", String(20), nullable=False),
    Column("content", Text, nullable=False),
    Column("target", Text, nullable=False),
    Column("deadline", Date, nullable=False),
    Column("responsible", String(100), nullable=False),
    # The reminder tick's watermark: no reminder of this item is due before this day (NULL:
    # look now). Reset when the deadline changes; the reminder log still guards exactly-once.
    Column("remind_from", Date, nullable=True),
    Index("ix_pledge_items_pledge_position", "pledge_id", "position"),
    Index("ix_pledge_items_deadline", "deadline"),  # the reminder tick scans by deadline
)

reviews = Table(
    "reviews",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("pledge_id", Integer, ForeignKey("pledges.id"), nullable=False, index=True),
    Column("reviewer_id", Integer, ForeignKey("people.id"), nullable=False),
    Column("action", String(10), nullable=False),
    Column("comment", Text, nullable=True),
    Column("version", Integer, nullable=False),
    _ts("at", nullable=False),
)

# Numbering of published pledges: one counter row per (prefix) so numbers never collide.
counters = Table(
    "counters",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Integer, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("chat_id", BigInteger, nullable=False),
    Column("method", String(32), nullable=False),
    Column("payload", JSON, nullable=False),
    # A posted message that may later be edited in place is named by ref (e.g. board:pledge:7).
    Column("ref", String(64), nullable=True, index=True),
    Column("status", String(10), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    _ts("not_before", nullable=False),
    Column("message_id", BigInteger, nullable=True),
    Column("error", Text, nullable=True),
    Column("sender_id", Integer, ForeignKey("people.id"), nullable=True),
    Column("dedupe_key", String(128), nullable=True, unique=True),
    # A broadcast message is tracked to its recipient for the delivery report.
    Column("broadcast_id", Integer, nullable=True, index=True),
    _ts("created_at", nullable=False),
    _ts("sent_at"),
    Index("ix_outbox_status_not_before", "status", "not_before"),
)

posted_messages = Table(
    "posted_messages",
    metadata,
    Column("ref", String(64), primary_key=True),
    Column("chat_id", BigInteger, nullable=False),
    Column("message_id", BigInteger, nullable=False),
)

processed_updates = Table(
    "processed_updates",
    metadata,
    Column("update_id", BigInteger, primary_key=True),
    _ts("at", nullable=False),
)

# PTB persistence (conversation states, user_data) lives here, in the same database.
kv = Table(
    "kv",
    metadata,
    Column("namespace", String(64), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("value", JSON, nullable=False),
)

# ---- fulfilment (践诺): progress records, verification, the ledger ------------------------

item_progress = Table(
    "item_progress",
    metadata,
    Column(
        "item_id", Integer, ForeignKey("pledge_items.id", ondelete="CASCADE"), primary_key=True
    ),
    # open → claimed (the pledger says done) → fulfilled (verified: 兑现销号); sent back → open
    Column("status", String(12), nullable=False, default="open"),
    _ts("last_progress_at"),
    _ts("fulfilled_at"),
    Column("verified_by", Integer, ForeignKey("people.id"), nullable=True),
    # The local date of the accepted claim: on time when done_on <= the item's deadline
    # (a date compared with a date, portable; judged against the deadline as it stands).
    Column("done_on", Date, nullable=True),
)

progress_entries = Table(
    "progress_entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("pledge_items.id", ondelete="CASCADE"), nullable=False),
    Column("pledge_id", Integer, ForeignKey("pledges.id"), nullable=False, index=True),
    Column("org_id", Integer, ForeignKey("orgs.id"), nullable=False),
    Column("author_id", Integer, ForeignKey("people.id"), nullable=False),
    Column("text", Text, nullable=False),
    Column("evidence", JSON, nullable=False, default=list),
    Column("claims_fulfilled", Boolean, nullable=False, default=False),
    # open / accepted / sent_back, for a claim; "note" for a plain progress record
    Column("verdict", String(12), nullable=False, default="note"),
    Column("verdict_comment", Text, nullable=True),
    Column("verified_by", Integer, ForeignKey("people.id"), nullable=True),
    _ts("verified_at"),
    Column("month", String(7), nullable=False),  # YYYY-MM: the monthly record (记实)
    _ts("created_at", nullable=False),
    Index("ix_progress_item_created", "item_id", "created_at"),
    Index("ix_progress_org_month", "org_id", "month"),
    Index("ix_progress_author_month", "author_id", "month"),  # a member's monthly record
)

# ---- reminders: one row per reminder ever queued, so none is sent twice -------------------

reminder_log = Table(
    "reminder_log",
    metadata,
    Column("key", String(160), primary_key=True),
    Column("person_id", Integer, ForeignKey("people.id"), nullable=True),
    _ts("queued_at", nullable=False),
)

reminder_prefs = Table(
    "reminder_prefs",
    metadata,
    Column("person_id", Integer, ForeignKey("people.id"), primary_key=True),
    Column("muted", Boolean, nullable=False, default=False),
)

# ---- broadcasts (通知) with delivery reports and acknowledgements -------------------------

broadcasts = Table(
    "broadcasts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", Integer, ForeignKey("people.id"), nullable=False, index=True),
    Column("org_id", Integer, ForeignKey("orgs.id"), nullable=False),
    Column("audience", JSON, nullable=False),
    Column("text", Text, nullable=False),
    Column("media", JSON, nullable=True),  # {"kind": "photo"|"document", "file_id": ...}
    Column("recipients", Integer, nullable=False, default=0),
    _ts("created_at", nullable=False),
)

broadcast_recipients = Table(
    "broadcast_recipients",
    metadata,
    Column("broadcast_id", Integer, ForeignKey("broadcasts.id"), primary_key=True),
    Column("person_id", Integer, ForeignKey("people.id"), primary_key=True),
    # None: the person had not joined the bot when the notice went out (not reachable).
    Column("chat_id", BigInteger, nullable=True),
    Column("round", Integer, nullable=False, default=1),
    Column("acked_at", AwareDateTime(), nullable=True),
)
