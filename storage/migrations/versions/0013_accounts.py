"""accounts(channel, external_id, person_id): people.tg_user_id becomes a telegram account

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# people's columns after this revision, in order (tg_user_id gone).
PEOPLE_COLUMNS = (
    "id, name, org_id, role, phone, cadre, post, oral, origin_org_id, residence_org_id, "
    "locale, is_admin, created_at, updated_at, phone_confirmed"
)


def _create_people_without_telegram() -> None:
    """people as it stands at this revision, without tg_user_id (SQLite rebuilds it)."""
    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("cadre", sa.Boolean(), nullable=False),
        sa.Column("post", sa.String(length=200), nullable=True),
        sa.Column("oral", sa.Boolean(), nullable=False),
        sa.Column("origin_org_id", sa.Integer(), nullable=True),
        sa.Column("residence_org_id", sa.Integer(), nullable=True),
        sa.Column("locale", sa.String(length=10), nullable=True),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("phone_confirmed", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name="fk_people_org_id_orgs"),
        sa.ForeignKeyConstraint(
            ["origin_org_id"], ["orgs.id"], name="fk_people_origin_org_id_orgs"
        ),
        sa.ForeignKeyConstraint(
            ["residence_org_id"], ["orgs.id"], name="fk_people_residence_org_id_orgs"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_people"),
        sa.UniqueConstraint("org_id", "name", "phone", name="uq_people_identity"),
    )
    op.create_index("ix_people_org_id", "people", ["org_id"])


def _index_references_to_people() -> list[str]:
    """Temporary indexes on every column that references people.id, names returned.

    With foreign keys on, dropping people and filling it again makes SQLite look up each
    person's rows in every child table; on an unindexed column that is a scan of the child
    table per person (a district's database: hours). An index makes each look-up a seek."""
    bind = op.get_bind()
    tables = [
        str(name)
        for (name,) in bind.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    made: list[str] = []
    for table in tables:
        for fk in bind.exec_driver_sql(f'PRAGMA foreign_key_list("{table}")').all():
            # (id, seq, table, from, to, on_update, on_delete, match)
            if str(fk[2]) == "people":
                name = f"_tmp_0013_{table}_{fk[3]}"
                op.execute(f'CREATE INDEX "{name}" ON "{table}" ("{fk[3]}")')
                made.append(name)
    return made


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "accounts",
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_accounts_person_id_people")
        ),
        sa.PrimaryKeyConstraint("channel", "external_id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("person_id", "channel", name="uq_accounts_person_channel"),
    )
    # Every bound Telegram id becomes that person's telegram account (its binding time is not
    # kept: the row's updated_at is the closest we have).
    op.execute(
        "INSERT INTO accounts (channel, external_id, person_id, created_at) "
        "SELECT 'telegram', CAST(tg_user_id AS VARCHAR(128)), id, updated_at FROM people "
        "WHERE tg_user_id IS NOT NULL"
    )
    if op.get_context().dialect.name != "sqlite":
        op.drop_constraint("uq_people_tg_user_id", "people", type_="unique")
        op.drop_column("people", "tg_user_id")
        return
    # SQLite cannot drop a UNIQUE column, and rebuilding people the usual way (copy, drop,
    # rename the copy) breaks every foreign key to it while foreign keys are on. So, inside
    # this transaction (the INSERT above opened it), with the checks deferred to COMMIT: keep
    # the rows, drop people (its children point at nobody), create people anew and put the
    # rows back (its children point at them again), and COMMIT finds every key whole.
    op.execute("PRAGMA defer_foreign_keys=ON")
    temporary = _index_references_to_people()
    op.execute(f"CREATE TABLE _people_before_accounts AS SELECT {PEOPLE_COLUMNS} FROM people")
    op.drop_table("people")
    _create_people_without_telegram()
    op.execute(
        f"INSERT INTO people ({PEOPLE_COLUMNS}) "
        f"SELECT {PEOPLE_COLUMNS} FROM _people_before_accounts"
    )
    op.drop_table("_people_before_accounts")
    for name in temporary:
        op.execute(f'DROP INDEX "{name}"')


def downgrade() -> None:
    """Revert this revision: each telegram account becomes people.tg_user_id again (accounts
    on other channels are lost: the old schema has no place for them)."""
    with op.batch_alter_table("people", recreate="never") as batch:
        batch.add_column(sa.Column("tg_user_id", sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE people SET tg_user_id = (SELECT CAST(a.external_id AS BIGINT) FROM accounts a "
        "WHERE a.person_id = people.id AND a.channel = 'telegram')"
    )
    if op.get_context().dialect.name == "sqlite":
        # A unique index does the old constraint's work (SQLite adds no constraint in place).
        op.create_index("uq_people_tg_user_id", "people", ["tg_user_id"], unique=True)
    else:
        op.create_unique_constraint("uq_people_tg_user_id", "people", ["tg_user_id"])
    op.drop_table("accounts")
