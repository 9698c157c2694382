"""A real PostgreSQL server for these tests: Debian's `postgresql` binaries, a throwaway cluster
in a temporary folder on a free loopback port, started once per session and stopped after it.
`.ci/run` installs the package; without it these tests fail and say so (they never skip)."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest


def _server_binaries() -> Path:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not candidates:
        raise RuntimeError(
            "PostgreSQL server binaries not found under /usr/lib/postgresql: "
            "install Debian's `postgresql` package (.ci/run does)"
        )
    return candidates[-1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_server() -> dict[str, str]:
    """PG* variables of a fresh server with an empty database `lgperf`."""
    binaries = _server_binaries()
    # not under pytest's tmp_path: its parents are private to root, and the server runs as `postgres`
    data = Path(tempfile.mkdtemp(prefix="lgperf-postgres-")) / "data"
    data.mkdir()
    # the server refuses to run as root: it runs as the `postgres` user the package creates
    as_user: list[str] = []
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        for folder in (data, data.parent):
            os.chown(folder, owner.pw_uid, owner.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    subprocess.run(
        [*as_user, str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *as_user,
            str(binaries / "pg_ctl"),
            "-D",
            str(data),
            "-w",
            "-l",
            str(data / "server.log"),
            "-o",
            f"-c listen_addresses=127.0.0.1 -p {port} -k {data} -c fsync=off",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    environment = {
        "PGHOST": "127.0.0.1",
        "PGPORT": str(port),
        "PGUSER": "postgres",
        "PGPASSWORD": "",
        "PGDATABASE": "lgperf",
    }
    try:
        psql = shutil.which("psql") or str(binaries / "psql")
        subprocess.run(
            [psql, "-d", "postgres", "-c", "CREATE DATABASE lgperf"],
            check=True,
            capture_output=True,
            env={**os.environ, **environment},
        )
        yield environment
    finally:
        subprocess.run([*as_user, str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"], capture_output=True)
        shutil.rmtree(data.parent, ignore_errors=True)


def create_database(server: dict[str, str], name: str) -> None:
    """A fresh, empty database ``name`` on ``server`` (dropped first if a run left one)."""
    import psycopg2

    admin = psycopg2.connect(host=server["PGHOST"], port=server["PGPORT"], user="postgres", dbname="postgres")
    admin.autocommit = True  # CREATE DATABASE cannot run in a transaction
    try:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {name}")
        admin.cursor().execute(f"CREATE DATABASE {name}")
    finally:
        admin.close()


@pytest.fixture
def on_postgres(postgres_server, monkeypatch) -> dict[str, str]:
    """This test's environment pointing at the server (WAREHOUSE=postgres and the PG* variables)."""
    for name, value in {**postgres_server, "WAREHOUSE": "postgres"}.items():
        monkeypatch.setenv(name, value)
    return postgres_server
