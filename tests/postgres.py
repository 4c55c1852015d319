"""A throwaway PostgreSQL cluster for the tests: initdb in a temporary directory, a server on a
free port, one database per test. Debian's postgresql binaries; as root, run as `postgres`
(initdb refuses root)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import free_port


def _bin(name: str) -> str:
    on_path = shutil.which(name)
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or ([on_path] if on_path else [])
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} not found: `make test` installs Debian's postgresql")
    return str(found[-1])


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


class PostgresCluster:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="doithoai-pg-"))
        self.port = free_port()
        self._databases = 0

    def start(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        data = self.dir / "data"
        subprocess.run(_as_postgres([_bin("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                                     "--encoding=UTF8", "--locale=C.UTF-8"]), check=True, capture_output=True)
        subprocess.run(
            _as_postgres([_bin("pg_ctl"), "-D", str(data), "-l", str(self.dir / "log"), "-w", "start", "-o",
                          f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=on"]),
            check=True, capture_output=True,
        )

    def new_database(self) -> str:
        self._databases += 1
        name = f"doithoai_{self._databases}"
        subprocess.run(_as_postgres([_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                                     name]), check=True, capture_output=True)
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        subprocess.run(_as_postgres([_bin("pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate", "stop"]),
                       capture_output=True)
        time.sleep(0.1)
        shutil.rmtree(self.dir, ignore_errors=True)


def cluster() -> Iterator[PostgresCluster]:
    pg = PostgresCluster()
    pg.start()
    try:
        yield pg
    finally:
        pg.stop()
