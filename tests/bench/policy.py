"""Benchmark of policy evaluation: ``uv run python -m tests.bench.policy``.

One principal holds 40 policies with 200 statements (ecs/oss/ram/sts/rds actions, wildcards,
IpAddress/Bool/StringEquals conditions, a few Deny statements). A workload of 2,000 distinct
(action, resource, context) requests is evaluated in a cycle by:

  naive           iam.policy.naive: decode every policy's JSON and try every statement per request
  compiled cold   compile the policies on every request (no caches; regexes built on first use)
  index only      compiled once; statements indexed by service; no decision cache
  cached          compiled once; decision LRU warm
  evaluate()      the top-level function with its module-level caches
  with dicts      evaluate() given the documents as dicts rather than ParsedPolicy objects

Then 50,000 principals, each with 3 policies out of a pool of 4,500 distinct ones, are compiled and
evaluated through the module-level LRUs while tracemalloc watches memory: it stays flat because
every cache is bounded. Deterministic: everything comes from random.Random(SEED). No Django.
"""

from __future__ import annotations

import random
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from iam.policy import (
    ParsedPolicy,
    cache_info,
    clear_caches,
    compile_policies,
    evaluate,
    parse_policy,
)
from iam.policy.naive import naive_evaluate

SEED = 20240601
ACCOUNT = "1234567890123456"
POLICY_COUNT = 40
STATEMENTS_PER_POLICY = 5
REQUEST_COUNT = 2000
SECONDS_PER_MODE = 1.0
AGREEMENT_SAMPLE_STEP = 4  # compare compiled with naive on every 4th request
PRINCIPAL_COUNT = 50_000
POLICY_POOL_SIZE = 4_500  # a little over the compiled-policy LRU bound (4,096)
POLICIES_PER_PRINCIPAL = 3
TARGET_SPEEDUP = 10

Request = tuple[str, str, dict[str, Any]]

API_NAMES = {
    "ecs": ["DescribeInstances", "DescribeDisks", "StartInstance", "StopInstance",
            "CreateInstance", "DeleteInstance", "ModifyInstanceAttribute"],
    "oss": ["GetObject", "PutObject", "ListObjects", "DeleteObject", "GetBucketInfo"],
    "ram": ["GetRole", "ListRoles", "CreateRole", "DeleteRole", "AttachPolicyToRole",
            "GetUser", "ListUsers", "DeleteUser"],
    "sts": ["AssumeRole", "GetCallerIdentity"],
    "rds": ["DescribeDBInstances", "CreateDBInstance", "ModifyDBInstanceSpec", "DeleteDBInstance"],
}  # fmt: skip
REGIONS = ["cn-hangzhou", "cn-shanghai", "cn-beijing", "ap-southeast-1"]
TEAMS = ["web", "data", "ops", "ml", "billing", "search"]
BUCKETS = ["logs", "assets", "backups", "reports"]
ENVIRONMENTS = ["prod", "staging", "dev"]
OFFICE_NETWORKS = ["10.0.0.0/8", "192.168.0.0/16", "203.0.113.0/24", "2001:db8::/32"]
SOURCE_IPS = [f"10.{n}.{n % 7}.{n % 13}" for n in range(12)] + [
    f"198.51.100.{n}" for n in range(10)
] + [f"203.0.113.{n}" for n in range(6)] + ["2001:db8::1", "2001:db8::2"]  # fmt: skip


# --- the principal ---------------------------------------------------------------------------


def resource_pattern(rng: random.Random, service: str, account: str) -> str:
    team = rng.choice(TEAMS)
    if service == "ecs":
        return f"acs:ecs:{rng.choice([*REGIONS, '*'])}:{account}:instance/i-{team}*"
    if service == "oss":
        return f"acs:oss:*:{account}:{rng.choice(BUCKETS)}/{team}/*"
    if service in ("ram", "sts"):
        return f"acs:ram:*:{account}:role/{team}-*"
    return f"acs:rds:{rng.choice(REGIONS)}:{account}:dbinstance/rm-{team}?*"


def action_patterns(rng: random.Random, service: str) -> list[str]:
    names = API_NAMES[service]
    choices = [
        [f"{service}:Describe*", f"{service}:List*", f"{service}:Get*"],
        [f"{service}:{name}" for name in rng.sample(names, min(3, len(names)))],
        [f"{service}:*"],
        [f"{service}:{rng.choice(names)}", f"{service}:Get*"],
    ]
    return rng.choice(choices)


def condition(rng: random.Random) -> dict[str, Any] | None:
    roll = rng.random()
    if roll < 0.15:
        return {"IpAddress": {"acs:SourceIp": rng.sample(OFFICE_NETWORKS, 2)}}
    if roll < 0.25:
        return {"Bool": {"acs:SecureTransport": "true"}}
    if roll < 0.32:
        return {"StringEquals": {"acs:RequestTag/env": rng.sample(ENVIRONMENTS, 2)}}
    if roll < 0.36:
        return {"Bool": {"acs:MFAPresent": "true"}, "IpAddress": {"acs:SourceIp": "10.0.0.0/8"}}
    return None


