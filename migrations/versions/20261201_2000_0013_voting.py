"""voting: voter codes, confirmed voters, participation, ballots and the ballot log

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 20:00:00

Three stores with no join key (see pb/models/voting.py): the voter roll (``voter_code_batches``,
``voter_codes`` kept as keyed hashes, ``voter_eligibilities``), ``participations`` (unique per cycle and
voter, a random key, the day only) and the ballots with their hash-chained log (no voter, no time).
``voting_keys`` holds each cycle's slot key while voting runs. A cycle already in voting when this
runs gets its slot key and an empty log, as entering voting now gives it.
"""

import os

import sqlalchemy as sa
from alembic import op

import pb.db


revision = '0013'
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ballot_log_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_ballot_log_entries_cycle_id_cycles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballot_log_entries')),
    sa.UniqueConstraint('cycle_id', 'position', name=op.f('uq_ballot_log_entries_cycle_id_position'))
    )
    op.create_table('ballot_log_heads',
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('count', sa.BigInteger(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('counted', sa.BigInteger(), nullable=False),
    sa.Column('closed_at', pb.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('confirmations_at', pb.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_ballot_log_heads_cycle_id_cycles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('cycle_id', name=op.f('pk_ballot_log_heads'))
    )
    op.create_table('ballot_nonces',
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('receipt', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_ballot_nonces_cycle_id_cycles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('digest', name=op.f('pk_ballot_nonces'))
    )
    with op.batch_alter_table('ballot_nonces', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballot_nonces_cycle_id'), ['cycle_id'], unique=False)

    op.create_table('voting_keys',
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('slot_key', sa.LargeBinary(length=32), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_voting_keys_cycle_id_cycles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('cycle_id', name=op.f('pk_voting_keys'))
    )
    op.create_table('ballots',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('slot', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.Enum('online', 'paper', name='channel', native_enum=False, length=20), nullable=False),
    sa.Column('choices', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('counted', 'replaced', 'voided', name='ballotstatus', native_enum=False, length=20), nullable=False),
    sa.Column('void_reason', sa.String(length=1000), nullable=False),
    sa.Column('receipt', sa.String(length=16), nullable=False),
    sa.Column('log_position', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_ballots_cycle_id_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_ballots_district_id_districts'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballots')),
    sa.UniqueConstraint('cycle_id', 'receipt', name=op.f('uq_ballots_cycle_id_receipt'))
    )
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.create_index('ix_ballots_cycle_id_slot', ['cycle_id', 'slot'], unique=False)

    op.create_table('participations',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('voter', sa.String(length=40), nullable=False),
    sa.Column('channel', sa.Enum('online', 'paper', name='channel', native_enum=False, length=20), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('voted_on', sa.Date(), nullable=False),
    sa.Column('confirmation_pending', sa.Boolean(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_participations_cycle_id_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_participations_district_id_districts'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participations')),
    sa.UniqueConstraint('cycle_id', 'voter', name=op.f('uq_participations_cycle_id_voter'))
    )
    op.create_table('voter_code_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', pb.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('voided_at', pb.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('voided_by_id', sa.Integer(), nullable=True),
    sa.Column('void_reason', sa.String(length=1000), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_voter_code_batches_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_voter_code_batches_cycle_id_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_voter_code_batches_district_id_districts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['voided_by_id'], ['users.id'], name=op.f('fk_voter_code_batches_voided_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voter_code_batches'))
    )
    with op.batch_alter_table('voter_code_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voter_code_batches_cycle_id'), ['cycle_id'], unique=False)

    op.create_table('voter_eligibilities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('basis', sa.Enum('in_person', 'registry', 'partner', name='eligibilitybasis', native_enum=False, length=20), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=False),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_at', pb.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', pb.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_voter_eligibilities_confirmed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_voter_eligibilities_cycle_id_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_voter_eligibilities_district_id_districts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_voter_eligibilities_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voter_eligibilities')),
    sa.UniqueConstraint('cycle_id', 'user_id', name=op.f('uq_voter_eligibilities_cycle_id_user_id'))
    )
    with op.batch_alter_table('voter_eligibilities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voter_eligibilities_user_id'), ['user_id'], unique=False)

    op.create_table('voter_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('prefix', sa.String(length=4), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('used_on', sa.Date(), nullable=True),
    sa.Column('voided', sa.Boolean(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['voter_code_batches.id'], name=op.f('fk_voter_codes_batch_id_voter_code_batches'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voter_codes')),
    sa.UniqueConstraint('digest', name=op.f('uq_voter_codes_digest'))
    )
    with op.batch_alter_table('voter_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voter_codes_batch_id'), ['batch_id'], unique=False)

    op.create_table('voting_activity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('hour', pb.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.Enum('online', 'paper', name='channel', native_enum=False, length=20), nullable=False),
    sa.Column('ballots', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_voting_activity_cycle_id_cycles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voting_activity')),
    sa.UniqueConstraint('cycle_id', 'hour', 'channel', name=op.f('uq_voting_activity_cycle_id_hour_channel'))
    )
    with op.batch_alter_table('cycles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vote_with_codes', sa.Boolean(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('vote_with_accounts', sa.Boolean(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('min_voting_age', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('noncitizens_may_vote', sa.Boolean(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('fixed_project_order', sa.Boolean(), server_default='0', nullable=False))

    connection = op.get_bind()
    in_voting = connection.execute(
        sa.text(
            "SELECT cycle_id FROM phase_transitions WHERE phase = 'voting' AND cycle_id NOT IN "
            "(SELECT cycle_id FROM phase_transitions WHERE phase = 'results')"
        )
    ).scalars().all()
    for cycle_id in in_voting:
        connection.execute(
            sa.text("INSERT INTO voting_keys (cycle_id, slot_key) VALUES (:cycle, :key)"),
            {"cycle": cycle_id, "key": os.urandom(32)},
        )
        connection.execute(
            sa.text("INSERT INTO ballot_log_heads (cycle_id, count, hash, counted) VALUES (:cycle, 0, :hash, 0)"),
            {"cycle": cycle_id, "hash": "0" * 64},
        )


def downgrade() -> None:
    with op.batch_alter_table('cycles', schema=None) as batch_op:
        batch_op.drop_column('fixed_project_order')
        batch_op.drop_column('noncitizens_may_vote')
        batch_op.drop_column('min_voting_age')
        batch_op.drop_column('vote_with_accounts')
        batch_op.drop_column('vote_with_codes')

    with op.batch_alter_table('voter_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voter_codes_batch_id'))

    op.drop_table('voting_activity')
    op.drop_table('voter_codes')
    with op.batch_alter_table('voter_eligibilities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voter_eligibilities_user_id'))

    op.drop_table('voter_eligibilities')
    with op.batch_alter_table('voter_code_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voter_code_batches_cycle_id'))

    op.drop_table('voter_code_batches')
    op.drop_table('participations')
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.drop_index('ix_ballots_cycle_id_slot')

    op.drop_table('ballots')
    op.drop_table('voting_keys')
    with op.batch_alter_table('ballot_nonces', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballot_nonces_cycle_id'))

    op.drop_table('ballot_nonces')
    op.drop_table('ballot_log_heads')
    op.drop_table('ballot_log_entries')
