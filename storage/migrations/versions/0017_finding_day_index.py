"""finding_day_index: findings indexed by when they were made (the daily list of issue #16 reads one day's)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 17:40:00
"""
from alembic import op


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('finding', schema=None) as batch_op:
        # Covering: a day's findings ranked by site and filtered by category without reading the table.
        batch_op.create_index('ix_finding_day', ['created_at', 'site_id', 'severity', 'category'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.drop_index('ix_finding_day')
