"""Hot-path benchmark: one request at a time through Django's WSGI handler, in this process.

    uv run python -m tests.bench.hotpath [--requests 3000] [--phases baseline assume identity]
                                         [--redis redis://127.0.0.1:6379/14]

No HTTP server and no concurrency, so what is left is the cost of one request: wall time, this
process's CPU (Python) and the CPU of this connection's PostgreSQL backend (from ``/proc``), per
request. Sequential wall time includes each commit's wait for the disk, which the closed-loop
benchmark (``tests.bench.api``) overlaps with other requests' work. The phases are those of
``tests.bench.api``, against the same database (DATABASE_URL, default ``ram_console_bench``),
with nonces in the database, or with ``--redis`` in Redis (the accounts' versions read there).
"""

from __future__ import annotations

import argparse
import io
import os
import time
from typing import Any

from tests.bench import api as bench

PHASES = ("baseline", "assume", "identity")
WARM_UP = 200


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=3000, help="measured, per phase")
    parser.add_argument("--phases", nargs="+", choices=PHASES, default=list(PHASES))
    parser.add_argument("--redis", default="", help="nonces (and versions) in this Redis")
    options = parser.parse_args()

    database = os.environ.get("DATABASE_URL", bench.DEFAULT_DB)
    bench.ensure_database(database)
    env = bench.bench_env(database)
    os.environ.update(env)
    os.environ["NONCE_STORE_URL"] = options.redis
    creds = bench.seed(env)

    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler

    app = WSGIHandler()
    creds = with_role_credentials(app, creds)
    backend = backend_pid()
    print(
        f"{options.requests} sequential requests per phase, in process; per request:\n"
        f"{'phase':<12}{'wall ms':>9}{'Python ms':>11}{'PostgreSQL ms':>15}"
    )
    for kind in options.phases:
        requests = bench.presigned(kind, creds, options.requests + WARM_UP)
        for _ in range(WARM_UP):
            send(app, *requests.popleft())
        backend_before, python_before = bench.process_cpu(backend), time.process_time()
        started = time.perf_counter()
        while requests:
            send(app, *requests.popleft())
        wall = time.perf_counter() - started
        python = time.process_time() - python_before
        postgres = bench.process_cpu(backend) - backend_before
        per = 1000 / options.requests
        print(f"{kind:<12}{wall * per:>9.3f}{python * per:>11.3f}{postgres * per:>15.3f}")


def send(app: Any, method: str, path: str) -> bytes:
    route, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": route,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "HTTP_HOST": "127.0.0.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_LENGTH": "0",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "http",
    }
    statuses: list[str] = []
    body = b"".join(app(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    if not statuses[0].startswith("200"):
        raise SystemExit(f"{method} {route} answered {statuses[0]}: {body[:300]!r}")
    return body


def with_role_credentials(app: Any, creds: dict) -> dict:
    return bench.with_issued(creds, send(app, "POST", bench.assume_role_path(creds)))


def backend_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


if __name__ == "__main__":
    main()
