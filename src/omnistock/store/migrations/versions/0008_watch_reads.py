"""watch: what a reconciliation read where nothing else tells it (reconcile_reads) and when its read began

Revision ID: 0008_watch_reads
Revises: 0007_watch
Create Date: 2026-12-02 10:00:00

A listing found showing its last pushed value is derived from the push records and the run's read start; a
listing found showing what it should show but not its last push gets a row, so that every read in a SKU's
trace shows what the platform reported.
"""
import sqlalchemy as sa
from alembic import op

revision = '0008_watch_reads'
down_revision = '0007_watch'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('reconciliations') as batch:
        batch.add_column(sa.Column('read_started_at', sa.DateTime(), nullable=True))
    op.create_table('reconcile_reads',
    sa.Column('id', ID, nullable=False),
    sa.Column('run_id', ID, nullable=False),
    sa.Column('channel_id', ID, nullable=False),
    sa.Column('listing_id', ID, nullable=False),
    sa.Column('sku_id', ID, nullable=False),
    sa.Column('platform', sa.Integer(), nullable=False),
    sa.Column('found_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_reconcile_reads_channel_id_channels')),
    sa.ForeignKeyConstraint(['run_id'], ['reconciliations.id'], name=op.f('fk_reconcile_reads_run_id_reconciliations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconcile_reads'))
    )
    op.create_index('ix_reconcile_reads_channel_found', 'reconcile_reads', ['channel_id', 'found_at'], unique=False)
    op.create_index(op.f('ix_reconcile_reads_run_id'), 'reconcile_reads', ['run_id'], unique=False)
    op.create_index('ix_reconcile_reads_sku_found', 'reconcile_reads', ['sku_id', 'found_at'], unique=False)


def downgrade() -> None:
    op.drop_table('reconcile_reads')
    with op.batch_alter_table('reconciliations') as batch:
        batch.drop_column('read_started_at')
