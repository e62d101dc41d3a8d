"""ocr: text read in a capture's images, and the image lines a finding was read in (issue #20)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 15:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Both nullable: captures and findings before this revision were never read in images.
    with op.batch_alter_table('capture', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ocr', sa.JSON(), nullable=True))
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ocr', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.drop_column('ocr')
    with op.batch_alter_table('capture', schema=None) as batch_op:
        batch_op.drop_column('ocr')
