"""API benchmark: gunicorn (2 workers) on PostgreSQL, signed requests from several processes.

    uv run python -m tests.bench.api [--seconds 10] [--processes 4] [--threads 8]

Reports requests/s and p50/p99 latency for, in the same run:
  baseline         GET /health/ (a trivial JSON view doing one indexed query)
  AssumeRole       signed V2 AssumeRole by a RAM user of another account (fresh nonce each)
  GetCallerIdentity signed with role credentials (the token-verification path)
and the ratios against the baseline, plus each worker's resident memory before and after.
Needs PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/ram_console_bench).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from multiprocessing import Pool
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/ram_console_bench"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


def seed(env: dict[str, str]) -> dict[str, str]:
    script = """
import json, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from iam import services
from iam.audit import SYSTEM_ACTOR
from iam.models import Account, Policy
from iam.system_policies import ensure_system_policies
ensure_system_policies()
import secrets
suffix = secrets.token_hex(3)
a = services.create_account(SYSTEM_ACTOR, f"bench-a-{suffix}", email=f"a-{suffix}@bench.example")
b = services.create_account(SYSTEM_ACTOR, f"bench-b-{suffix}", email=f"b-{suffix}@bench.example")
trust = json.dumps({"Version": "1", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
    "Principal": {"RAM": [f"acs:ram::{b.pk}:root"]}}]})
role = services.create_role(SYSTEM_ACTOR, a, "bench", trust_policy=trust)
services.attach_policy(SYSTEM_ACTOR, role, Policy.objects.get(account__isnull=True, name="AliyunRAMReadOnlyAccess"))
user = services.create_user(SYSTEM_ACTOR, b, "loader")
services.attach_policy(SYSTEM_ACTOR, user, Policy.objects.get(account__isnull=True, name="AliyunSTSAssumeRoleAccess"))
key = services.create_access_key(SYSTEM_ACTOR, user)
print(json.dumps({"key": key.access_key.access_key_id, "secret": key.secret, "role": role.arn}))
"""
    output = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def signed_path(action: str, key: str, secret: str, token: str | None = None, **params: str) -> str:
    from sts.signing import sign_v2

    signed = sign_v2(
        "POST",
        {"Action": action, "Version": "2015-04-01", "Format": "JSON", **params},
        key,
        secret,
        nonce=secrets.token_hex(16),
        timestamp=datetime.now(UTC),
        security_token=token,
    )
    return "/?" + urlencode(signed)


def presigned(kind: str, creds: dict, count: int) -> deque[tuple[str, str]]:
    """Requests signed before the clock starts (fresh nonce each), so the clients' signing work
    does not compete with the server for the same two cores while it is measured."""
    requests: deque[tuple[str, str]] = deque()
    for _ in range(count):
        if kind == "baseline":
            requests.append(("GET", "/health/"))
        elif kind == "assume":
            requests.append(
                (
                    "POST",
                    signed_path(
                        "AssumeRole",
                        creds["key"],
                        creds["secret"],
                        RoleArn=creds["role"],
                        RoleSessionName="bench",
                    ),
                )
            )
        else:
            requests.append(
                (
                    "POST",
                    signed_path(
                        "GetCallerIdentity", creds["sts_key"], creds["sts_secret"], creds["token"]
                    ),
                )
            )
    return requests


def client_process(args: tuple) -> list[float]:
    port, kind, requests, seconds, threads = args
    deadline = time.monotonic() + seconds

    def worker(_: int) -> list[float]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies = []
        while time.monotonic() < deadline:
            try:
                method, path = requests.popleft()
            except IndexError:
                break
            started = time.perf_counter()
            connection.request(method, path, headers={"Content-Length": "0"})
            response = connection.getresponse()
            body = response.read()
            if response.status != 200:
                raise RuntimeError(f"{kind}: HTTP {response.status} {body[:300]!r}")
            latencies.append(time.perf_counter() - started)
        connection.close()
        return latencies

    with ThreadPoolExecutor(threads) as pool:
        return [latency for chunk in pool.map(worker, range(threads)) for latency in chunk]


def measure(
    port: int, kind: str, creds: dict, seconds: float, processes: int, threads: int
) -> dict[str, float]:
    budget = int(seconds * 1500 / processes) + 100
    batches = [presigned(kind, creds, budget) for _ in range(processes)]
    with Pool(processes) as pool:
        started = time.monotonic()
        results = pool.map(
            client_process, [(port, kind, batch, seconds, threads) for batch in batches]
        )
        elapsed = time.monotonic() - started
    latencies = sorted(latency for chunk in results for latency in chunk)
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def worker_rss(master_pid: int) -> list[int]:
    children = subprocess.run(
        ["pgrep", "-P", str(master_pid)], capture_output=True, text=True
    ).stdout.split()
    sizes = []
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        sizes.append(
            int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")))
        )
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8)
    options = parser.parse_args()

    database = os.environ.get("DATABASE_URL", DEFAULT_DB)
    ensure_database(database)
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "DJANGO_SETTINGS_MODULE": "console.settings",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-secret-key"),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    os.environ.update(env)
    creds = seed(env)
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "console.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--worker-class",
            "gthread",
            "--threads",
            "8",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/health/")
                break
            except OSError:
                time.sleep(0.1)
        time.sleep(1)
        connection = http.client.HTTPConnection("127.0.0.1", port)
        connection.request(
            "POST",
            signed_path(
                "AssumeRole",
                creds["key"],
                creds["secret"],
                RoleArn=creds["role"],
                RoleSessionName="bench",
                DurationSeconds="3600",
            ),
            headers={"Content-Length": "0"},
        )
        issued = json.loads(connection.getresponse().read())["Credentials"]
        creds.update(
            sts_key=issued["AccessKeyId"],
            sts_secret=issued["AccessKeySecret"],
            token=issued["SecurityToken"],
        )
        rss_before = worker_rss(server.pid)
        concurrency = options.processes * options.threads
        print(
            f"gunicorn 2 workers (gthread x8) on PostgreSQL; {concurrency} concurrent clients "
            f"({options.processes} processes x {options.threads} threads), "
            f"{options.seconds:.0f} s per phase\n"
        )
        print(f"{'phase':<34}{'requests':>9}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'ratio':>8}")
        results = {}
        for kind, label in (
            ("baseline", "baseline /health/ (1 indexed read)"),
            ("assume", "AssumeRole (signed V2)"),
            ("identity", "GetCallerIdentity (role token)"),
        ):
            results[kind] = measure(
                port, kind, creds, options.seconds, options.processes, options.threads
            )
            figures = results[kind]
            ratio = figures["rps"] / results["baseline"]["rps"]
            print(
                f"{label:<34}{figures['requests']:>9}{figures['rps']:>9.0f}"
                f"{figures['p50']:>9.1f}{figures['p99']:>9.1f}{ratio:>7.2f}x"
            )
        rss_after = worker_rss(server.pid)
        total = sum(figures["requests"] for figures in results.values())
        print(
            f"\nworker RSS before: {[f'{kb / 1024:.0f} MiB' for kb in rss_before]}, after "
            f"{total} requests: {[f'{kb / 1024:.0f} MiB' for kb in rss_after]}"
        )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
