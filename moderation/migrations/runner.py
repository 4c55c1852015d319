"""Run Alembic on a connection the store already holds (Alembic's connection-sharing recipe), so
`doithoai serve` and every CLI command bring the database to the current schema by themselves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

HERE = Path(__file__).parent


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(connection: Connection, revision: str = "head") -> None:
    command.upgrade(alembic_config(connection), revision)


def upgrade_sqlite(connection: Connection, revision: str = "head") -> None:
    """SQLite's procedure for changes that rebuild a table (Alembic's batch mode): foreign keys off
    outside the transaction, else dropping the old table would cascade-delete the rows that refer to
    it; `foreign_key_check` before COMMIT, so a migration that broke a reference is rolled back."""
    raw = connection.connection.dbapi_connection
    assert raw is not None
    _pragma(raw, "foreign_keys=OFF")
    try:
        with connection.begin():
            upgrade(connection, revision)
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"migration broke {len(broken)} foreign key reference(s), rolled back: {broken[:5]}")
    finally:
        _pragma(raw, "foreign_keys=ON")


def _pragma(raw: Any, pragma: str) -> None:
    cur = raw.cursor()
    cur.execute(f"PRAGMA {pragma}")
    cur.close()
