"""sync: what the platform answered to each recorded call (platform_calls.response)

Revision ID: 0010_sync_call_response
Revises: 0002_sync
Create Date: 2026-12-08 01:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0010_sync_call_response'
down_revision = '0002_sync'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('platform_calls') as batch:
        batch.add_column(sa.Column('response', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('platform_calls') as batch:
        batch.drop_column('response')
