"""sender blocks: what each question was sent with (keyed hashes), and the board's blocks

askers.viewer_hash and askers.address_hash record, as keyed hashes, the viewer's cookie id and the
client address a question came from, so its sender can be blocked (moderation/blocks.py). Questions
stored before this have neither: their sender can be blocked by phone only.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import moderation.schema

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

UTC = moderation.schema.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table('askers') as batch:
        batch.add_column(sa.Column('viewer_hash', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('address_hash', sa.String(length=32), nullable=True))
    op.create_table(
        'sender_blocks',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=True),
        sa.Column('question_id', sa.Integer(), nullable=True),
        sa.Column('viewer_hash', sa.String(length=32), nullable=True),
        sa.Column('address_hash', sa.String(length=32), nullable=True),
        sa.Column('phone_hash', sa.String(length=32), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('created_at', UTC(), nullable=False),
        sa.Column('created_by', sa.String(length=100), nullable=False),
        sa.Column('expires_at', UTC(), nullable=True),
        sa.Column('lifted_at', UTC(), nullable=True),
        sa.Column('lifted_by', sa.String(length=100), nullable=True),
        sa.Column('lift_reason', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['session_id'], ['sessions.id']),
        sa.ForeignKeyConstraint(['question_id'], ['questions.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    op.drop_table('sender_blocks')
    with op.batch_alter_table('askers') as batch:
        batch.drop_column('address_hash')
        batch.drop_column('viewer_hash')
