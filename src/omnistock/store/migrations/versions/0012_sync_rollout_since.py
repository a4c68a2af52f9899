"""sync: when a channel's rollout mode was set (channel_sync.mode_since), so that the scheduled shadow comparison
starts a period after a channel enters shadow mode

Revision ID: 0012_sync_rollout_since
Revises: 0010_sync_call_response
Create Date: 2026-12-08 02:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0012_sync_rollout_since'
down_revision = '0010_sync_call_response'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('channel_sync') as batch:
        batch.add_column(sa.Column('mode_since', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('channel_sync') as batch:
        batch.drop_column('mode_since')
