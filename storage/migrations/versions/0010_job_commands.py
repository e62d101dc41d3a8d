"""job commands: a scheduled job runs a scan, the digest or a re-check (pharmwatch.scheduler.COMMANDS)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 15:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every job before this revision was a scan.
    with op.batch_alter_table('schedule_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('command', sa.String(length=32), server_default='scan', nullable=False))


def downgrade() -> None:
    op.execute("DELETE FROM schedule_job WHERE command != 'scan'")
    with op.batch_alter_table('schedule_job', schema=None) as batch_op:
        batch_op.drop_column('command')
