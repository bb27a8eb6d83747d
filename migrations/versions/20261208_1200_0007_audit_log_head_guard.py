"""audit log head guard: the head can only move forward, to the last entry of the log

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08 12:00:00

The head row (entry count and last hash) had no guard at the database: the application's login
could rewind it over a deleted tail. From here the database refuses to delete the head, and
refuses an update unless the count equals the number of entries present, does not go down, and
the hash is the hash of the entry at that position (the genesis hash for an empty log).
"""

from alembic import op


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64
REMOVED = "the audit log head cannot be removed"
BACKWARD = "the audit log head only moves forward, to the last entry of the log"
LAST_HASH = f"COALESCE((SELECT entry_hash FROM audit_log_entries WHERE position = NEW.count), '{GENESIS_HASH}')"


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if _postgresql():
        op.execute(
            f"""
            CREATE FUNCTION pb_audit_log_head_guard() RETURNS trigger AS $$
            BEGIN
                IF TG_OP IN ('DELETE', 'TRUNCATE') THEN
                    RAISE EXCEPTION '{REMOVED}';
                END IF;
                IF NEW.id <> OLD.id OR NEW.count < OLD.count
                   OR NEW.count <> (SELECT count(*) FROM audit_log_entries)
                   OR NEW.hash <> {LAST_HASH} THEN
                    RAISE EXCEPTION '{BACKWARD}';
                END IF;
                RETURN NEW;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER audit_log_head_guard BEFORE UPDATE OR DELETE ON audit_log_head "
            "FOR EACH ROW EXECUTE FUNCTION pb_audit_log_head_guard()"
        )
        op.execute(
            "CREATE TRIGGER audit_log_head_no_truncate BEFORE TRUNCATE ON audit_log_head "
            "FOR EACH STATEMENT EXECUTE FUNCTION pb_audit_log_head_guard()"
        )
        return
    op.execute(
        "CREATE TRIGGER audit_log_head_no_delete BEFORE DELETE ON audit_log_head "
        f"BEGIN SELECT RAISE(ABORT, '{REMOVED}'); END"
    )
    op.execute(
        "CREATE TRIGGER audit_log_head_forward BEFORE UPDATE ON audit_log_head "
        "WHEN NEW.id <> OLD.id OR NEW.count < OLD.count "
        "OR NEW.count <> (SELECT count(*) FROM audit_log_entries) "
        f"OR NEW.hash <> {LAST_HASH} "
        f"BEGIN SELECT RAISE(ABORT, '{BACKWARD}'); END"
    )


def downgrade() -> None:
    if _postgresql():
        op.execute("DROP TRIGGER IF EXISTS audit_log_head_no_truncate ON audit_log_head")
        op.execute("DROP TRIGGER IF EXISTS audit_log_head_guard ON audit_log_head")
        op.execute("DROP FUNCTION IF EXISTS pb_audit_log_head_guard()")
        return
    op.execute("DROP TRIGGER IF EXISTS audit_log_head_forward")
    op.execute("DROP TRIGGER IF EXISTS audit_log_head_no_delete")