def statement(rng: random.Random, account: str) -> dict[str, Any]:
    service = rng.choice(list(API_NAMES))
    built: dict[str, Any] = {
        "Effect": "Allow",
        "Action": action_patterns(rng, service),
        "Resource": [resource_pattern(rng, service, account) for _ in range(rng.randint(1, 3))],
    }
    found = condition(rng)
    if found:
        built["Condition"] = found
    return built


def principal_documents(rng: random.Random, account: str = ACCOUNT) -> list[dict[str, Any]]:
    documents = [
        {"Version": "1", "Statement": [statement(rng, account) for _ in range(5)]}
        for _ in range(POLICY_COUNT)
    ]
    # A broad read-only grant, and a few explicit denies as real accounts have them.
    documents[0]["Statement"][0] = {"Effect": "Allow", "Action": ["*:Describe*"], "Resource": "*"}
    documents[1]["Statement"][0] = {"Effect": "Deny", "Action": "ram:Delete*", "Resource": "*"}
    documents[2]["Statement"][0] = {
        "Effect": "Deny",
        "Action": ["oss:DeleteObject", "oss:PutObject"],
        "Resource": f"acs:oss:*:{account}:backups/*",
        "Condition": {"NotIpAddress": {"acs:SourceIp": OFFICE_NETWORKS}},
    }
    documents[3]["Statement"][0] = {
        "Effect": "Deny",
        "NotAction": ["ecs:Describe*", "rds:Describe*"],
        "Resource": f"acs:*:*:{account}:*",
        "Condition": {"Bool": {"acs:SecureTransport": "false"}},
    }
    return documents


def parsed_principal(rng: random.Random) -> list[ParsedPolicy]:
    return [
        parse_policy(document, name=f"Policy{index:02d}", version="v1")
        for index, document in enumerate(principal_documents(rng))
    ]


# --- the workload ----------------------------------------------------------------------------


def concrete_resource(rng: random.Random, service: str) -> str:
    team = rng.choice(TEAMS)
    if service == "ecs":
        return f"acs:ecs:{rng.choice(REGIONS)}:{ACCOUNT}:instance/i-{team}{rng.randint(1, 40)}"
    if service == "oss":
        object_name = f"{rng.choice(BUCKETS)}/{team}/f{rng.randint(1, 9)}"
        return f"acs:oss:{rng.choice(REGIONS)}:{ACCOUNT}:{object_name}"
    if service in ("ram", "sts"):
        return f"acs:ram::{ACCOUNT}:role/{team}-{rng.choice(['admin', 'reader'])}"
    return f"acs:rds:{rng.choice(REGIONS)}:{ACCOUNT}:dbinstance/rm-{team}{rng.randint(1, 9)}"


def workload(rng: random.Random) -> list[Request]:
    requests: dict[tuple[str, str, tuple[tuple[str, Any], ...]], Request] = {}
    while len(requests) < REQUEST_COUNT:
        service = rng.choice(list(API_NAMES))
        action = f"{service}:{rng.choice(API_NAMES[service])}"
        resource = concrete_resource(rng, service)
        context: dict[str, Any] = {
            "acs:SourceIp": rng.choice(SOURCE_IPS),
            "acs:SecureTransport": rng.random() < 0.9,
            "acs:MFAPresent": rng.random() < 0.5,
        }
        if rng.random() < 0.5:
            context["acs:RequestTag/env"] = rng.choice(ENVIRONMENTS)
        requests[(action, resource, tuple(sorted(context.items())))] = (action, resource, context)
    return list(requests.values())


# --- measuring -------------------------------------------------------------------------------


def measure(decide: Callable[[Request], object], requests: Sequence[Request]) -> tuple[int, float]:
    """Evaluate requests in a cycle for about SECONDS_PER_MODE; (evaluations, seconds)."""
    evaluations = 0
    started = time.perf_counter()
    elapsed = 0.0
    while elapsed < SECONDS_PER_MODE:
        for request in requests[evaluations % len(requests) :][:50]:
            decide(request)
            evaluations += 1
        elapsed = time.perf_counter() - started
    return evaluations, elapsed


def speed_table(policies: list[ParsedPolicy], requests: list[Request]) -> dict[str, float]:
    compiled_cached = compile_policies(policies)
    for action, resource, context in requests:  # warm the decision cache
        compiled_cached.evaluate(action, resource, context)
    index_only = compile_policies(policies, decision_cache_size=0)
    documents = [policy.to_dict() for policy in policies]

    modes: dict[str, Callable[[Request], object]] = {
        "naive (decode + try all)": lambda r: naive_evaluate(policies, *r),
        "compiled cold": lambda r: compile_policies(
            policies, cache=False, decision_cache_size=0
        ).evaluate(*r),
        "compiled, index only": lambda r: index_only.evaluate(*r),
        "compiled, cached": lambda r: compiled_cached.evaluate(*r),
        # evaluate() keeps 1,024 decisions per set: fewer than the 2,000-request cycle, so this
        # row shows the statement index plus the look-ups of the module-level caches.
        "evaluate() module caches": lambda r: evaluate(policies, *r),
        # The same documents as plain dicts (as callers holding decoded JSON pass them): each
        # call serializes them to find their compiled forms; none is parsed again.
        "evaluate() with dicts": lambda r: evaluate(documents, *r),
    }
    rates: dict[str, float] = {}
    print(f"{'mode':<28}{'evaluations':>12}{'seconds':>9}{'decisions/s':>14}{'vs naive':>10}")
    for label, decide in modes.items():
        evaluations, seconds = measure(decide, requests)
        rates[label] = evaluations / seconds
        ratio = rates[label] / rates["naive (decode + try all)"]
        print(f"{label:<28}{evaluations:>12,}{seconds:>9.2f}{rates[label]:>14,.0f}{ratio:>9.1f}x")
    return rates


