"""onboarding: units of measure, SKU aliases, import runs

Revision ID: 0005_onboarding
Revises: 0001
Create Date: 2026-11-26 15:25:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0005_onboarding'
down_revision = '0001'
branch_labels = None
depends_on = None


def _id() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('units',
    sa.Column('id', _id(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=True),
    sa.Column('base', sa.String(length=16), nullable=True),
    sa.Column('factor', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_units')),
    sa.UniqueConstraint('code', name=op.f('uq_units_code'))
    )
    op.create_table('sku_aliases',
    sa.Column('id', _id(), nullable=False),
    sa.Column('sku_id', _id(), nullable=False),
    sa.Column('alias', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.id'], name=op.f('fk_sku_aliases_sku_id_skus')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sku_aliases')),
    sa.UniqueConstraint('alias', name=op.f('uq_sku_aliases_alias'))
    )
    op.create_index(op.f('ix_sku_aliases_sku_id'), 'sku_aliases', ['sku_id'], unique=False)
    op.create_table('import_runs',
    sa.Column('id', _id(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=True),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('created', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('backup', sa.String(length=500), nullable=True),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('totals', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_runs'))
    )
    op.create_index(op.f('ix_import_runs_file_sha256'), 'import_runs', ['file_sha256'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_import_runs_file_sha256'), table_name='import_runs')
    op.drop_table('import_runs')
    op.drop_index(op.f('ix_sku_aliases_sku_id'), table_name='sku_aliases')
    op.drop_table('sku_aliases')
    op.drop_table('units')
