"""Tenant isolation as a property of every console page and every RAM/STS action.

Three tenants (tests/isolation_world.py) hold users, groups, policies, roles of every kind,
sessions, audit events and Switch Role history, each named after its tenant. Every URL of the
console (walked from the URL conf, its parameters filled with every tenant's object names and
ids, and with names that exist nowhere) is requested by every persona of tenant A: the root
identity, an administrator, a read-only auditor, a RAM user without rights, a user of tenant B
switched into A's cross-account role, and an anonymous visitor; GET always, POST for the objects
of other tenants. Every RAM/STS action is called likewise with the API's personas. Each answer:

1. is never a server error;
2. contains no identifier (name, RoleId, access key id, session id or name) of a user, group,
   policy, role or session of another tenant, except what the request carried itself, what A
   wrote into its own documents (a trusted account's principals), the callers of sessions of A's
   own roles (A's own record of who used them) and what A's users obtained themselves;
3. for another tenant's object, is the same as for an object that exists nowhere (status and
   body, with the names put aside): another tenant's objects are invisible, not forbidden.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from console.models import RecentRole
from iam.models import AuditEvent
from sts.models import RoleSession
from tests.isolation_world import TENANTS, Tenant, World, build_world

VIEWER = "a"
MISSING = {
    "role_name": "tz-missing-role",
    "user_name": "tz-missing-user",
    "group_name": "tz-missing-group",
    "policy_name": "tz-missing-policy",
    "policy_type": "Custom",
    "version_id": "v1",
    "access_key_id": "LTAI" + "7" * 20,
    "session_id": "7" * 32,
    "entry_id": "987654",
    "event_id": "98765432",
    "kind": "role",
    "name": "tz-missing-role",
}
# Requests that would end the persona's own session, not look at anything.
NOT_POSTED = {"logon", "logoff", "switch_back", "switch_role"}


@dataclass(frozen=True)
class Route:
    name: str
    parameters: tuple[str, ...]


def console_routes() -> list[Route]:
    found: list[Route] = []

    def walk(patterns: list) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern):
                parameters = tuple(pattern.pattern.regex.groupindex)
                found.append(Route(f"console:{pattern.name}", parameters))

    walk(get_resolver().url_patterns)
    return found


@dataclass(frozen=True)
class Filling:
    """Values for a route's parameters, all of one tenant's objects (or of none: ``owner=""``)."""

    owner: str
    values: tuple[tuple[str, str], ...]

    def as_dict(self) -> dict[str, str]:
        return dict(self.values)


def fillings(world: World, route: Route) -> list[Filling]:
    """Every tenant's objects for the route's parameters (system policies count as the
    viewer's own: every tenant sees them)."""
    if not route.parameters:
        return [Filling(VIEWER, ())]
    result = []
    for code in TENANTS:
        for values in tenant_values(world, code, route.parameters):
            owner = VIEWER if values.get("policy_type") == "System" else code
            filling = Filling(owner, tuple((p, values[p]) for p in route.parameters))
            if filling not in result:
                result.append(filling)
    return result


KEPT = {"kind", "policy_type", "version_id"}


def missing_twin(filling: Filling) -> Filling:
    """The same request about objects that exist nowhere."""
    return Filling("", tuple((p, v if p in KEPT else MISSING[p]) for p, v in filling.values))


def tenant_values(world: World, code: str, parameters: tuple[str, ...]) -> Iterator[dict]:
    tenant = world.tenant(code)
    base = {
        "role_name": tenant.roles["cross"].name,
        "user_name": tenant.users["admin"].name,
        "group_name": tenant.group.name,  # type: ignore[union-attr]
        "policy_type": "Custom",
        "policy_name": tenant.policy.name,  # type: ignore[union-attr]
        "version_id": "v1",
        "access_key_id": tenant.access_keys["admin"][0],
        "kind": "role",
        "name": tenant.roles["cross"].name,
    }
    session = RoleSession.objects.filter(role=tenant.roles["cross"]).first()
    base["session_id"] = session.session_id if session else MISSING["session_id"]
    event = AuditEvent.objects.filter(account_id=tenant.account.pk).order_by("id").last()
    base["event_id"] = str(event.pk) if event else MISSING["event_id"]
    entry = RecentRole.objects.filter(user__account=tenant.account).first()
    base["entry_id"] = str(entry.pk) if entry else MISSING["entry_id"]
    if "group_name" in parameters and "user_name" in parameters:
        base["user_name"] = tenant.users["viewer"].name
    yield base
    if parameters == ("role_name",):
        for role_key in ("own", "service"):
            yield {**base, "role_name": tenant.roles[role_key].name}
    if parameters == ("user_name",):
        for user_key in ("auditor", "plain", "assumer", "viewer"):
            yield {**base, "user_name": tenant.users[user_key].name}
    if parameters[:2] == ("kind", "name"):
        yield {**base, "kind": "user", "name": tenant.users["plain"].name}
        yield {**base, "kind": "group", "name": tenant.group.name}  # type: ignore[union-attr]
    if "policy_type" in parameters and "version_id" not in parameters:
        yield {**base, "policy_type": "System", "policy_name": "AdministratorAccess"}


# --- personas ---------------------------------------------------------------------------------


def log_on(world: World, persona: str) -> Client:
    client = Client()
    tenant = world.tenant(VIEWER)
    if persona == "anonymous":
        return client
    if persona == "switched":
        caller = world.tenant("b").users["assumer"]
        client.force_login(caller)
        answer = client.post(
            reverse("console:switch_role"),
            {"account": tenant.account.alias, "role_name": tenant.roles["cross"].name},
        )
        assert answer.status_code == 302, answer.content[:2000]
        client.get(answer["Location"])  # reads the "You are now working as" notice
        return client
    client.force_login(tenant.users[persona])
    return client


def persona_values(world: World, persona: str) -> set[str]:
    """What belongs to the persona itself wherever its tenant is: a switched user's own name and
    Switch Role history."""
    if persona != "switched":
        return set()
    caller = world.tenant("b").users["assumer"]
    entries = RecentRole.objects.filter(user=caller).values_list("pk", flat=True)
    return {caller.name, *(str(pk) for pk in entries)}


PERSONAS = ["root", "admin", "auditor", "plain", "switched", "anonymous"]


# --- checking answers -------------------------------------------------------------------------

CSRF = re.compile(
    r'(csrfmiddlewaretoken" value="|"x-csrftoken": "|csrftoken=|name="form_token" value=")[\w-]+|'
    r"(data-expires=\")\d+|(\d+:\d\d left)|"
    r"\b\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d)?(\.\d+)?Z?\b"
)


def answer_text(response) -> str:  # type: ignore[no-untyped-def]
    headers = " ".join(
        f"{name}: {value}"
        for name, value in response.items()
        if name.lower() in ("location", "content-disposition") or name.lower().startswith("hx-")
    )
    body = (
        b"".join(response.streaming_content)
        if getattr(response, "streaming", False)
        else response.content
    )
    return headers + "\n" + body.decode("utf-8", "replace")


def normalized(text: str, values: dict[str, str]) -> str:
    text = CSRF.sub("…", text)
    for parameter, value in sorted(values.items(), key=lambda item: -len(item[1])):
        if len(value) >= 3:
            text = text.replace(value, f"{{{parameter}}}").replace(
                quote(value, safe=""), f"{{{parameter}}}"
            )
    return text


@dataclass
class Findings:
    requests: int = 0
    combinations: set = field(default_factory=set)
    problems: list[str] = field(default_factory=list)

    def check(self, label: str, request_text: str, text: str, status: int, forbidden: set) -> None:
        self.requests += 1
        if status >= 500:
            self.problems.append(f"{label}: HTTP {status}")
        leaked = sorted(value for value in forbidden if value in text and value not in request_text)
        if leaked:
            self.problems.append(f"{label}: shows {leaked}")


def forbidden_for(world: World, persona: str) -> set[str]:
    if persona == "anonymous":
        return set().union(*(world.identifiers(code) for code in TENANTS))
    return world.forbidden_for(VIEWER)


def sweep_console(world: World, persona: str) -> Findings:
    findings = Findings()
    client = log_on(world, persona)
    forbidden = forbidden_for(world, persona)
    own_values = persona_values(world, persona)
    for route in console_routes():
        for method in ("GET", "POST"):
            if method == "POST" and route.name.removeprefix("console:") in NOT_POSTED:
                continue
            answers: dict[Filling, tuple[int, str]] = {}

            def answer(
                filling: Filling,
                route: Route = route,
                method: str = method,
                answers: dict = answers,
            ) -> tuple:
                if filling not in answers:
                    values = filling.as_dict()
                    url = reverse(route.name, kwargs=values or None)
                    response = client.get(url) if method == "GET" else client.post(url, {})
                    text = answer_text(response)
                    label = f"{persona} {method} {url}"
                    findings.combinations.add((route.name, method, persona, filling))
                    findings.check(label, url, text, response.status_code, forbidden)
                    answers[filling] = (response.status_code, normalized(text, values))
                return answers[filling]

            for filling in fillings(world, route):
                if filling.owner == VIEWER or own_values & {v for _, v in filling.values}:
                    if method == "GET":  # the viewer's own objects are looked at, not changed
                        answer(filling)
                    continue
                if persona == "anonymous":
                    answer(filling)
                    continue
                twin = missing_twin(filling)
                if answer(filling) != answer(twin):
                    findings.problems.append(
                        f"{persona} {method} {route.name} {dict(filling.values)}: answered "
                        f"otherwise than for a missing object ({answers[filling][0]} vs "
                        f"{answers[twin][0]})"
                    )
    return findings


Namer = Callable[[str], str]


@dataclass(frozen=True)
class Probe:
    """A page asked about another tenant's objects in its query or form. ``fields`` builds the
    query (GET) or form (POST) for one tenant, naming its objects through ``name`` (which gives
    either that tenant's object of a kind or a name that exists nowhere)."""

    route: str
    method: str
    fields: Callable[[World, Tenant, Namer], dict[str, str]]
    kwargs: Callable[[World], dict[str, str]] = lambda world: {}
    same_page: bool = True  # False: pages that list events, which the probes themselves add


def namer(tenant: Tenant, used: list[str], *, missing: bool) -> Namer:
    def name(kind: str) -> str:
        value = (
            f"tz-missing-{kind}"
            if missing
            else {
                "user": tenant.users["admin"].name,
                "viewer": tenant.users["viewer"].name,
                "role": tenant.roles["own"].name,
                "group": tenant.group.name,  # type: ignore[union-attr]
                "policy": tenant.policy.name,  # type: ignore[union-attr]
            }[kind]
        )
        used.append(value)
        return value

    return name


def viewer(world: World) -> Tenant:
    return world.tenant(VIEWER)


def simulated_assume_role(
    caller: Callable[[World, Tenant, Namer], str], role_arn: Callable[[World, Tenant, Namer], str]
) -> Probe:
    """The simulator's AssumeRole mode, for a caller and a role either of which may be another
    tenant's."""
    return Probe(
        "console:simulator",
        "GET",
        lambda world, tenant, name: {
            "mode": "assume",
            "assume-caller": caller(world, tenant, name),
            "assume-role_arn": role_arn(world, tenant, name),
        },
    )


PROBES = [
    simulated_assume_role(
        lambda world, tenant, name: f"{name('user')}@{tenant.account.alias}",
        lambda world, tenant, name: viewer(world).roles["cross"].arn,
    ),
    simulated_assume_role(
        lambda world, tenant, name: f"{tenant.account.pk}/{name('user')}",
        lambda world, tenant, name: viewer(world).roles["cross"].arn,
    ),
    simulated_assume_role(
        lambda world, tenant, name: viewer(world).users["assumer"].name,
        lambda world, tenant, name: f"acs:ram::{tenant.account.pk}:role/{name('role')}",
    ),
    Probe(
        "console:simulator",
        "GET",
        lambda world, tenant, name: {
            "principal": f"user:{name('user')}",
            "action": "ram:ListUsers",
        },
    ),
    Probe(
        "console:switch_role",
        "POST",
        lambda world, tenant, name: {"account": tenant.account.alias, "role_name": name("role")},
    ),
    Probe(
        "console:group_member_add",
        "POST",
        lambda world, tenant, name: {"name": name("viewer")},
        lambda world: {"group_name": viewer(world).group.name},  # type: ignore[union-attr]
    ),
    Probe(
        "console:user_group_add",
        "POST",
        lambda world, tenant, name: {"name": name("group")},
        lambda world: {"user_name": viewer(world).users["plain"].name},
    ),
    Probe(
        "console:authorize",
        "POST",
        lambda world, tenant, name: {"policy": f"Custom:{name('policy')}"},
        lambda world: {"kind": "role", "name": viewer(world).roles["own"].name},
    ),
    Probe(
        "console:authorize",
        "GET",
        lambda world, tenant, name: {"q": name("policy")},
        lambda world: {"kind": "role", "name": viewer(world).roles["own"].name},
    ),
    *[
        Probe(route, "GET", lambda world, tenant, name, kind=kind: {"q": name(kind)})
        for route, kind in (
            ("console:role_list", "role"),
            ("console:user_list", "user"),
            ("console:group_list", "group"),
            ("console:policy_list", "policy"),
        )
    ],
    *[
        Probe(
            route,
            "GET",
            lambda world, tenant, name, key=key, kind=kind: {key: name(kind)},
            same_page=False,
        )
        for route in ("console:audit_trail", "console:audit_export")
        for key, kind in (("identity", "user"), ("resource", "role"), ("action", "role"))
    ],
]


# The switched persona may well switch to a role of its own account.
SWITCHES_HOME = ("switched", "b", "console:switch_role")


def run_probes(world: World, persona: str, findings: Findings) -> None:
    client = log_on(world, persona)
    forbidden = forbidden_for(world, persona)
    for probe in PROBES:
        url = reverse(probe.route, kwargs=probe.kwargs(world) or None)
        for code in TENANTS:
            if code == VIEWER or (persona, code, probe.route) == SWITCHES_HOME:
                continue
            answers = []
            for missing in (False, True):
                used: list[str] = []
                fields = probe.fields(
                    world, world.tenant(code), namer(world.tenant(code), used, missing=missing)
                )
                if probe.method == "GET":
                    response = client.get(url, fields)
                else:
                    response = client.post(url, fields)
                text = answer_text(response)
                request_text = url + " " + " ".join(fields.values())
                findings.combinations.add((probe.route, probe.method, persona, str(fields)))
                label = f"{persona} {probe.method} {url} {fields}"
                findings.check(label, request_text, text, response.status_code, forbidden)
                page = normalized(text, {f"name{i}": value for i, value in enumerate(used)})
                answers.append((response.status_code, page if probe.same_page else ""))
            if persona != "anonymous" and answers[0] != answers[1]:
                findings.problems.append(
                    f"{persona} {probe.method} {url} about {code}'s objects: answered otherwise "
                    f"than about missing ones ({answers[0][0]} vs {answers[1][0]})"
                )
                if os.environ.get("ISOLATION_DIFFS"):
                    with open(os.environ["ISOLATION_DIFFS"], "a") as out:
                        out.write(f"== {persona} {probe.method} {url} about {code}\n")
                        out.writelines(
                            difflib.unified_diff(
                                answers[0][1].splitlines(True), answers[1][1].splitlines(True), n=1
                            )
                        )


pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return build_world()


@pytest.mark.parametrize("persona", PERSONAS)
def test_no_console_page_shows_or_tells_apart_another_tenants_objects(
    world: World, persona: str
) -> None:
    findings = sweep_console(world, persona)
    run_probes(world, persona, findings)
    print(f"{persona}: {len(findings.combinations)} combinations, {findings.requests} requests")
    assert not findings.problems, "\n".join(findings.problems)


# --- the RAM and STS APIs -----------------------------------------------------------------------

RAM = "2015-05-01"
STS = "2015-04-01"
# Each action's parameters that name objects: role, user, group, policy (PolicyType and
# PolicyName), key (an access key id of the user), role_arn; other parameters are fixed values.
# Creating actions are called with another tenant's names too: the names are the caller's own.
OBJECT_PARAMETERS: dict[str, tuple[str, ...]] = {
    "CreateRole": (),
    "GetRole": ("role",),
    "ListRoles": (),
    "UpdateRole": ("role",),
    "DeleteRole": ("role",),
    "AttachPolicyToRole": ("role", "policy"),
    "DetachPolicyFromRole": ("role", "policy"),
    "ListPoliciesForRole": ("role",),
    "CreateUser": (),
    "GetUser": ("user",),
    "ListUsers": (),
    "DeleteUser": ("user",),
    "CreateLoginProfile": ("user",),
    "CreateAccessKey": ("user",),
    "ListAccessKeys": ("user",),
    "UpdateAccessKey": ("user", "key"),
    "DeleteAccessKey": ("user", "key"),
    "AttachPolicyToUser": ("user", "policy"),
    "DetachPolicyFromUser": ("user", "policy"),
    "ListPoliciesForUser": ("user",),
    "CreateGroup": (),
    "GetGroup": ("group",),
    "ListGroups": (),
    "DeleteGroup": ("group",),
    "AddUserToGroup": ("group", "user"),
    "RemoveUserFromGroup": ("group", "user"),
    "AttachPolicyToGroup": ("group", "policy"),
    "DetachPolicyFromGroup": ("group", "policy"),
    "ListPoliciesForGroup": ("group",),
    "CreatePolicy": (),
    "GetPolicy": ("policy",),
    "ListPolicies": (),
    "DeletePolicy": ("policy",),
    "CreatePolicyVersion": ("policy",),
    "GetPolicyVersion": ("policy",),
    "ListPolicyVersions": ("policy",),
    "SetDefaultPolicyVersion": ("policy",),
    "DeletePolicyVersion": ("policy",),
    "ListEntitiesForPolicy": ("policy",),
    "GetAccountAlias": (),
    "SetAccountAlias": (),
    "AssumeRole": ("role_arn",),
    "GetCallerIdentity": (),
}
DOCUMENT = '{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:List*","Resource":"*"}]}'
FIXED = {
    "CreateRole": {"RoleName": "tz-new-role", "AssumeRolePolicyDocument": DOCUMENT},
    "UpdateRole": {"NewDescription": "probe"},
    "CreateUser": {"UserName": "tz-new-user"},
    "CreateLoginProfile": {"Password": "Probe-pass-123"},
    "UpdateAccessKey": {"Status": "Inactive"},
    "CreateGroup": {"GroupName": "tz-new-group"},
    "CreatePolicy": {"PolicyName": "tz-new-policy", "PolicyDocument": DOCUMENT},
    "CreatePolicyVersion": {"PolicyDocument": DOCUMENT},
    "GetPolicyVersion": {"VersionId": "v1"},
    "SetDefaultPolicyVersion": {"VersionId": "v1"},
    "DeletePolicyVersion": {"VersionId": "v1"},
    "SetAccountAlias": {"AccountAlias": "tenant-a"},
    "AssumeRole": {"RoleSessionName": "probe"},
}


def object_values(world: World, code: str, kind: str) -> dict[str, str]:
    if code == "":
        return {
            "role": {"RoleName": MISSING["role_name"]},
            "user": {"UserName": MISSING["user_name"]},
            "group": {"GroupName": MISSING["group_name"]},
            "policy": {"PolicyType": "Custom", "PolicyName": MISSING["policy_name"]},
            "key": {"UserAccessKeyId": MISSING["access_key_id"]},
            "role_arn": {"RoleArn": f"acs:ram::{MISSING_ACCOUNT}:role/{MISSING['role_name']}"},
        }[kind]
    tenant = world.tenant(code)
    return {
        "role": {"RoleName": tenant.roles["own"].name},
        "user": {"UserName": tenant.users["viewer"].name},
        "group": {"GroupName": tenant.group.name},  # type: ignore[union-attr]
        "policy": {"PolicyType": "Custom", "PolicyName": tenant.policy.name},  # type: ignore[union-attr]
        "key": {"UserAccessKeyId": tenant.access_keys["plain"][0]},
        "role_arn": {"RoleArn": tenant.roles["own"].arn},
    }[kind]


MISSING_ACCOUNT = "1" * 16


def api_fillings(world: World, action: str) -> Iterator[tuple[str, dict[str, str], dict]]:
    """(owner, parameters, the same with missing objects) for another tenant's objects, and
    for the viewer's own object beside another tenant's (a user of B put into A's group)."""
    kinds = OBJECT_PARAMETERS[action]
    fixed = FIXED.get(action, {})
    if not kinds:
        yield VIEWER, dict(fixed), {}
        return
    for code in TENANTS:
        if code == VIEWER:
            continue
        values = {k: v for kind in kinds for k, v in object_values(world, code, kind).items()}
        twin = {k: v for kind in kinds for k, v in object_values(world, "", kind).items()}
        if kinds == ("role_arn",):
            twin["RoleArn"] = f"acs:ram::{world.tenant(code).account.pk}:role/tz-missing-role"
        yield code, {**fixed, **values}, {**fixed, **twin}
        if len(kinds) > 1:
            own = object_values(world, VIEWER, kinds[0])
            rest = {k: v for kind in kinds[1:] for k, v in object_values(world, code, kind).items()}
            rest_twin = {
                k: v for kind in kinds[1:] for k, v in object_values(world, "", kind).items()
            }
            if kinds[1:] == ("key",):  # the viewer's own user, another tenant's key
                own = object_values(world, VIEWER, "user")
            yield code, {**fixed, **own, **rest}, {**fixed, **own, **rest_twin}
    if "policy" in kinds and not set(kinds) - {"policy"}:
        system = {"PolicyType": "System", "PolicyName": "AdministratorAccess"}
        yield VIEWER, {**fixed, **system}, {}


@dataclass
class Caller:
    key_id: str = ""
    secret: str = ""
    token: str | None = None


def api_caller(world: World, persona: str) -> Caller:
    from iam.audit import SYSTEM_ACTOR
    from iam.identity import identity_for_user
    from sts.assume import AssumeRoleInput, assume_role

    tenant = world.tenant(VIEWER)
    if persona == "anonymous":
        return Caller()
    if persona == "switched":
        issued = assume_role(
            identity_for_user(world.tenant("b").users["assumer"]),
            AssumeRoleInput(role_arn=tenant.roles["cross"].arn, session_name="tb-assumer"),
            actor=SYSTEM_ACTOR,
        )
        return Caller(issued.access_key_id, issued.access_key_secret, issued.security_token)
    return Caller(*tenant.access_keys[persona])


API_NOISE = re.compile(r'"(RequestId|HostId)": ?"[^"]*"')


def api_answer(client: Client, caller: Caller, action: str, params: dict[str, str]):  # type: ignore[no-untyped-def]
    from tests.api.test_wire import signed_query

    version = STS if action in ("AssumeRole", "GetCallerIdentity") else RAM
    if not caller.key_id:
        query = urlencode({"Action": action, "Version": version, "Format": "JSON", **params})
    else:
        query = signed_query(
            action, caller.key_id, caller.secret, version=version, token=caller.token, **params
        )
    return client.generic("POST", "/?" + query)


def sweep_api(world: World, persona: str) -> Findings:
    from iam.rpc import ACTIONS

    assert {name for _, name in ACTIONS} == set(OBJECT_PARAMETERS), "a new action: add it here"
    findings = Findings()
    client = Client()
    caller = api_caller(world, persona)
    forbidden = forbidden_for(world, persona) - persona_values(world, persona)
    for action in OBJECT_PARAMETERS:
        for _owner, params, twin in api_fillings(world, action):
            answers = []
            for values in (params, twin) if twin else (params,):
                response = api_answer(client, caller, action, values)
                text = response.content.decode("utf-8", "replace")
                request_text = " ".join(values.values())
                label = f"{persona} {action} {values}"
                findings.combinations.add((action, persona, tuple(sorted(values.items()))))
                findings.check(label, request_text, text, response.status_code, forbidden)
                named = {**values, "RoleArnName": values.get("RoleArn", "").rpartition("/")[2]}
                answers.append((response.status_code, normalized(API_NOISE.sub("", text), named)))
            if len(answers) == 2 and answers[0] != answers[1]:
                findings.problems.append(
                    f"{persona} {action} {params}: answered otherwise than for missing objects: "
                    f"{answers[0]} vs {answers[1]}"
                )
    return findings


@pytest.mark.parametrize("persona", PERSONAS)
def test_no_api_answer_shows_or_tells_apart_another_tenants_objects(
    world: World, persona: str
) -> None:
    findings = sweep_api(world, persona)
    print(f"{persona}: {len(findings.combinations)} combinations, {findings.requests} requests")
    assert not findings.problems, "\n".join(findings.problems)


def test_what_a_switched_user_does_stays_in_the_trail_of_the_roles_account(world: World) -> None:
    switched = log_on(world, "switched")
    for url in ("/users/", "/roles/", "/policies/", "/audit/"):
        switched.get(url)
    switched.get("/simulator/", {"principal": "user:ta-admin", "action": "ram:ListUsers"})
    switched.post(reverse("console:switch_back"))
    auditor = Client()
    auditor.force_login(world.tenant("b").users["auditor"])
    trail = answer_text(auditor.get(reverse("console:audit_trail")))
    export = answer_text(auditor.get(reverse("console:audit_export")))
    forbidden = world.forbidden_for("b")
    assert "console:SwitchRole" in trail and "console:SwitchBack" in trail
    assert sorted(value for value in forbidden if value in trail + export) == []
