"""results: a cycle's counted results, drafted by staff after voting closes, then published for good

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 21:30:00

A result keeps the frozen ballot configuration, the sealed ballot log's head, the software version
and each count's outcome as canonical JSON. A correction is a new result naming the one it corrects.
"""

import sqlalchemy as sa
from alembic import op

import pb.db


revision = '0015'
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'published', 'discarded', name='resultstatus', native_enum=False, length=20), nullable=False),
    sa.Column('ballot_config', sa.Text(), nullable=False),
    sa.Column('log_head', sa.String(length=90), nullable=False),
    sa.Column('counted', sa.BigInteger(), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('software_version', sa.String(length=40), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', pb.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('published_at', pb.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('corrects_id', sa.Integer(), nullable=True),
    sa.Column('correction_reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['corrects_id'], ['results.id'], name=op.f('fk_results_corrects_id_results'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_results_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_results_cycle_id_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_results_published_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_results'))
    )
    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_results_cycle_id'), ['cycle_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_results_cycle_id'))

    op.drop_table('results')
