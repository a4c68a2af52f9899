"""watch: reconciliation runs and differences, alerts and rules, notifiers and notifications, watch settings,
scheduled jobs, weekly reports

Revision ID: 0007_watch
Revises: 0001
Create Date: 2026-11-26 16:30:00

Depends on 0002_sync: reconciliations and differences refer to channels and listings of the sync engine.
"""
import sqlalchemy as sa
from alembic import op

revision = '0007_watch'
down_revision = '0001'
branch_labels = None
depends_on = '0002_sync'

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('alert_rules',
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('kind', name=op.f('pk_alert_rules'))
    )
    op.create_table('alerts',
    sa.Column('id', ID, nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('condition', sa.String(length=200), nullable=False),
    sa.Column('active_key', sa.String(length=200), nullable=True),
    sa.Column('sku_id', ID, nullable=True),
    sa.Column('channel_id', ID, nullable=True),
    sa.Column('location_id', ID, nullable=True),
    sa.Column('order_id', ID, nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('occurrences', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.Column('notified_at', sa.DateTime(), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(), nullable=True),
    sa.Column('acknowledged_by', sa.String(length=120), nullable=True),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts')),
    sa.UniqueConstraint('active_key', name=op.f('uq_alerts_active_key'))
    )
    op.create_index(op.f('ix_alerts_condition'), 'alerts', ['condition'], unique=False)
    op.create_index(op.f('ix_alerts_sku_id'), 'alerts', ['sku_id'], unique=False)
    op.create_index(op.f('ix_alerts_status'), 'alerts', ['status'], unique=False)

    op.create_table('notifiers',
    sa.Column('id', ID, nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('routes', sa.JSON(), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifiers')),
    sa.UniqueConstraint('code', name=op.f('uq_notifiers_code'))
    )
    op.create_table('watch_jobs',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('last_run_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_watch_jobs'))
    )
    op.create_table('weekly_reports',
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('week', name=op.f('pk_weekly_reports'))
    )
    op.create_table('notifications',
    sa.Column('id', ID, nullable=False),
    sa.Column('notifier_id', ID, nullable=False),
    sa.Column('alert_id', ID, nullable=True),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('claimed_until', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('batch', sa.String(length=32), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['notifier_id'], ['notifiers.id'], name=op.f('fk_notifications_notifier_id_notifiers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    op.create_index(op.f('ix_notifications_alert_id'), 'notifications', ['alert_id'], unique=False)
    op.create_index(op.f('ix_notifications_notifier_id'), 'notifications', ['notifier_id'], unique=False)
    op.create_index('ix_notifications_status_next', 'notifications', ['status', 'next_attempt_at'], unique=False)

    op.create_table('reconciliations',
    sa.Column('id', ID, nullable=False),
    sa.Column('channel_id', ID, nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('mode', sa.String(length=8), nullable=False),
    sa.Column('trigger', sa.String(length=16), nullable=False),
    sa.Column('requested_by', sa.String(length=120), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('checked', sa.Integer(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_reconciliations_channel_id_channels')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliations'))
    )
    op.create_index(op.f('ix_reconciliations_channel_id'), 'reconciliations', ['channel_id'], unique=False)

    op.create_table('watch_channels',
    sa.Column('channel_id', ID, nullable=False),
    sa.Column('reconcile_mode', sa.String(length=8), nullable=False),
    sa.Column('reconcile_minutes', sa.Float(), nullable=False),
    sa.Column('last_reconcile_at', sa.DateTime(), nullable=True),
    sa.Column('running_id', ID, nullable=True),
    sa.Column('running_until', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_watch_channels_channel_id_channels')),
    sa.PrimaryKeyConstraint('channel_id', name=op.f('pk_watch_channels'))
    )
    op.create_table('reconcile_differences',
    sa.Column('id', ID, nullable=False),
    sa.Column('run_id', ID, nullable=False),
    sa.Column('channel_id', ID, nullable=False),
    sa.Column('listing_id', ID, nullable=True),
    sa.Column('sku_id', ID, nullable=True),
    sa.Column('external_id', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('expected', sa.Integer(), nullable=True),
    sa.Column('platform', sa.Integer(), nullable=True),
    sa.Column('last_pushed', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('first_found_at', sa.DateTime(), nullable=False),
    sa.Column('found_at', sa.DateTime(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_reconcile_differences_channel_id_channels')),
    sa.ForeignKeyConstraint(['run_id'], ['reconciliations.id'], name=op.f('fk_reconcile_differences_run_id_reconciliations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconcile_differences'))
    )
    op.create_index('ix_reconcile_differences_channel_status', 'reconcile_differences', ['channel_id', 'status'], unique=False)
    op.create_index(op.f('ix_reconcile_differences_run_id'), 'reconcile_differences', ['run_id'], unique=False)
    op.create_index('ix_reconcile_differences_sku_found', 'reconcile_differences', ['sku_id', 'found_at'], unique=False)


def downgrade() -> None:
    op.drop_table('reconcile_differences')
    op.drop_table('watch_channels')
    op.drop_table('reconciliations')
    op.drop_table('notifications')
    op.drop_table('weekly_reports')
    op.drop_table('watch_jobs')
    op.drop_table('notifiers')
    op.drop_table('alerts')
    op.drop_table('alert_rules')
