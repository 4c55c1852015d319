"""follow-up after the session: deadlines, the departments' answers, the notification outbox, the
calendar's overrides, staff-entered questions, the standing forum, retention and data requests

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import moderation.schema

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

UTC = moderation.schema.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table('sessions') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=20), server_default='dialogue', nullable=False))
        batch.add_column(sa.Column('rule_set', sa.String(length=20), server_default='hai_phong', nullable=False))
        batch.add_column(sa.Column('retention_months', sa.Integer(), server_default='12', nullable=False))
        batch.add_column(sa.Column('erased_at', UTC(), nullable=True))
        batch.add_column(sa.Column('notice_at', UTC(), nullable=True))
    with op.batch_alter_table('questions') as batch:
        batch.add_column(sa.Column('entered_by', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('due_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('due_rule', sa.String(length=40), nullable=True))
        batch.add_column(sa.Column('due_from', sa.Date(), nullable=True))
        batch.add_column(sa.Column('due_extended_from', sa.Date(), nullable=True))
        batch.add_column(sa.Column('due_note', sa.Text(), nullable=True))
        batch.add_column(sa.Column('due_done_at', UTC(), nullable=True))
        batch.add_column(sa.Column('forwarded_at', UTC(), nullable=True))
        batch.add_column(sa.Column('forwarded_to', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('answer_by', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('answer_submitted_at', UTC(), nullable=True))
        batch.add_column(sa.Column('answer_return_note', sa.Text(), nullable=True))
    with op.batch_alter_table('askers') as batch:
        batch.add_column(sa.Column('email', sa.String(length=254), nullable=True))
        batch.add_column(sa.Column('erased_at', UTC(), nullable=True))
    with op.batch_alter_table('consent_records') as batch:
        batch.add_column(sa.Column('officer', sa.String(length=100), nullable=True))
    op.create_table(
        'calendar_overrides',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('working', sa.Boolean(), nullable=False),
        sa.Column('note', sa.String(length=200), nullable=False),
        sa.Column('created_by', sa.String(length=100), nullable=False),
        sa.Column('created_at', UTC(), nullable=False),
        sa.PrimaryKeyConstraint('day'),
    )
    op.create_table(
        'departments',
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('created_at', UTC(), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )
    op.create_table(
        'notifications',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('created_at', UTC(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=True),
        sa.Column('question_id', sa.Integer(), nullable=True),
        sa.Column('audience', sa.String(length=20), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('address', sa.String(length=254), nullable=True),
        sa.Column('department', sa.String(length=200), nullable=True),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('dedupe', sa.String(length=160), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('next_attempt_at', UTC(), nullable=True),
        sa.Column('claimed_until', UTC(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('sent_at', UTC(), nullable=True),
        sa.ForeignKeyConstraint(['session_id'], ['sessions.id']),
        sa.ForeignKeyConstraint(['question_id'], ['questions.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('dedupe'),
    )
    op.create_index('ix_notifications_due', 'notifications', ['state', 'next_attempt_at'])
    op.create_index('ix_notifications_question', 'notifications', ['question_id'])
    op.create_table(
        'answer_attachments',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('question_id', sa.Integer(), nullable=False),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('uploaded_by', sa.String(length=100), nullable=False),
        sa.Column('uploaded_at', UTC(), nullable=False),
        sa.Column('removed_at', UTC(), nullable=True),
        sa.ForeignKeyConstraint(['question_id'], ['questions.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_answer_attachments_question_id', 'answer_attachments', ['question_id'])
    op.create_table(
        'data_requests',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('question_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('received_at', UTC(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('entered_by', sa.String(length=100), nullable=True),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('done_at', UTC(), nullable=True),
        sa.Column('done_by', sa.String(length=100), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['question_id'], ['questions.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    op.drop_table('data_requests')
    op.drop_index('ix_answer_attachments_question_id', table_name='answer_attachments')
    op.drop_table('answer_attachments')
    op.drop_index('ix_notifications_question', table_name='notifications')
    op.drop_index('ix_notifications_due', table_name='notifications')
    op.drop_table('notifications')
    op.drop_table('departments')
    op.drop_table('calendar_overrides')
    with op.batch_alter_table('consent_records') as batch:
        batch.drop_column('officer')
    with op.batch_alter_table('askers') as batch:
        batch.drop_column('erased_at')
        batch.drop_column('email')
    with op.batch_alter_table('questions') as batch:
        for col in ('answer_return_note', 'answer_submitted_at', 'answer_by', 'forwarded_to', 'forwarded_at',
                    'due_done_at', 'due_note', 'due_extended_from', 'due_from', 'due_rule', 'due_on', 'entered_by'):
            batch.drop_column(col)
    with op.batch_alter_table('sessions') as batch:
        for col in ('notice_at', 'erased_at', 'retention_months', 'rule_set', 'kind'):
            batch.drop_column(col)
