"""API benchmark: gunicorn (2 workers) on PostgreSQL, signed requests from several processes.

    uv run python -m tests.bench.api [--seconds 30] [--rounds 5] [--processes 4] [--threads 8]
                                     [--server-threads 8] [--redis redis://127.0.0.1:6379/14]

Phases, interleaved round after round so that a shared machine's drift hits them alike:
  baseline           GET /health/ (a trivial JSON view doing one indexed ORM read)
  AssumeRole         signed V2 AssumeRole by a RAM user of another account (fresh nonce each)
  GetCallerIdentity  signed with role credentials (the token-verification path)
the API phases once with nonces in PostgreSQL and, when Redis answers, once with nonces in Redis
(a second gunicorn). Reports requests/s and the ratio to the same round's baseline (medians over
the rounds), p50/p99 latency, CPU ms per request of server, PostgreSQL and clients, the same
phases paced at half their throughput (open loop, one round long), and the workers' memory
before and after each round.
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


def settle_database(url: str) -> None:
    """Vacuum and checkpoint after the closed-loop rounds' hundreds of thousands of inserts, so
    that PostgreSQL's background catch-up does not land on whichever paced phase runs first."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")
        connection.execute("CHECKPOINT")


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


def client_process(args: tuple) -> tuple[list[float], float]:
    port, kind, requests, seconds, threads, rate = args
    cpu_started = time.process_time()
    begin = time.perf_counter()
    deadline = time.monotonic() + seconds
    # Paced (open loop): each thread sends on a fixed schedule and latency counts from the
    # scheduled instant, so a slow answer's queueing delay is not hidden (coordinated omission).
    interval = threads / rate if rate else 0.0

    def worker(index: int) -> list[float]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies = []
        scheduled = begin + index * interval / threads
        while time.monotonic() < deadline:
            try:
                method, path = requests.popleft()
            except IndexError:
                break
            if interval:
                scheduled += interval
                time.sleep(max(0.0, scheduled - time.perf_counter()))
                started = scheduled
            else:
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
        latencies = [latency for chunk in pool.map(worker, range(threads)) for latency in chunk]
    return latencies, time.process_time() - cpu_started


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of one process (0 when it is gone)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def database_pids() -> list[int]:
    pids = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() == "postgres":
                pids.append(int(comm.parent.name))
        except OSError:
            continue
    return pids


def cpu_of(pids: list[int]) -> dict[int, float]:
    return {pid: process_cpu(pid) for pid in pids}


def cpu_spent(before: dict[int, float], pids: list[int]) -> float:
    """CPU spent since ``before`` by ``pids`` (processes that started meanwhile count whole)."""
    return sum(process_cpu(pid) - before.get(pid, 0.0) for pid in pids)


def measure(
    port: int,
    kind: str,
    creds: dict,
    seconds: float,
    processes: int,
    threads: int,
    server_pids: list[int],
    rate: float = 0.0,
) -> dict[str, float]:
    """Closed loop (each client sends its next request when the last is answered), or paced at
    ``rate`` requests/s in all when given."""
    budget = int(seconds * (rate or 1500) / processes) + 100
    batches = [presigned(kind, creds, budget) for _ in range(processes)]
    with Pool(processes) as pool:
        server_cpu = cpu_of(server_pids)
        database_cpu = cpu_of(database_pids())
        started = time.monotonic()
        results = pool.map(
            client_process,
            [(port, kind, batch, seconds, threads, rate / processes) for batch in batches],
        )
        elapsed = time.monotonic() - started
        server_cpu = cpu_spent(server_cpu, server_pids)
        database_cpu = cpu_spent(database_cpu, database_pids())
    latencies = sorted(latency for chunk, _ in results for latency in chunk)
    count = len(latencies)
    return {
        "requests": count,
        "rps": count / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(count * 0.99) - 1] * 1000,
        "server_ms": server_cpu / count * 1000,
        "database_ms": database_cpu / count * 1000,
        "client_ms": sum(cpu for _, cpu in results) / count * 1000,
        "latencies": latencies,
    }


