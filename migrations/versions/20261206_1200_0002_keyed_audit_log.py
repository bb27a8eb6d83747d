"""keyed audit log: entry positions, the head row, no TRUNCATE, cycle versions

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 12:00:00

Entries written before this revision carry unkeyed SHA-256 hashes, so ``pb audit-log verify``
reports the first of them: there is no key in a migration to re-sign them with.
"""

from alembic import op
import sqlalchemy as sa


revision = "0002"
down_revision = "0004"
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64
SQLITE_GUARDS = ("UPDATE", "DELETE")


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _set_row_guards(enabled: bool) -> None:
    """The 0001 triggers refuse UPDATE, which a backfill needs; SQLite's batch mode also drops them."""
    if _postgresql():
        op.execute(
            f"ALTER TABLE audit_log_entries {'ENABLE' if enabled else 'DISABLE'} TRIGGER audit_log_append_only"
        )
        return
    for event in SQLITE_GUARDS:
        name = f"audit_log_no_{event.lower()}"
        if enabled:
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {event} ON audit_log_entries "
                "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
            )
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")


def upgrade() -> None:
    with op.batch_alter_table("cycles") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))

    _set_row_guards(False)
    with op.batch_alter_table("audit_log_entries") as batch:
        batch.add_column(sa.Column("position", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE audit_log_entries SET position = "
        "(SELECT COUNT(*) FROM audit_log_entries AS earlier WHERE earlier.id <= audit_log_entries.id)"
    )
    with op.batch_alter_table("audit_log_entries") as batch:
        batch.alter_column("position", existing_type=sa.Integer(), nullable=False)
        batch.create_unique_constraint(op.f("uq_audit_log_entries_position"), ["position"])
    _set_row_guards(True)

    op.create_table(
        "audit_log_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_log_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log_head")),
    )
    op.execute(
        "INSERT INTO audit_log_head (id, count, hash) SELECT 1, COUNT(*), COALESCE("
        f"(SELECT entry_hash FROM audit_log_entries ORDER BY position DESC LIMIT 1), '{GENESIS_HASH}') "
        "FROM audit_log_entries"
    )
    if _postgresql():
        # The table owner could still TRUNCATE (row triggers do not fire); a statement trigger refuses it.
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log_entries "
            "FOR EACH STATEMENT EXECUTE FUNCTION pb_audit_log_append_only()"
        )


def downgrade() -> None:
    if _postgresql():
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log_entries")
    op.drop_table("audit_log_head")
    _set_row_guards(False)
    with op.batch_alter_table("audit_log_entries") as batch:
        batch.drop_constraint(op.f("uq_audit_log_entries_position"), type_="unique")
        batch.drop_column("position")
    _set_row_guards(True)
    with op.batch_alter_table("cycles") as batch:
        batch.drop_column("version")
