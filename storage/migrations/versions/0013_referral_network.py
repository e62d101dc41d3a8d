"""referral network: a referral that covers a whole operator network (cases.referrals, cases.networks)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 15:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.add_column(sa.Column('network_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_referral_network', 'operator_network', ['network_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.drop_constraint('fk_referral_network', type_='foreignkey')
        batch_op.drop_column('network_id')
