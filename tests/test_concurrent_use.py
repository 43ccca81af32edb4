"""The server as `manage.py demo` starts it, under console writes and official-SDK calls at once.

Each backend gets its own database and its own server process (`manage.py demo`: migrate, seed,
gunicorn with the same workers and threads). For a bounded time, console clients create a role,
authorize it, remove the policy and delete the role, while SDK clients create and authorize roles
and assume a role and call GetCallerIdentity with its token. No answer may be a 5xx, and every
write that answered success must be in the database with its audit event.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException

from tests.api import sdk
from tests.servers import BACKENDS, free_port, manage, scratch_database, server_env, serving

RUN_SECONDS = 8.0
CONSOLE_CLIENTS = 2
API_CLIENTS = 2
POLICY = "AliyunECSReadOnlyAccess"


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with scratch_database(request.param, tmp_path, "concurrency") as url:
        yield url


def shell(env: dict[str, str], code: str) -> Any:
    """Run ``code`` in a Django shell on the server's database; it prints one JSON document."""
    return json.loads(manage(env, "shell", "-c", code).strip().splitlines()[-1])


KEYS = """
import json
from iam import services
from iam.audit import SYSTEM_ACTOR
from iam.models import Account, Role, User
company1 = Account.objects.get(alias="company1")
admin = User.objects.get(account=company1, name="admin")
alice = User.objects.get(account__alias="company2", name="alice")
keys = {}
for label, user in (("admin", admin), ("alice", alice)):
    new = services.create_access_key(SYSTEM_ACTOR, user)
    keys[label] = [new.access_key.access_key_id, new.secret]
keys["role_arn"] = Role.objects.get(account=company1, name="ecs-admin").arn
keys["account"] = company1.pk
print(json.dumps(keys))
"""

STATE = """
import json
from iam.models import Account, AuditEvent, PolicyAttachment, Role
from sts.models import RoleSession
company1 = Account.objects.get(alias="company1")
print(json.dumps({
    "roles": list(Role.objects.filter(account=company1).values_list("name", flat=True)),
    "attached": [
        [role, policy]
        for role, policy in PolicyAttachment.objects.filter(role__account=company1)
        .values_list("role__name", "policy__name")
    ],
    "events": [
        [request_id, action, arn]
        for request_id, action, arn in AuditEvent.objects.filter(result="Success")
        .values_list("request_id", "action", "resource_arn")
    ],
    "sessions": list(RoleSession.objects.values_list("access_key_id", flat=True)),
}))
"""


@dataclass
class Server:
    url: str
    endpoint: str
    env: dict[str, str]
    process: subprocess.Popen


@contextmanager
def running_demo(database_url: str, **settings: str) -> Iterator[Server]:
    """`manage.py demo` itself: migrate, seed the demo world, serve with its gunicorn workers."""
    port = free_port()
    env = {**server_env(database_url), **settings}
    command = [sys.executable, "manage.py", "demo", "--port", str(port)]
    with serving(command, env, port, within=120) as process:
        yield Server(f"http://127.0.0.1:{port}", f"127.0.0.1:{port}", env, process)


@pytest.fixture
def demo_server(database_url: str) -> Iterator[Server]:
    with running_demo(database_url) as server:
        yield server


@dataclass
class Tally:
    """What the clients saw: every status, and the writes that answered success."""

    statuses: list[int] = field(default_factory=list)
    console_writes: list[tuple[str, str]] = field(default_factory=list)  # (action, role name)
    api_writes: list[tuple[str, str, str]] = field(
        default_factory=list
    )  # (request id, action, name)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def saw(self, status: int) -> None:
        with self.lock:
            self.statuses.append(status)