def check_agreement(policies: list[ParsedPolicy], requests: list[Request]) -> Counter[str]:
    compiled = compile_policies(policies, decision_cache_size=0)
    effects: Counter[str] = Counter()
    for action, resource, context in requests[::AGREEMENT_SAMPLE_STEP]:
        expected = naive_evaluate(policies, action, resource, context)
        if compiled.evaluate(action, resource, context) != expected:
            raise SystemExit(f"compiled and naive disagree on {action} {resource} {context}")
        effects[expected.effect] += 1
    return effects


# --- memory ----------------------------------------------------------------------------------


def policy_pool(rng: random.Random) -> list[ParsedPolicy]:
    """Distinct policies: the principal's documents for many accounts, each its own text."""
    pool: list[ParsedPolicy] = []
    while len(pool) < POLICY_POOL_SIZE:
        account = f"{rng.randrange(10**15, 10**16)}"
        for index, document in enumerate(principal_documents(rng, account)):
            pool.append(parse_policy(document, name=f"P{index}-{account}", version="v1"))
    return pool[:POLICY_POOL_SIZE]


def memory_table(rng: random.Random, requests: list[Request]) -> None:
    """Evaluate one request for each of PRINCIPAL_COUNT principals through evaluate(), which
    compiles every policy and every set through the module-level LRUs; tracemalloc counts what
    the evaluator allocates (the policy pool is built before it starts)."""
    pool = policy_pool(rng)
    clear_caches()
    tracemalloc.start()
    print(
        f"{'principals':>10}{'current MiB':>13}{'peak MiB':>10}{'compiled LRU':>16}{'set LRU':>10}"
    )
    started = time.perf_counter()
    currents: list[float] = []
    for principal in range(1, PRINCIPAL_COUNT + 1):
        policies = rng.sample(pool, POLICIES_PER_PRINCIPAL)
        action, resource, context = requests[principal % len(requests)]
        evaluate(policies, action, resource, context)
        if principal % 10_000 == 0:
            current, peak = tracemalloc.get_traced_memory()
            currents.append(current / 2**20)
            info = cache_info()
            compiled_size, compiled_bound = info["compiled_policies"]
            sets_size, sets_bound = info["policy_sets"]
            print(
                f"{principal:>10,}{current / 2**20:>13.1f}{peak / 2**20:>10.1f}"
                f"{f'{compiled_size}/{compiled_bound}':>16}{f'{sets_size}/{sets_bound}':>10}"
            )
    tracemalloc.stop()
    growth = currents[-1] - currents[0]
    print(
        f"growth from 10,000 to {PRINCIPAL_COUNT:,} principals: {growth:+.1f} MiB "
        f"({time.perf_counter() - started:.1f} s under tracemalloc)"
    )


def main() -> None:
    started = time.perf_counter()
    rng = random.Random(SEED)
    policies = parsed_principal(rng)
    requests = workload(rng)
    statements = [statement for policy in policies for statement in policy.statements]
    with_conditions = sum(1 for statement in statements if statement.conditions)
    denies = sum(1 for statement in statements if statement.effect == "Deny")
    effects = check_agreement(policies, requests)
    print(f"Policy evaluation benchmark (seed {SEED})")
    print(
        f"principal: {len(policies)} policies, {len(statements)} statements "
        f"({with_conditions} with conditions, {denies} Deny)"
    )
    print(
        f"workload: {len(requests):,} distinct requests; of every {AGREEMENT_SAMPLE_STEP}th: "
        f"{effects['Allow']} Allow, {effects['ExplicitDeny']} ExplicitDeny, "
        f"{effects['ImplicitDeny']} ImplicitDeny, compiled == naive on all {effects.total()}"
    )
    print()
    rates = speed_table(policies, requests)
    naive = rates["naive (decode + try all)"]
    cached_ratio = rates["compiled, cached"] / naive
    verdict = "met" if cached_ratio >= TARGET_SPEEDUP else "MISSED"
    print()
    print(f"cached / naive:     {cached_ratio:,.0f}x (target >= {TARGET_SPEEDUP}x: {verdict})")
    print(f"index-only / naive: {rates['compiled, index only'] / naive:,.1f}x")
    print()
    print(
        f"memory: {PRINCIPAL_COUNT:,} principals, {POLICIES_PER_PRINCIPAL} policies each "
        f"from a pool of {POLICY_POOL_SIZE:,} distinct policies"
    )
    memory_table(rng, requests)
    print(f"total {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
