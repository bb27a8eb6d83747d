"""proposal activity: a counter per cycle, moved by the database whenever its proposal pages change

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-10 09:00:00

``proposal_activity`` holds one row per cycle whose proposals were ever written: ``stamp`` goes up
with every insert, update or delete of a proposal (its counters included), of a proposal's
translation, history step, review or comment, and with a change of the name of anyone who wrote
one of them. The proposal list and pages are kept (per process) under the stamp: triggers move it
whatever code writes, so nothing can forget to.

On PostgreSQL the triggers are constraint triggers deferred to the commit: a transaction takes the
counter's row last, after every row it writes, so two transactions cannot deadlock over it (one
holding a proposal and waiting for the counter, the other the reverse), and the row is held only
while committing. A transaction moves a cycle's stamp once, however many rows it writes (the row is
left alone once this transaction wrote it): a seed of 100,000 supports leaves one dead row version,
not 100,000. The counter's function runs with its owner's rights (``SECURITY DEFINER``, its search
path fixed), so a runtime login granted only the tables it had before this migration can still write
proposals. It touches several cycles (a renamed author's) in the order of their ids.

SQLite writes one transaction at a time, in place, and has no deferred triggers: its stamp moves with
each row, inside the transaction, by a random step, so a stamp undone by a rollback is not given
again to the next change.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# Tables whose rows name a proposal, and whose changes its page shows.
CHILDREN = ("proposal_translations", "proposal_status_changes", "comments", "reviews")
EVENTS = ("INSERT", "UPDATE", "DELETE")
# The cycles in which the user ``NEW.id`` wrote a proposal or a comment.
AUTHORED = (
    "SELECT cycle_id FROM proposals WHERE author_id = NEW.id "
    "UNION SELECT p.cycle_id FROM comments c JOIN proposals p ON p.id = c.proposal_id WHERE c.author_id = NEW.id"
)


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _create_table() -> None:
    op.create_table(
        "proposal_activity",
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("stamp", sa.BigInteger(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["cycles.id"], name=op.f("fk_proposal_activity_cycle_id_cycles"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("cycle_id", name=op.f("pk_proposal_activity")),
    )


def _postgresql_triggers() -> None:
    op.execute(
        """
        CREATE FUNCTION pb_touch_proposal_activity(cycle integer) RETURNS void AS $$
            INSERT INTO proposal_activity (cycle_id, stamp) SELECT id, 1 FROM cycles WHERE id = cycle
            ON CONFLICT (cycle_id) DO UPDATE SET stamp = proposal_activity.stamp + 1
            WHERE proposal_activity.xmin <> pg_current_xact_id()::xid
        $$ LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT
        """
    )
    op.execute(
        """
        CREATE FUNCTION pb_proposal_activity() RETURNS trigger AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                PERFORM pb_touch_proposal_activity(OLD.cycle_id);
            ELSE
                PERFORM pb_touch_proposal_activity(NEW.cycle_id);
            END IF;
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql
        """
    )
    op.execute(
        """
        CREATE FUNCTION pb_proposal_part_activity() RETURNS trigger AS $$
        DECLARE
            target integer;
        BEGIN
            IF TG_OP = 'DELETE' THEN
                target := OLD.proposal_id;
            ELSE
                target := NEW.proposal_id;
            END IF;
            PERFORM pb_touch_proposal_activity(cycle_id) FROM proposals WHERE id = target;
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION pb_author_activity() RETURNS trigger AS $$
        BEGIN
            PERFORM pb_touch_proposal_activity(cycle_id) FROM ({AUTHORED}) AS authored ORDER BY cycle_id;
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql
        """
    )
    deferred = "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW"
    op.execute(
        "CREATE CONSTRAINT TRIGGER proposal_activity_proposals AFTER INSERT OR UPDATE OR DELETE ON proposals "
        f"{deferred} EXECUTE FUNCTION pb_proposal_activity()"
    )
    for table in CHILDREN:
        op.execute(
            f"CREATE CONSTRAINT TRIGGER proposal_activity_{table} AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"{deferred} EXECUTE FUNCTION pb_proposal_part_activity()"
        )
    op.execute(
        f"CREATE CONSTRAINT TRIGGER proposal_activity_users AFTER UPDATE OF display_name ON users {deferred} "
        "WHEN (OLD.display_name IS DISTINCT FROM NEW.display_name) EXECUTE FUNCTION pb_author_activity()"
    )


def _touch_sqlite(cycles: str) -> str:
    """The statements of a SQLite trigger moving the stamps of the cycles ``cycles`` selects."""
    return (
        f"INSERT OR IGNORE INTO proposal_activity (cycle_id, stamp) SELECT id, 0 FROM cycles WHERE id IN ({cycles}); "
        f"UPDATE proposal_activity SET stamp = stamp + 1 + abs(random() % 1000000) WHERE cycle_id IN ({cycles});"
    )


def _sqlite_triggers() -> None:
    for event in EVENTS:
        row = "OLD" if event == "DELETE" else "NEW"
        op.execute(
            f"CREATE TRIGGER proposal_activity_proposals_{event.lower()} AFTER {event} ON proposals "
            f"BEGIN {_touch_sqlite(f'SELECT {row}.cycle_id')} END"
        )
        for table in CHILDREN:
            op.execute(
                f"CREATE TRIGGER proposal_activity_{table}_{event.lower()} AFTER {event} ON {table} "
                f"BEGIN {_touch_sqlite(f'SELECT cycle_id FROM proposals WHERE id = {row}.proposal_id')} END"
            )
    op.execute(
        "CREATE TRIGGER proposal_activity_users AFTER UPDATE OF display_name ON users "
        f"WHEN OLD.display_name IS NOT NEW.display_name BEGIN {_touch_sqlite(AUTHORED)} END"
    )


def upgrade() -> None:
    _create_table()
    if _postgresql():
        _postgresql_triggers()
    else:
        _sqlite_triggers()


def downgrade() -> None:
    if _postgresql():
        op.execute("DROP TRIGGER IF EXISTS proposal_activity_users ON users")
        for table in ("proposals", *CHILDREN):
            op.execute(f"DROP TRIGGER IF EXISTS proposal_activity_{table} ON {table}")
        for function in (
            "pb_author_activity()",
            "pb_proposal_part_activity()",
            "pb_proposal_activity()",
            "pb_touch_proposal_activity(integer)",
        ):
            op.execute(f"DROP FUNCTION IF EXISTS {function}")
    else:
        op.execute("DROP TRIGGER IF EXISTS proposal_activity_users")
        for event in EVENTS:
            for table in ("proposals", *CHILDREN):
                op.execute(f"DROP TRIGGER IF EXISTS proposal_activity_{table}_{event.lower()}")
    op.drop_table("proposal_activity")