def logged_on(server: Server) -> requests.Session:
    browser = requests.Session()
    browser.get(f"{server.url}/logon/")
    answer = browser.post(
        f"{server.url}/logon/",
        data={"logon_name": "admin@company1", "password": "Company1-admin"},
        headers={"X-CSRFToken": browser.cookies["csrftoken"]},
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text[:500]
    return browser


# A destructive form the person confirmed (the browser asked; see console.views.common.ask_first).
CONFIRMED = {"confirmed": "yes"}


def console_post(
    browser: requests.Session, server: Server, path: str, data: dict[str, str], **headers: str
) -> requests.Response:
    return browser.post(
        f"{server.url}{path}",
        data=data,
        headers={"X-CSRFToken": browser.cookies["csrftoken"], **headers},
        allow_redirects=False,
        timeout=60,
    )


def console_client(server: Server, tally: Tally, number: int, until: float) -> None:
    browser = logged_on(server)

    def post(path: str, data: dict[str, str]) -> int:
        status = console_post(browser, server, path, data).status_code
        tally.saw(status)
        return status

    round_number = 0
    while time.monotonic() < until:
        name = f"console-{number}-{round_number}"
        round_number += 1
        created = post(
            "/roles/_new/",
            {"role_type": "user", "trust_kind": "current", "role_name": name, "step": "4"},
        )
        if created != 302:
            continue
        tally.console_writes.append(("ram:CreateRole", name))
        if post(f"/authorize/role/{name}/", {"policy": f"System:{POLICY}"}) == 302:
            tally.console_writes.append(("ram:AttachPolicyToRole", name))
            if post(f"/authorize/role/{name}/detach/System/{POLICY}/", CONFIRMED) == 302:
                tally.console_writes.append(("ram:DetachPolicyFromRole", name))
        if post(f"/roles/{name}/delete/", {}) == 302:
            tally.console_writes.append(("ram:DeleteRole", name))


def sdk_call(tally: Tally, call: Callable[[], Any]) -> Any:
    """One SDK call; its body on success, None when the server refused it (status recorded)."""
    try:
        body = call().body
    except AlibabaCloudException as error:
        tally.saw(error.status_code or 599)
        return None
    tally.saw(200)
    return body


def api_client(
    server: Server, keys: dict[str, Any], tally: Tally, number: int, until: float
) -> None:
    ram = sdk.ram(server.endpoint, *keys["admin"])
    sts = sdk.sts(server.endpoint, *keys["alice"])
    trust = json.dumps(
        {
            "Version": "1",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Principal": {"RAM": [f"acs:ram::{keys['account']}:root"]},
                }
            ],
        }
    )
    round_number = 0
    while time.monotonic() < until:
        name = f"api-{number}-{round_number}"
        round_number += 1
        created = sdk_call(
            tally,
            lambda name=name: ram.create_role_with_options(
                sdk.ram_models.CreateRoleRequest(role_name=name, assume_role_policy_document=trust),
                runtime(),
            ),
        )
        if created is not None:
            tally.api_writes.append((created.request_id, "ram:CreateRole", name))
            attached = sdk_call(
                tally,
                lambda name=name: ram.attach_policy_to_role_with_options(
                    sdk.ram_models.AttachPolicyToRoleRequest(
                        policy_type="System", policy_name=POLICY, role_name=name
                    ),
                    runtime(),
                ),
            )
            if attached is not None:
                tally.api_writes.append((attached.request_id, "ram:AttachPolicyToRole", name))
        assumed = sdk_call(
            tally,
            lambda: sts.assume_role_with_options(
                sdk.sts_models.AssumeRoleRequest(
                    role_arn=keys["role_arn"], role_session_name=f"load-{number}"
                ),
                runtime(),
            ),
        )
        if assumed is not None:
            credentials = assumed.credentials
            tally.api_writes.append(
                (assumed.request_id, "sts:AssumeRole", credentials.access_key_id)
            )
            role = sdk.sts(
                server.endpoint,
                credentials.access_key_id,
                credentials.access_key_secret,
                credentials.security_token,
            )
            sdk_call(tally, lambda role=role: role.get_caller_identity_with_options(runtime()))


def runtime() -> Any:
    from alibabacloud_tea_util.models import RuntimeOptions

    return RuntimeOptions(autoretry=False, read_timeout=60000, connect_timeout=5000)


