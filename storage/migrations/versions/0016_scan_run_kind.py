"""scan_run.kind: a scan, a tip checked now, or a case re-checked

A `pharmwatch scan` resumes an interrupted run; only a scan's run may be resumed. A tip check or a
re-check started from the web while a scan was starting looked interrupted (running, no scan lock held)
and would have been resumed by the scan.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 18:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Runs before this revision were all started by `pharmwatch scan` or by checks that have finished.
    with op.batch_alter_table('scan_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), nullable=False, server_default='scan'))


def downgrade() -> None:
    with op.batch_alter_table('scan_run', schema=None) as batch_op:
        batch_op.drop_column('kind')