def combine(runs: list[dict], baselines: list[dict]) -> dict[str, float]:
    """Rounds of one phase: median throughput, median ratio against the same round's baseline,
    latency percentiles and CPU over every request of every round."""
    latencies = sorted(latency for run in runs for latency in run["latencies"])
    count = len(latencies)

    def per_request(key: str) -> float:
        return sum(run[key] * run["requests"] for run in runs) / count

    return {
        "requests": count,
        "rps": statistics.median(run["rps"] for run in runs),
        "ratio": statistics.median(
            run["rps"] / baseline["rps"] for run, baseline in zip(runs, baselines, strict=True)
        ),
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(count * 0.99) - 1] * 1000,
        "server_ms": per_request("server_ms"),
        "database_ms": per_request("database_ms"),
        "client_ms": per_request("client_ms"),
    }


def worker_pids(master_pid: int) -> list[int]:
    children = subprocess.run(
        ["pgrep", "-P", str(master_pid)], capture_output=True, text=True
    ).stdout.split()
    return [int(pid) for pid in children]


def worker_rss(master_pid: int) -> list[int]:
    sizes = []
    for pid in worker_pids(master_pid):
        status = Path(f"/proc/{pid}/status").read_text()
        sizes.append(
            int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")))
        )
    return sizes


def start_server(env: dict[str, str], threads: int) -> tuple[subprocess.Popen, int]:
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
            str(threads),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(100):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/health/")
            break
        except OSError:
            time.sleep(0.1)
    time.sleep(1)
    return server, port


def role_credentials(port: int, creds: dict) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port)
    connection.request("POST", assume_role_path(creds), headers={"Content-Length": "0"})
    return with_issued(creds, connection.getresponse().read())


def assume_role_path(creds: dict) -> str:
    """The signed AssumeRole that hands the benchmarks their role credentials."""
    return signed_path(
        "AssumeRole",
        creds["key"],
        creds["secret"],
        RoleArn=creds["role"],
        RoleSessionName="bench",
        DurationSeconds="3600",
    )


def with_issued(creds: dict, answer: bytes) -> dict:
    """``creds`` with the role credentials of an AssumeRole answer."""
    issued = json.loads(answer)["Credentials"]
    return {
        **creds,
        "sts_key": issued["AccessKeyId"],
        "sts_secret": issued["AccessKeySecret"],
        "token": issued["SecurityToken"],
    }


def redis_available(url: str) -> bool:
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception:
        return False
    return True


