"""receipts derived from the session's receipt key and the idempotency key; one unique index

Questions stored before this keep their random receipts; their idempotency keys move to
legacy_idempotency_keys so a resend of one still finds it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""
from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sessions') as batch:
        batch.add_column(sa.Column('receipt_key', sa.String(length=32), nullable=True))
    conn = op.get_bind()
    for (session_id,) in conn.execute(sa.text("SELECT id FROM sessions")).fetchall():
        conn.execute(sa.text("UPDATE sessions SET receipt_key = :k WHERE id = :id"),
                     {"k": secrets.token_hex(16), "id": session_id})
    with op.batch_alter_table('sessions') as batch:
        batch.alter_column('receipt_key', existing_type=sa.String(length=32), nullable=False)

    op.create_table(
        'legacy_idempotency_keys',
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('idempotency_key', sa.String(length=80), nullable=False),
        sa.Column('question_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['question_id'], ['questions.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('session_id', 'idempotency_key'),
    )
    op.execute("INSERT INTO legacy_idempotency_keys (session_id, idempotency_key, question_id)"
               " SELECT session_id, idempotency_key, id FROM questions")
    with op.batch_alter_table('questions') as batch:
        batch.drop_constraint('uq_questions_idempotency', type_='unique')


def downgrade() -> None:
    with op.batch_alter_table('questions') as batch:
        batch.create_unique_constraint('uq_questions_idempotency', ['session_id', 'idempotency_key'])
    op.drop_table('legacy_idempotency_keys')
    with op.batch_alter_table('sessions') as batch:
        batch.drop_column('receipt_key')
