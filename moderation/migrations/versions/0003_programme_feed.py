"""the programme feed of a session: test pattern, studio over WHIP, or a pull URL

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sessions') as batch:
        batch.add_column(sa.Column('feed', sa.String(length=10), nullable=True))
        batch.add_column(sa.Column('feed_url', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sessions') as batch:
        batch.drop_column('feed_url')
        batch.drop_column('feed')
