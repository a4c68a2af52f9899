"""money: a purchase order line may be priced in its own currency

Revision ID: 0009_money_line_currency
Revises: 0004_money
Create Date: 2026-12-03 10:00:00

NULL means the PO's currency, so every line written before this revision keeps its meaning.
"""
import sqlalchemy as sa
from alembic import op

revision = '0009_money_line_currency'
down_revision = '0004_money'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('purchase_order_lines') as batch:
        batch.add_column(sa.Column('currency', sa.String(length=3), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('purchase_order_lines') as batch:
        batch.drop_column('currency')