def bench_env(database: str) -> dict[str, str]:
    """The environment of the servers under test (and of the seeding): nonces in the database."""
    return {
        **os.environ,
        "DATABASE_URL": database,
        "DJANGO_SETTINGS_MODULE": "console.settings",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-secret-key"),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CACHE_URL": "locmemcache://bench",
        "NONCE_STORE_URL": "",
        # Keep each thread's PostgreSQL backend for the whole run, so its CPU is counted.
        "CONN_MAX_AGE": "600",
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=30, help="per phase, all rounds")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--server-threads", type=int, default=8)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    options = parser.parse_args()

    database = os.environ.get("DATABASE_URL", DEFAULT_DB)
    ensure_database(database)
    env = bench_env(database)
    os.environ.update(env)
    creds = seed(env)
    servers = {"database": start_server(env, options.server_threads)}
    if redis_available(options.redis):
        servers["redis"] = start_server(
            {**env, "CACHE_URL": options.redis, "NONCE_STORE_URL": options.redis},
            options.server_threads,
        )
    else:
        print(f"(no Redis at {options.redis}: measuring with nonces in PostgreSQL only)")
    try:
        phases = [("baseline", "database", "baseline /health/ (1 indexed read)")]
        for store, where in (("database", "PostgreSQL"), ("redis", "Redis")):
            if store in servers:
                phases += [
                    ("assume", store, f"AssumeRole, nonces in {where}"),
                    ("identity", store, f"GetCallerIdentity, nonces in {where}"),
                ]
        credentials = {store: role_credentials(port, creds) for store, (_, port) in servers.items()}
        # Warm up every worker thread (imports, its PostgreSQL connection, prepared statements)
        # so that no phase pays a cold start.
        for kind, store, _ in phases:
            server, port = servers[store]
            measure(port, kind, credentials[store], 1, options.processes, options.threads, [])
        rss_before = {store: worker_rss(server.pid) for store, (server, _) in servers.items()}
        concurrency = options.processes * options.threads
        print(
            f"gunicorn 2 workers (gthread x{options.server_threads}) on PostgreSQL; "
            f"{concurrency} concurrent clients ({options.processes} processes x "
            f"{options.threads} threads), {options.seconds:.0f} s per phase in {options.rounds} interleaved rounds, closed loop; "
            "req/s and ratio are medians over the rounds\n"
        )
        print(
            f"{'phase':<40}{'requests':>9}{'req/s':>7}{'p50 ms':>8}{'p99 ms':>8}{'ratio':>7}"
            f"   CPU ms/request: server / PostgreSQL / clients"
        )
        # Phases run interleaved, round after round, and each ratio is taken against the same
        # round's baseline: a shared machine's speed drifts, and this keeps the drift out of it.
        runs: dict[str, list[dict]] = {label: [] for _, _, label in phases}
        memory: dict[str, list[tuple[int, list[int]]]] = {store: [] for store in servers}
        for _ in range(options.rounds):
            for kind, store, label in phases:
                server, port = servers[store]
                runs[label].append(
                    measure(
                        port,
                        kind,
                        credentials[store],
                        options.seconds / options.rounds,
                        options.processes,
                        options.threads,
                        [server.pid, *worker_pids(server.pid)],
                    )
                )
            for store, (server, _) in servers.items():
                served = sum(
                    run["requests"]
                    for _, phase_store, label in phases
                    if phase_store == store
                    for run in runs[label]
                )
                memory[store].append((served, worker_rss(server.pid)))
        baseline_label = phases[0][2]
        results = {label: combine(runs[label], runs[baseline_label]) for label in runs}
        for label, figures in results.items():
            print_row(label, figures)
        settle_database(database)
        # Warm up again, unmeasured: the first seconds after the vacuum and checkpoint stall now
        # and then (the paced baseline's p99 once read a second), and that is no phase's cost.
        for kind, store, _ in phases:
            server, port = servers[store]
            measure(port, kind, credentials[store], 2, options.processes, options.threads, [])
        print(
            f"\npaced at half of each phase's closed-loop throughput, {concurrency} connections "
            "(latency from the scheduled send time)"
        )
        print(f"{'phase':<40}{'requests':>9}{'req/s':>7}{'p50 ms':>8}{'p99 ms':>8}")
        paced_requests = dict.fromkeys(servers, 0)
        for kind, store, label in phases:
            server, port = servers[store]
            paced = measure(
                port,
                kind,
                credentials[store],
                options.seconds / options.rounds,
                options.processes,
                options.threads,
                [server.pid, *worker_pids(server.pid)],
                rate=results[label]["rps"] / 2,
            )
            paced_requests[store] += paced["requests"]
            print(
                f"{label:<40}{paced['requests']:>9}{paced['rps']:>7.0f}"
                f"{paced['p50']:>8.1f}{paced['p99']:>8.1f}"
            )
        titles = {
            "database": "server with nonces in PostgreSQL (it also serves the baseline)",
            "redis": "server with nonces in Redis (and the rows of sts.row_cache)",
        }
        for store, (server, _) in servers.items():
            sizes_after = worker_rss(server.pid)
            memory[store].append((memory[store][-1][0] + paced_requests[store], sizes_after))
            print(f"\nworker RSS, {titles[store]}:")
            print(f"  {'before':>16}: {mib(rss_before[store])}")
            for served, sizes in memory[store]:
                print(f"  {f'{served} requests':>16}: {mib(sizes)}")
    finally:
        for server, _ in servers.values():
            server.send_signal(signal.SIGTERM)
        for server, _ in servers.values():
            server.wait(timeout=30)


def mib(sizes: list[int]) -> str:
    return ", ".join(f"{kb / 1024:.1f} MiB" for kb in sizes)


def print_row(label: str, figures: dict[str, float]) -> None:
    print(
        f"{label:<40}{figures['requests']:>9}{figures['rps']:>7.0f}"
        f"{figures['p50']:>8.1f}{figures['p99']:>8.1f}{figures['ratio']:>6.2f}x"
        f"   {figures['server_ms']:.2f} / {figures['database_ms']:.2f} / "
        f"{figures['client_ms']:.2f}"
    )


if __name__ == "__main__":
    main()
