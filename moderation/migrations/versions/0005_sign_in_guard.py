"""sign-in guard: failures counted per (name, client address), a slowed account, the last sign-in

The account-wide lock (users.locked_until) gives way to a lock per name and address
(sign_in_guard), so an outsider cannot lock an officer out; users.slowed_until slows tries from
new addresses once an account has had many failures; users.last_sign_in_at for the admin page.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import moderation.schema

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

UTC = moderation.schema.UTCDateTime


def upgrade() -> None:
    op.create_table(
        'sign_in_guard',
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('client', sa.String(length=64), nullable=False),
        sa.Column('failures', sa.Integer(), server_default='0', nullable=False),
        sa.Column('last_failure_at', UTC(), nullable=True),
        sa.Column('locked_until', UTC(), nullable=True),
        sa.Column('signed_in_at', UTC(), nullable=True),
        sa.PrimaryKeyConstraint('name', 'client'),
    )
    op.create_index('ix_sign_in_guard_last_failure', 'sign_in_guard', ['last_failure_at'], unique=False)
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('slowed_until', UTC(), nullable=True))
        batch.add_column(sa.Column('last_sign_in_at', UTC(), nullable=True))
        batch.drop_column('locked_until')
    # the count so far was of failures in a row on the account; start the new count afresh
    op.execute("UPDATE users SET failed_logins = 0")


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('locked_until', UTC(), nullable=True))
        batch.drop_column('last_sign_in_at')
        batch.drop_column('slowed_until')
    op.drop_index('ix_sign_in_guard_last_failure', table_name='sign_in_guard')
    op.drop_table('sign_in_guard')
