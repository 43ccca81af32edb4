"""The real server, started by a test: a database of its own on each backend, the environment
it is configured from, ``manage.py``, and a server command run until it answers ``/health/``.

Used by the tests that need the production server itself (``test_slow_clients``) or the server
as ``manage.py demo`` starts it (``test_concurrent_use``).
"""

from __future__ import annotations

import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ["sqlite", "postgresql"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def postgresql_server() -> str:
    """The PostgreSQL server the suite was pointed at (DATABASE_URL), or ""."""
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else ""


@contextmanager
def scratch_database(backend: str, folder: Path, label: str) -> Iterator[str]:
    """The URL of a database for one server: an SQLite file in ``folder``, or a database
    ``ram_console_<label>_…`` made on the PostgreSQL server and dropped afterwards (the test is
    skipped when there is none)."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'ram-console.sqlite3'}"
        return
    server = postgresql_server()
    if not server:
        pytest.skip("no PostgreSQL server to run on: set DATABASE_URL=postgres://… (CI does)")
    import psycopg

    name = f"ram_console_{label}_{secrets.token_hex(4)}"
    parts = urlsplit(server)
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield parts._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_env(database_url: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
        "DATABASE_URL": database_url,
        "SECRET_KEY": "concurrency-test-secret-key",
        "CACHE_URL": "locmemcache://concurrency",
        "NONCE_STORE_URL": "",
        "CONN_MAX_AGE": "0",
    }


def manage(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout


def answered(port: int, path: str, timeout: float = 10.0) -> int:
    """The status of a GET of ``path``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


@contextmanager
def serving(
    command: list[str], env: dict[str, str], port: int, *, within: float
) -> Iterator[subprocess.Popen]:
    """``command``, run from the project's root in a process group of its own, once it answers
    ``/health/`` on ``port``; the test fails if it exits or stays silent for ``within`` seconds.
    Afterwards the group is stopped (SIGTERM, SIGKILL after 15 s). Its output is kept in a file,
    not a pipe nobody reads, so it never blocks the server; a failed start shows it."""
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=output,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + within
            while not started(port):
                if process.poll() is not None:
                    output.seek(0)
                    pytest.fail(f"{command} exited:\n{output.read().decode()}")
                if time.monotonic() > deadline:
                    pytest.fail(f"{command} did not answer /health/ within {within} s")
                time.sleep(0.2)
            yield process
        finally:
            with suppress(ProcessLookupError):  # the group is gone if the server exited
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def started(port: int) -> bool:
    try:
        return answered(port, "/health/", timeout=2) == 200
    except OSError:
        return False
