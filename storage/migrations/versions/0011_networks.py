"""networks: operator identifiers per site and the operator networks built from them (cases.networks)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 15:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('site_identifier',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('value', sa.String(length=255), nullable=False),
    sa.Column('first_seen', sa.DateTime(), nullable=False),
    sa.Column('last_seen', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('site_id', 'kind', 'value', name='uq_site_identifier')
    )
    op.create_index('ix_site_identifier_site_id', 'site_identifier', ['site_id'])
    op.create_index('ix_site_identifier_value', 'site_identifier', ['kind', 'value'])
    op.create_table('operator_network',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('merged_into', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['merged_into'], ['operator_network.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('network_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('network_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('since', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['network_id'], ['operator_network.id'], ),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('site_id')
    )
    op.create_index('ix_network_member_network_id', 'network_member', ['network_id'])


def downgrade() -> None:
    op.drop_table('network_member')
    op.drop_table('operator_network')
    op.drop_table('site_identifier')
