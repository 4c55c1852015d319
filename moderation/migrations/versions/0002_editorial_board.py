"""the editorial board: question workflow columns, script approval, tokens, staff sessions, audit log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import moderation.schema

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

UTC = moderation.schema.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table('sessions') as batch:
        batch.add_column(sa.Column('script_approved_at', UTC(), nullable=True))
        batch.add_column(sa.Column('script_approved_by', sa.String(length=100), nullable=True))
    with op.batch_alter_table('questions') as batch:
        batch.add_column(sa.Column('display_text', sa.Text(), nullable=True))
        batch.add_column(sa.Column('decline_note', sa.Text(), nullable=True))
        batch.add_column(sa.Column('department', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('answer', sa.Text(), nullable=True))
        batch.add_column(sa.Column('starred', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column('held', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column('queue_position', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('merged_into', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('merged_count', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('protected', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column('forward_due', UTC(), nullable=True))
        batch.add_column(sa.Column('confirmed_by', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('aired_at', UTC(), nullable=True))
        batch.add_column(sa.Column('answered_at', UTC(), nullable=True))
        batch.create_index('ix_questions_session_updated', ['session_id', 'updated_at'], unique=False)
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('department', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('locked_until', UTC(), nullable=True))
    op.create_table('api_tokens',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('label', sa.String(length=100), nullable=False),
        sa.Column('created_at', UTC(), nullable=False),
        sa.Column('revoked_at', UTC(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    op.create_table('staff_sessions',
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', UTC(), nullable=False),
        sa.Column('expires_at', UTC(), nullable=False),
        sa.Column('ended_at', UTC(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('token_hash'),
    )
    op.create_table('audit_log',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('at', UTC(), nullable=False),
        sa.Column('actor', sa.String(length=100), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('action', sa.String(length=40), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=True),
        sa.Column('question_id', sa.Integer(), nullable=True),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.Column('prev_hash', sa.String(length=64), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    # Append-only: the database itself refuses to change or remove a row of the audit log.
    if op.get_bind().dialect.name == 'sqlite':
        for verb in ('UPDATE', 'DELETE'):
            op.execute(f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                       f"BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END")
    else:
        op.execute("CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                   "$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$")
        op.execute("CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
                   "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    op.drop_table('audit_log')
    op.drop_table('staff_sessions')
    op.drop_table('api_tokens')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('locked_until')
        batch.drop_column('failed_logins')
        batch.drop_column('department')
    with op.batch_alter_table('questions') as batch:
        batch.drop_index('ix_questions_session_updated')
        for col in ('answered_at', 'aired_at', 'confirmed_by', 'forward_due', 'protected', 'merged_count',
                    'merged_into', 'queue_position', 'held', 'starred', 'answer', 'department', 'decline_note',
                    'display_text'):
            batch.drop_column(col)
    with op.batch_alter_table('sessions') as batch:
        batch.drop_column('script_approved_by')
        batch.drop_column('script_approved_at')
