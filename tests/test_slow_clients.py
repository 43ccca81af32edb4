"""The production server (gunicorn with console/gunicorn.conf.py) keeps answering while clients
send half a request and stall, and disconnects those clients after its timeout.

With gunicorn's own gthread worker each stalled client holds one thread until it goes away, so
workers x threads of them stop the server; with the sync worker a single one does.
"""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Iterator

import pytest

from tests.servers import (
    BACKENDS,
    answered,
    free_port,
    manage,
    scratch_database,
    server_env,
    serving,
)

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


@pytest.fixture(scope="module", params=BACKENDS)
def database_url(request, tmp_path_factory) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with scratch_database(request.param, tmp_path_factory.mktemp("slow"), "slow") as url:
        yield url


@pytest.fixture(scope="module")
def port(database_url: str) -> Iterator[int]:
    """The production command, migrated, on a port of its own."""
    env = server_env(database_url)
    manage(env, "migrate")
    port = free_port()
    options = ["--workers", str(WORKERS), "--threads", str(THREADS), "--timeout", str(TIMEOUT)]
    command = [*PRODUCTION_COMMAND, "console.wsgi", "--bind", f"127.0.0.1:{port}", *options]
    with serving(command, env, port, within=60):
        yield port


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
