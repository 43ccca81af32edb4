"""The production server (gunicorn with console/gunicorn.conf.py) keeps answering while clients
send half a request and stall, and disconnects those clients after its timeout.

With gunicorn's own gthread worker each stalled client holds one thread until it goes away, so
workers x threads of them stop the server; with the sync worker a single one does.
"""

from __future__ import annotations

import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.test_concurrent_use import ROOT, free_port, manage, postgresql_server, server_env

PRODUCTION_COMMAND = [sys.executable, "-m", "gunicorn", "-c", "console/gunicorn.conf.py"]
WORKERS, THREADS = 2, 2
TIMEOUT = 3  # seconds a client has to send its request
STALLED = 5 * WORKERS * THREADS
PROMPTLY = 2.0  # seconds; under TIMEOUT, so no answer can wait for a stalled client to be cut off

HALF_SENT = [
    b"GET /logon/ HTT",  # the request line
    b"GET /logon/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: sl",  # the headers
    b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    b"Content-Length: 200\r\n\r\nAction=GetCallerIdentity&Ver",  # the body
]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory) -> Iterator[str]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('slow') / 'ram-console.sqlite3'}"
        return
    server = postgresql_server()
    if not server:
        pytest.skip("no PostgreSQL server to run on: set DATABASE_URL=postgres://… (CI does)")
    import psycopg

    name = f"ram_console_slow_{secrets.token_hex(4)}"
    parts = urlsplit(server)
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield parts._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def answered(port: int, path: str, timeout: float = 10.0) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.fixture(scope="module")
def port(database_url: str) -> Iterator[int]:
    """The production command, migrated, on a port of its own."""
    env = server_env(database_url)
    manage(env, "migrate")
    port = free_port()
    process = subprocess.Popen(
        [
            *PRODUCTION_COMMAND,
            "console.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(WORKERS),
            "--threads",
            str(THREADS),
            "--timeout",
            str(TIMEOUT),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "gunicorn exited"
            try:
                if answered(port, "/health/", timeout=2) == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture
def stalled(port: int) -> Iterator[list[socket.socket]]:
    """More half-sent requests than the workers have threads, kept open."""
    clients = []
    for number in range(STALLED):
        client = socket.create_connection(("127.0.0.1", port))
        client.sendall(HALF_SENT[number % len(HALF_SENT)])
        clients.append(client)
    time.sleep(0.5)  # the workers have accepted them and read what there is
    yield clients
    for client in clients:
        client.close()


def answer_time(port: int, path: str) -> tuple[int, float]:
    started = time.monotonic()
    status = answered(port, path, timeout=PROMPTLY)
    return status, time.monotonic() - started


def test_complete_requests_are_answered_promptly_beside_stalled_ones(port, stalled) -> None:  # type: ignore[no-untyped-def]
    answers = [answer_time(port, path) for path in ("/health/", "/logon/") * 3]
    assert [status for status, _ in answers] == [200] * 6
    assert max(seconds for _, seconds in answers) < PROMPTLY


def test_stalled_clients_are_answered_408_and_disconnected_after_the_timeout(port, stalled) -> None:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    heard = []
    for client in stalled:
        client.settimeout(TIMEOUT + 5)
        received = b""
        while chunk := client.recv(4096):
            received += chunk
        heard.append(received.split(b"\r\n", 1)[0])
    assert heard == [b"HTTP/1.1 408 Request Timeout"] * STALLED
    assert time.monotonic() - started < TIMEOUT + 3


def test_a_request_trickling_in_within_the_timeout_is_answered(port) -> None:  # type: ignore[no-untyped-def]
    client = socket.create_connection(("127.0.0.1", port))
    for piece in (
        b"GET /hea",
        b"lth/ HTTP/1.1\r\nHost: 127.",
        b"0.0.1\r\nConnection: close\r\n\r\n",
    ):
        client.sendall(piece)
        time.sleep(0.4)
    client.settimeout(5)
    assert client.recv(4096).startswith(b"HTTP/1.1 200 OK")
    client.close()