def run_clients(server: Server, keys: dict[str, Any]) -> Tally:
    tally = Tally()
    until = time.monotonic() + RUN_SECONDS
    failures: list[BaseException] = []

    def guarded(target: Callable[..., None], *args: Any) -> None:
        try:
            target(*args)
        except BaseException as error:
            failures.append(error)

    threads = [
        threading.Thread(target=guarded, args=(console_client, server, tally, n, until))
        for n in range(CONSOLE_CLIENTS)
    ] + [
        threading.Thread(target=guarded, args=(api_client, server, keys, tally, n, until))
        for n in range(API_CLIENTS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=RUN_SECONDS + 180)
    assert not failures, failures
    return tally


def test_console_and_api_writers_at_once_get_no_server_errors_and_lose_nothing(
    demo_server: Server,
) -> None:
    keys = shell(demo_server.env, KEYS)
    tally = run_clients(demo_server, keys)
    state = shell(demo_server.env, STATE)
    role_name = re.compile(r"^acs:ram::\d{16}:role/(.+)$")
    events = {
        (action, match.group(1))
        for _, action, arn in state["events"]
        if (match := role_name.match(arn))
    }
    events_by_request = {request_id: action for request_id, action, _ in state["events"]}
    in_database = {
        "ram:CreateRole": set(state["roles"]),
        "ram:AttachPolicyToRole": {role for role, policy in state["attached"] if policy == POLICY},
        "sts:AssumeRole": set(state["sessions"]),
    }

    assert [status for status in tally.statuses if status >= 500] == []
    assert len(tally.console_writes) >= 4 and len(tally.api_writes) >= 4, tally
    assert [write for write in tally.console_writes if write not in events] == []
    assert [w for w in tally.api_writes if events_by_request.get(w[0]) != w[1]] == []
    assert [w for w in tally.api_writes if w[2] not in in_database[w[1]]] == []
    deleted = {name for action, name in tally.console_writes if action == "ram:DeleteRole"}
    assert deleted and deleted.isdisjoint(state["roles"])


@contextmanager
def write_lock_held(database_url: str) -> Iterator[None]:
    """Another connection holds what a policy attachment must lock: SQLite's write lock, or
    PostgreSQL's row of the account (every such change bumps the account's version)."""
    if database_url.startswith("sqlite"):
        import sqlite3

        holder = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    import psycopg

    with psycopg.connect(database_url) as holder:
        holder.execute("SELECT 1 FROM iam_account WHERE alias = 'company1' FOR UPDATE")
        try:
            yield
        finally:
            holder.rollback()


def test_a_write_that_cannot_get_its_lock_in_time_asks_for_a_retry_and_changes_nothing(
    database_url: str,
) -> None:
    with running_demo(database_url, DB_LOCK_TIMEOUT="0.5") as server:
        keys = shell(server.env, KEYS)
        browser = logged_on(server)
        before = shell(server.env, STATE)
        ram = sdk.ram(server.endpoint, *keys["admin"])
        attach = {"policy": "System:AliyunOSSReadOnlyAccess"}
        with write_lock_held(database_url):
            page = console_post(browser, server, "/authorize/role/ecs-admin/", attach)
            fragment = console_post(
                browser, server, "/authorize/role/ecs-admin/", attach, **{"HX-Request": "true"}
            )
            with pytest.raises(AlibabaCloudException) as refused:
                ram.attach_policy_to_role_with_options(
                    sdk.ram_models.AttachPolicyToRoleRequest(
                        policy_type="System",
                        policy_name="AliyunOSSReadOnlyAccess",
                        role_name="ecs-admin",
                    ),
                    runtime(),
                )
        after = shell(server.env, STATE)

    assert (page.status_code, "Please try again" in page.text) == (503, True)
    assert (fragment.status_code, fragment.headers.get("HX-Retarget")) == (503, "#notices")
    assert (refused.value.status_code, refused.value.code) == (503, "ServiceUnavailable")
    assert (after["attached"], len(after["events"])) == (before["attached"], len(before["events"]))
