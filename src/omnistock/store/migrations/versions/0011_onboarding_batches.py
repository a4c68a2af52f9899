"""onboarding: batches (lots) with their expiry, stock per batch and location, the batch parts of moves and
reservations, and the levels' flag that they hold batches

Revision ID: 0011_onboarding_batches
Revises: 0005_onboarding
Create Date: 2026-12-10 09:00:00

Every existing level holds no batch (batched false), so nothing written before this revision changes meaning.
"""
import sqlalchemy as sa
from alembic import op

revision = '0011_onboarding_batches'
down_revision = '0005_onboarding'
branch_labels = None
depends_on = None


def _id() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    # A constant default: PostgreSQL adds the column without rewriting the table, SQLite with ALTER TABLE.
    with op.batch_alter_table('levels') as batch:
        batch.add_column(sa.Column('batched', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table('batches',
    sa.Column('id', _id(), nullable=False),
    sa.Column('sku_id', _id(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('expiry', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.id'], name=op.f('fk_batches_sku_id_skus')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batches')),
    sa.UniqueConstraint('sku_id', 'code', name='uq_batches_sku_code')
    )
    op.create_table('batch_levels',
    sa.Column('batch_id', _id(), nullable=False),
    sa.Column('location_id', _id(), nullable=False),
    sa.Column('sku_id', _id(), nullable=False),
    sa.Column('on_hand', sa.Integer(), nullable=False),
    sa.Column('reserved', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_batch_levels_batch_id_batches')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_batch_levels_location_id_locations')),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.id'], name=op.f('fk_batch_levels_sku_id_skus')),
    sa.PrimaryKeyConstraint('batch_id', 'location_id', name=op.f('pk_batch_levels'))
    )
    op.create_index('ix_batch_levels_sku_location', 'batch_levels', ['sku_id', 'location_id'], unique=False)
    op.create_table('move_batches',
    sa.Column('move_id', _id(), nullable=False),
    sa.Column('batch_id', _id(), nullable=False),
    sa.Column('qty', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_move_batches_batch_id_batches')),
    sa.ForeignKeyConstraint(['move_id'], ['moves.id'], name=op.f('fk_move_batches_move_id_moves')),
    sa.PrimaryKeyConstraint('move_id', 'batch_id', name=op.f('pk_move_batches'))
    )
    op.create_index(op.f('ix_move_batches_batch_id'), 'move_batches', ['batch_id'], unique=False)
    op.create_table('reservation_batches',
    sa.Column('reservation_id', _id(), nullable=False),
    sa.Column('batch_id', _id(), nullable=False),
    sa.Column('qty', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_reservation_batches_batch_id_batches')),
    sa.ForeignKeyConstraint(['reservation_id'], ['reservations.id'],
                            name=op.f('fk_reservation_batches_reservation_id_reservations')),
    sa.PrimaryKeyConstraint('reservation_id', 'batch_id', name=op.f('pk_reservation_batches'))
    )
    op.create_index(op.f('ix_reservation_batches_batch_id'), 'reservation_batches', ['batch_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_reservation_batches_batch_id'), table_name='reservation_batches')
    op.drop_table('reservation_batches')
    op.drop_index(op.f('ix_move_batches_batch_id'), table_name='move_batches')
    op.drop_table('move_batches')
    op.drop_index('ix_batch_levels_sku_location', table_name='batch_levels')
    op.drop_table('batch_levels')
    op.drop_table('batches')
    with op.batch_alter_table('levels') as batch:
        batch.drop_column('batched')
