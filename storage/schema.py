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
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from bot.chat import actor

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
    Column("locale", String(10), nullable=True),
    Column("is_admin", Boolean, nullable=False, default=False),
    # A resident shared their own Telegram contact and its number matched the roster phone.
    Column("phone_confirmed", Boolean, nullable=False, default=False, server_default=false()),
    _ts("created_at", nullable=False),
    _ts("updated_at", nullable=False),
    UniqueConstraint("org_id", "name", "phone", name="uq_people_identity"),
)

# A person's account on a channel (their Telegram id, WeCom userid …): one per channel each.
TELEGRAM = actor.TELEGRAM

accounts = Table(
    "accounts",
    metadata,
    Column("channel", String(20), primary_key=True),
    Column("external_id", String(128), primary_key=True),
    Column("person_id", Integer, ForeignKey("people.id"), nullable=False),
    _ts("created_at", nullable=False),
    UniqueConstraint("person_id", "channel", name="uq_accounts_person_channel"),
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

# The rows of live views waiting to be sent (a literal predicate: a partial index's).
PENDING_VIEW = text("kind = 'view' AND status = 'pending'")

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("chat_id", BigInteger, nullable=False),
    # A channel-neutral intent (bot/chat/intents.py): message, view, ballot, close_ballot, edit,
    # file; its payload is rendered by the channel.
    Column("kind", String(32), nullable=False),
    Column("payload", JSON, nullable=False),
    # A posted message that may later be edited in place is named by ref (e.g. board:pledge:7).
    Column("ref", String(64), nullable=True, index=True),
    Column("status", String(10), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    # The parts of a message its channel split that were delivered (a retry goes on after them).
    Column("parts_sent", Integer, nullable=False, default=0, server_default="0"),
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
    # At most one refresh of a live view waits per ref (OutboxRepo.refresh_view inserts with
    # ON CONFLICT DO NOTHING on this index, so two writers racing queue one refresh).
    Index(
        "uq_outbox_pending_view",
        "ref",
        unique=True,
        sqlite_where=PENDING_VIEW,
        postgresql_where=PENDING_VIEW,
    ),
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

# A person's open dialogs (drafting, a return comment, …): which step, what is gathered so far.
# Read on every event and written with the step's effect (bot/chat/dialogs.py), so a restart
# or another worker continues it; ``version`` refuses a step answered twice.
dialogs = Table(
    "dialogs",
    metadata,
    Column("person_id", Integer, ForeignKey("people.id"), primary_key=True),
    Column("name", String(32), primary_key=True),
    Column("step", String(32), nullable=False),
    Column("data", JSON, nullable=False),
    Column("version", Integer, nullable=False),
    _ts("expires_at", nullable=False),
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
    # 责令限期整改: an item found unfulfilled at a leader review must be done by this day.
    Column("rectify_by", Date, nullable=True),
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

# ---- evaluation (评诺): leader reviews, mass evaluations, rectification, selection --------

# A liaison leader (role leader) reviews the branches linked to them.
leader_links = Table(
    "leader_links",
    metadata,
    Column("person_id", Integer, ForeignKey("people.id"), primary_key=True),
    Column("org_id", Integer, ForeignKey("orgs.id"), primary_key=True),
)

leader_reviews = Table(
    "leader_reviews",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("reviewer_id", Integer, ForeignKey("people.id"), nullable=False, index=True),
    Column("subject_kind", String(10), nullable=False),  # member | branch
    Column("subject_person_id", Integer, ForeignKey("people.id"), nullable=True, index=True),
    # The branch reviewed, or the branch of the member reviewed.
    Column("subject_org_id", Integer, ForeignKey("orgs.id"), nullable=False),
    # The cadence slot it answers: 2026-07 (monthly), 2026-Q3, 2026-H1, 2026 (annual).
    Column("period", String(16), nullable=False),
    Column("grade", String(12), nullable=False),  # good | fairly_good | average | poor
    Column("comment", Text, nullable=False),
    Column("rectify_points", Text, nullable=True),
    Column("published", Boolean, nullable=False, default=False),
    # The reviewed person's rectification statement (整改表态).
    Column("response", Text, nullable=True),
    _ts("responded_at"),
    _ts("created_at", nullable=False),
    Index("ix_leader_reviews_org_created", "subject_org_id", "created_at"),
)

evaluations = Table(
    "evaluations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("org_id", Integer, ForeignKey("orgs.id"), nullable=False, index=True),
    Column("subject_kind", String(10), nullable=False),  # branch | members
    Column("opened_by", Integer, ForeignKey("people.id"), nullable=False),
    # open → closed (quorum met, results out) | void (quorum missed) | cancelled
    Column("status", String(10), nullable=False, index=True),
    Column("quorum", Integer, nullable=False),
    # Why the opener set a quorum below the rule's (a branch smaller than 30, or 20): shown
    # with the results. None: the rule's quorum (or more).
    Column("quorum_reason", Text, nullable=True),
    Column("pass_permille", Integer, nullable=False, default=900),  # 90.0 % passes
    _ts("closes_at", nullable=False),
    # A re-evaluation after rectification repeats the rules of the one it follows.
    Column("reevaluation_of", Integer, ForeignKey("evaluations.id"), nullable=True),
    Column("rectification_id", Integer, nullable=True),
    Column("valid_voters", Integer, nullable=True),  # participants who voted, at closing
    _ts("created_at", nullable=False),
    _ts("closed_at"),
)

evaluation_subjects = Table(
    "evaluation_subjects",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "evaluation_id",
        Integer,
        ForeignKey("evaluations.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("position", Integer, nullable=False),
    Column("person_id", Integer, ForeignKey("people.id"), nullable=True),  # a member subject
    Column("org_id", Integer, ForeignKey("orgs.id"), nullable=False),  # the branch subject
    # Filled at closing: the tally and satisfaction = (满意 + 基本满意) / valid, per mille.
    Column("satisfied", Integer, nullable=True),
    Column("basic", Integer, nullable=True),
    Column("unsatisfied", Integer, nullable=True),
    Column("rate_permille", Integer, nullable=True),
    Column("passed", Boolean, nullable=True),
    UniqueConstraint("evaluation_id", "position", name="uq_evaluation_subjects_position"),
)

evaluation_participants = Table(
    "evaluation_participants",
    metadata,
    Column("evaluation_id", Integer, ForeignKey("evaluations.id"), primary_key=True),
    Column("person_id", Integer, ForeignKey("people.id"), primary_key=True),
    Column("kind", String(10), nullable=False),  # member | resident
    # Whether, never when: a time here could be matched to a ballot.
    Column("has_voted", Boolean, nullable=False, default=False),
)

# Which poll went to whom (so a vote on a forwarded copy counts for nothing); never the choice.
evaluation_polls = Table(
    "evaluation_polls",
    metadata,
    Column("poll_id", String(64), primary_key=True),
    Column("evaluation_id", Integer, ForeignKey("evaluations.id"), nullable=False, index=True),
    Column("subject_id", Integer, ForeignKey("evaluation_subjects.id"), nullable=False),
    Column("person_id", Integer, ForeignKey("people.id"), nullable=False),
    Column("chat_id", BigInteger, nullable=False),
    Column("message_id", BigInteger, nullable=True),
)

# The secret ballot: the voter is a keyed hash (HMAC of evaluation and person under a key kept
# outside the database), with no time, so an export of the database names no one's choice.
ballots = Table(
    "ballots",
    metadata,
    Column("subject_id", Integer, ForeignKey("evaluation_subjects.id"), primary_key=True),
    Column("voter", String(64), primary_key=True),
    Column("evaluation_id", Integer, ForeignKey("evaluations.id"), nullable=False, index=True),
    Column("choice", String(12), nullable=False),  # satisfied | basic | unsatisfied
)

# One-time ballot slips (现场票) for residents not on the roster: a random token, kept only as
# its SHA-256, bound to one evaluation and to nobody. A slip's ballots are in ``ballots`` under
# a keyed hash of the token; here only whether it has voted (never when) and a revision that
# makes a stale form (a double submission, an old tab) refused instead of applied.
ballot_slips = Table(
    "ballot_slips",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("evaluation_id", Integer, ForeignKey("evaluations.id"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("voted", Boolean, nullable=False, default=False),
    Column("revision", Integer, nullable=False, default=0),
)

# A paper ballot box (纸质票) counted at the meeting: how many ballots it held, the photo of the
# signed tally sheet (evidence), who entered it; its per-subject counts in paper_tallies.
paper_boxes = Table(
    "paper_boxes",
    metadata,
    Column("evaluation_id", Integer, ForeignKey("evaluations.id"), primary_key=True),
    Column("ballots", Integer, nullable=False),
    # the photo of the tally sheet in Jiannuo's file store
    Column("photo_file", Integer, ForeignKey("stored_files.id"), nullable=False),
    Column("entered_by", Integer, ForeignKey("people.id"), nullable=False),
    _ts("entered_at", nullable=False),
)

paper_tallies = Table(
    "paper_tallies",
    metadata,
    Column("evaluation_id", Integer, ForeignKey("evaluations.id"), primary_key=True),
    Column("subject_id", Integer, ForeignKey("evaluation_subjects.id"), primary_key=True),
    Column("satisfied", Integer, nullable=False),
    Column("basic", Integer, nullable=False),
    Column("unsatisfied", Integer, nullable=False),
)

rectifications = Table(
    "rectifications",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(12), nullable=False),  # satisfaction | items
    Column("evaluation_id", Integer, ForeignKey("evaluations.id"), nullable=True, index=True),
    Column("subject_id", Integer, ForeignKey("evaluation_subjects.id"), nullable=True),
    Column("org_id", Integer, ForeignKey("orgs.id"), nullable=False, index=True),
    Column("person_id", Integer, ForeignKey("people.id"), nullable=True),  # a member subject
    # due (plan awaited) → submitted → accepted | returned (→ submitted …) → reevaluating →
    # closed (passed) | failed (failed again: a new round, a new row linked by previous_id)
    Column("status", String(12), nullable=False, index=True),
    Column("round", Integer, nullable=False, default=1),
    Column("previous_id", Integer, ForeignKey("rectifications.id"), nullable=True),
    # Bumped by every change: decision buttons carry it, so a stale or double tap does nothing.
    Column("version", Integer, nullable=False, default=1),
    Column("goals", Text, nullable=True),
    Column("measures", Text, nullable=True),
    Column("deadline", Date, nullable=True),
    Column("reviewer_id", Integer, ForeignKey("people.id"), nullable=True),
    Column("review_comment", Text, nullable=True),
    Column("reevaluation_id", Integer, ForeignKey("evaluations.id"), nullable=True),
    _ts("created_at", nullable=False),
    _ts("submitted_at"),
    _ts("accepted_at"),
    _ts("closed_at"),
)

# Published rankings (上评下议): the figures as they stood when published.
rankings = Table(
    "rankings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(10), nullable=False),  # members (monthly) | branches (bimonthly)
    Column("scope_org_id", Integer, ForeignKey("orgs.id"), nullable=False),
    Column("period", String(16), nullable=False),  # 2026-07 | 2026-B4 (Jul–Aug)
    Column("rows", JSON, nullable=False),
    _ts("published_at", nullable=False),
    UniqueConstraint("kind", "scope_org_id", "period", name="uq_rankings_slot"),
)

awards = Table(
    "awards",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(20), nullable=False),  # star_member | excellent_member | advanced_branch
    Column("year", Integer, nullable=False),
    Column("scope_org_id", Integer, ForeignKey("orgs.id"), nullable=False),  # who confirms
    Column("person_id", Integer, ForeignKey("people.id"), nullable=True),
    Column("org_id", Integer, ForeignKey("orgs.id"), nullable=False),
    Column("status", String(10), nullable=False),  # proposed | confirmed | rejected
    Column("figures", JSON, nullable=False),
    _ts("proposed_at", nullable=False),
    Column("decided_by", Integer, ForeignKey("people.id"), nullable=True),
    _ts("decided_at"),
    # Bumped by every decision: the buttons carry it, so a stale or double tap does nothing.
    Column("version", Integer, nullable=False, default=1),
    _ts("announced_at"),  # when the bot announced a confirmed award (announced once)
    Index("ix_awards_scope_year", "scope_org_id", "year"),
)

# Year-end assessment (年度考评) on the four dimensions, entered by a reviewer.
assessments = Table(
    "assessments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("year", Integer, nullable=False),
    Column("subject_kind", String(10), nullable=False),  # member | branch
    Column("person_id", Integer, ForeignKey("people.id"), nullable=True),
    Column("org_id", Integer, ForeignKey("orgs.id"), nullable=False),
    # "p:<person id>" or "o:<org id>": one assessment per subject and year
    Column("subject_key", String(24), nullable=False),
    # {competence | contribution | satisfaction | reputation: grade}
    Column("dimensions", JSON, nullable=False),
    Column("grade", String(16), nullable=False),  # excellent | qualified | basic | unqualified
    Column("figures", JSON, nullable=False),  # the computed figures shown when it was entered
    Column("assessor_id", Integer, ForeignKey("people.id"), nullable=False),
    _ts("created_at", nullable=False),
    UniqueConstraint("year", "subject_key", name="uq_assessments_subject"),
)

# ---- openness (三公开): residents' suggestions (调研提诺) ----------------------------------

suggestions = Table(
    "suggestions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("org_id", Integer, ForeignKey("orgs.id"), nullable=False, index=True),
    Column("author_id", Integer, ForeignKey("people.id"), nullable=False, index=True),
    Column("text", Text, nullable=False),
    Column("status", String(10), nullable=False, default="open"),  # open | solved
    # The pledge item that answers it (a pledge should answer residents' wishes).
    Column("item_id", Integer, ForeignKey("pledge_items.id"), nullable=True, index=True),
    Column("solved_by", Integer, ForeignKey("people.id"), nullable=True),
    _ts("solved_at"),
    _ts("created_at", nullable=False),
)

# ---- files kept by Jiannuo (bot/domain/files.py, storage/files.py) ------------------------

# One row per file a person sent (or a carried-over channel handle): the bytes are on disk under
# their SHA-256 (content-addressed); rows refer to a file by this id, never by a channel's id.
stored_files = Table(
    "stored_files",
    metadata,
    Column("id", Integer, primary_key=True),
    # None while only a channel holds the bytes (carried over from its file id, not fetched yet)
    Column("sha256", String(64), nullable=True, index=True),
    Column("size", BigInteger, nullable=True),
    Column("media_type", String(127), nullable=False),
    Column("name", String(255), nullable=True),  # the name it was sent under, if any
    Column("held_by", String(32), nullable=True),  # the channel holding the only copy
    _ts("created_at", nullable=False),
)

# Per channel, the id a file was uploaded under (Telegram: the file_id of the first send).
file_uploads = Table(
    "file_uploads",
    metadata,
    Column(
        "stored_file_id",
        Integer,
        ForeignKey("stored_files.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("channel", String(32), primary_key=True),
    Column("upload_id", String(255), nullable=False),
    _ts("uploaded_at", nullable=False),
)
