"""A real, throwaway PostgreSQL server (the production database) for tests and benchmarks.

Started from Debian's PostgreSQL binaries in a temporary folder on a free loopback port, fsync off;
root cannot run PostgreSQL, so it runs as the `postgres` user when we are root. Stopped and removed on exit.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class PostgresMissing(RuntimeError):
    """Debian's PostgreSQL is not installed."""


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@contextmanager
def throwaway_postgres(prefix: str = "pharmwatch-pg-") -> Iterator[str]:
    """A running server's SQLAlchemy URL (`postgresql+psycopg://postgres@127.0.0.1:PORT/postgres`)."""
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not bins:
        raise PostgresMissing("PostgreSQL is not installed: `make test` installs it (Debian package postgresql)")
    bin_dir = bins[-1].parent
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = str(folder / "data")
    try:
        subprocess.run(_as_postgres([str(bin_dir / "initdb"), "-D", data, "-A", "trust", "-U", "postgres",
                                     "-E", "UTF8", "--locale=C.UTF-8"]), check=True, capture_output=True)
        subprocess.run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", data, "-o",
                                     f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                                     "-c max_connections=300",
                                     "-l", str(folder / "log"), "-w", "start"]), check=True, capture_output=True)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", data, "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
