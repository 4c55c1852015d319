"""after the close: the recording's finalising jobs and the portal publication (draft and
published snapshot)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import moderation.schema

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

UTC = moderation.schema.UTCDateTime


def upgrade() -> None:
    op.create_table(
        'recording_jobs',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('profile', sa.String(length=40), nullable=True),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('progress', sa.Float(), server_default='0', nullable=False),
        sa.Column('eta_seconds', sa.Float(), nullable=True),
        sa.Column('step', sa.String(length=40), nullable=True),
        sa.Column('message', sa.Text(), nullable=True),
        sa.Column('result', sa.JSON(), nullable=True),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('created_at', UTC(), nullable=False),
        sa.Column('started_at', UTC(), nullable=True),
        sa.Column('lease_until', UTC(), nullable=True),
        sa.Column('finished_at', UTC(), nullable=True),
        sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_recording_jobs_session', 'recording_jobs', ['session_id', 'kind'])
    op.create_table(
        'publications',
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('draft', sa.JSON(), nullable=False),
        sa.Column('draft_updated_at', UTC(), nullable=False),
        sa.Column('draft_updated_by', sa.String(length=100), nullable=False),
        sa.Column('published', sa.JSON(), nullable=True),
        sa.Column('first_published_at', UTC(), nullable=True),
        sa.Column('published_at', UTC(), nullable=True),
        sa.Column('published_by', sa.String(length=100), nullable=True),
        sa.Column('version', sa.Integer(), server_default='0', nullable=False),
        sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('session_id'),
    )


def downgrade() -> None:
    op.drop_table('publications')
    op.drop_index('ix_recording_jobs_session', table_name='recording_jobs')
    op.drop_table('recording_jobs')
