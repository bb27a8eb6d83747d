"""phase transitions: each phase a cycle enters is recorded once

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08 12:00:00

Cycles that exist before this revision have recorded no transition yet: the first ``advance``
(the worker's next round, or the next page that shows the cycle) records the phases they have
already entered, at their scheduled starts.
"""

import sqlalchemy as sa
from alembic import op

import pb.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

PHASE = sa.Enum("proposals", "review", "voting", "results", name="phase", native_enum=False, length=20)


def upgrade() -> None:
    op.create_table(
        "phase_transitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("phase", PHASE, nullable=False),
        sa.Column("at", pb.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", pb.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ballot_config", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["cycles.id"], name=op.f("fk_phase_transitions_cycle_id_cycles"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phase_transitions")),
        sa.UniqueConstraint("cycle_id", "phase", name=op.f("uq_phase_transitions_cycle_id_phase")),
    )
    with op.batch_alter_table("cycles") as batch_op:
        batch_op.add_column(sa.Column("entered_phase", PHASE, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cycles") as batch_op:
        batch_op.drop_column("entered_phase")
    op.drop_table("phase_transitions")
