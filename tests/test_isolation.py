"""Tenant isolation as a property of every console page and every RAM/STS action.

Three tenants (tests/isolation_world.py) hold users, groups, policies, roles of every kind,
identity providers, sessions, audit events and Switch Role history, each named after its tenant.
Every URL of the console (walked from the URL conf, its parameters filled with every tenant's
object names and ids, and with names that exist nowhere) is requested by every persona of tenant
A: the root identity, an administrator, a read-only auditor, a RAM user without rights, a user of
tenant B switched into A's cross-account role, and an anonymous visitor; GET always, POST for the
objects of other tenants. Every RAM/STS action is called likewise with the API's personas, in every
version it is registered in; AssumeRoleWithSAML/OIDC and the console's SAML ACS with assertions
and ID tokens that name another tenant's provider and that no provider signed. Each answer:

1. is never a server error;
2. contains no identifier (name, RoleId, access key id, session id or name, a provider's issuer,
   client id or fingerprint) of a user, group, policy, role, identity provider or session of
   another tenant, except what the request carried itself, what A wrote into its own documents
   (a trusted account's principals), the callers of sessions of A's own roles (A's own record of
   who used them) and what A's users obtained themselves;
3. for another tenant's object, is the same as for an object that exists nowhere (status and
   body, with the names put aside): another tenant's objects are invisible, not forbidden.
   Only the OIDC sign-in entry points are exempt (``SIGN_IN_ENTRY_POINTS``).
"""

from __future__ import annotations

import base64
import difflib
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import NoReturn
from urllib.parse import quote, urlencode, urlsplit

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from console.models import RecentRole
from iam.models import AuditEvent
from sts import oidc
from sts.models import RoleSession
from tests.console.test_providers import idp_metadata
from tests.isolation_world import (
    SAML_FORGERIES,
    TENANTS,
    Tenant,
    World,
    build_world,
    forged_id_token,
    forged_saml_response,
)

VIEWER = "a"
MISSING_ACCOUNT = "1" * 16
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
    "provider_type": "saml",
    "provider_name": "tz-missing-idp",
    "account_id": MISSING_ACCOUNT,
}
# Requests that would end the persona's own session, not look at anything.
NOT_POSTED = {"logon", "logoff", "switch_back", "switch_role"}
# Where an anonymous browser starts an OIDC sign-in: they find a provider by account and name to
# send the browser to its issuer (as Alibaba Cloud's SSO does), so naming an existing provider is
# answered otherwise than naming a missing one; that is what they are for. Their answers are
# still searched for what they must not show. The SAML ACS is not among them: it is answered the
# same whether the provider an assertion names exists or not.
SIGN_IN_ENTRY_POINTS = {"console:oidc_start", "console:oidc_sign_in"}


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


KEPT = {"kind", "policy_type", "version_id", "provider_type"}


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
        "provider_type": "saml",
        "provider_name": tenant.saml_provider.name,  # type: ignore[union-attr]
        "account_id": tenant.account.pk,
    }
    if "account_id" in parameters:  # an OIDC sign-in names its account and provider
        base["provider_name"] = tenant.oidc_provider.name  # type: ignore[union-attr]
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
        for role_key in ("own", "service", "saml"):
            yield {**base, "role_name": tenant.roles[role_key].name}
    if parameters == ("user_name",):
        for user_key in ("auditor", "plain", "assumer", "viewer"):
            yield {**base, "user_name": tenant.users[user_key].name}
    if parameters[:2] == ("kind", "name"):
        yield {**base, "kind": "user", "name": tenant.users["plain"].name}
        yield {**base, "kind": "group", "name": tenant.group.name}  # type: ignore[union-attr]
    if "policy_type" in parameters and "version_id" not in parameters:
        yield {**base, "policy_type": "System", "policy_name": "AdministratorAccess"}
    if "provider_type" in parameters:
        oidc_name = tenant.oidc_provider.name  # type: ignore[union-attr]
        yield {**base, "provider_type": "oidc", "provider_name": oidc_name}


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

    def check(
        self,
        label: str,
        request_text: str,
        text: str,
        status: int,
        forbidden: set,
        *,
        upstream: bool = False,
    ) -> None:
        """``upstream``: the request reaches another server (an OIDC sign-in, the provider's
        issuer, which no test serves), whose failure is answered 502 (Bad Gateway)."""
        self.requests += 1
        if status >= 500 and not (upstream and status == 502):
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
                    upstream = route.name in SIGN_IN_ENTRY_POINTS
                    status = response.status_code
                    findings.check(label, url, text, status, forbidden, upstream=upstream)
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
                if route.name in SIGN_IN_ENTRY_POINTS:
                    answer(filling)
                    continue
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
    anonymous_too: bool = False  # a sign-in page: anonymous visitors are compared too


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
                "saml": tenant.saml_provider.name,  # type: ignore[union-attr]
                "oidc": tenant.oidc_provider.name,  # type: ignore[union-attr]
                "saml-role": tenant.roles["saml"].name,
                "client": tenant.name("client"),
            }[kind]
        )
        used.append(value)
        return value

    return name


def viewer(world: World) -> Tenant:
    return world.tenant(VIEWER)


def provider_arn(tenant: Tenant, kind: str, name: Namer) -> str:
    """The ARN of the tenant's SAML or OIDC provider (``kind``), or of one it does not have."""
    resource = {"saml": "saml-provider", "oidc": "oidc-provider"}[kind]
    return f"acs:ram::{tenant.account.pk}:{resource}/{name(kind)}"


def saml_role_arn(tenant: Tenant, name: Namer) -> str:
    return f"acs:ram::{tenant.account.pk}:role/{name('saml-role')}"


def federated_trust(arn: str) -> str:
    statement = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Federated": [arn]}}
    return json.dumps({"Version": "1", "Statement": [statement]})


def wizard_provider_fields(kind: str) -> Callable[[World, Tenant, Namer], dict[str, str]]:
    """Step 2 of the create-role wizard, choosing the tenant's provider of ``kind``."""

    def fields(world: World, tenant: Tenant, name: Namer) -> dict[str, str]:
        chosen = {"step": "3", "role_type": "idp", "idp_type": kind, "idp_name": name(kind)}
        return {**chosen, "oidc_aud": name("client")} if kind == "oidc" else chosen

    return fields


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
    # Identity federation: a user of another tenant's provider, or of the viewer's own provider
    # for another tenant's role, in the simulator; another tenant's provider chosen or written in
    # the create-role wizard; assertions that name another tenant's provider and role, posted to
    # the ACS; the OIDC sign-in form (a sign-in entry point: only searched).
    Probe(
        "console:simulator",
        "GET",
        lambda world, tenant, name: {
            "mode": "assume",
            "assume-caller_kind": "federated",
            "assume-provider": provider_arn(tenant, "saml", name),
            "assume-subject": "tz-subject",
            "assume-role_arn": viewer(world).roles["saml"].arn,
        },
    ),
    Probe(
        "console:simulator",
        "GET",
        lambda world, tenant, name: {
            "mode": "assume",
            "assume-caller_kind": "federated",
            "assume-provider": viewer(world).saml_provider.arn,  # type: ignore[union-attr]
            "assume-subject": "tz-subject",
            "assume-role_arn": saml_role_arn(tenant, name),
        },
    ),
    *[
        Probe(route, "POST", wizard_provider_fields(kind))
        for route in ("console:role_create", "console:role_wizard_trust")
        for kind in ("saml", "oidc")
    ],
    *[
        Probe(
            "console:role_create",
            "POST",
            lambda world, tenant, name, kind=kind: {
                "step": "3",
                "role_type": "idp",
                "trust_policy": federated_trust(provider_arn(tenant, kind, name)),
            },
        )
        for kind in ("saml", "oidc")
    ],
    *[
        Probe(
            "console:saml_acs",
            "POST",
            lambda world, tenant, name, forgery=forgery: {
                "SAMLResponse": forged_saml_response(
                    f"{tenant.issuer}/saml",
                    provider_arn(tenant, "saml", name),
                    saml_role_arn(tenant, name),
                    forgery,
                )
            },
            anonymous_too=True,
        )
        for forgery in SAML_FORGERIES
    ],
    *[
        Probe(
            "console:oidc_sign_in",
            "GET",
            lambda world, tenant, name, key=key: {
                "account": getattr(tenant.account, key),
                "provider": name("oidc"),
            },
        )
        for key in ("pk", "alias")
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
                label = f"{persona} {probe.method} {url} {brief(fields)}"
                findings.check(label, request_text, text, response.status_code, forbidden)
                page = normalized(text, {f"name{i}": value for i, value in enumerate(used)})
                answers.append((response.status_code, page if probe.same_page else ""))
            compared = persona != "anonymous" or probe.anonymous_too
            if probe.route in SIGN_IN_ENTRY_POINTS or not compared:
                continue
            if answers[0] != answers[1]:
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


@pytest.fixture(autouse=True)
def unserved_issuers(monkeypatch: pytest.MonkeyPatch) -> None:
    """No tenant's OIDC issuer is served: a connection to one fails as to a host that does not
    resolve, without asking DNS."""

    def unreachable(url: str, fingerprints: list[str]) -> NoReturn:
        raise oidc.unreachable(f"The issuer {urlsplit(url).netloc} cannot be reached.")

    monkeypatch.setattr(oidc, "pinned_connection", unreachable)


@pytest.mark.parametrize("persona", PERSONAS)
def test_no_console_page_shows_or_tells_apart_another_tenants_objects(
    world: World, persona: str
) -> None:
    findings = sweep_console(world, persona)
    run_probes(world, persona, findings)
    print(f"{persona}: {len(findings.combinations)} combinations, {findings.requests} requests")
    assert not findings.problems, "\n".join(findings.problems)


# --- the RAM and STS APIs -----------------------------------------------------------------------

# Tags name their resources by version: RAM's roles (and policies) by ResourceNames, IMS's users.
IMS = "2019-08-15"
VERSIONED_PARAMETERS: dict[tuple[str, str], tuple[str, ...]] = {
    (IMS, "TagResources"): ("tagged_user",),
    (IMS, "UntagResources"): ("tagged_user",),
    (IMS, "ListTagResources"): ("tagged_user",),
}

# Each action's parameters that name objects: role, user, group, policy (PolicyType and
# PolicyName), key (an access key id of the user), role_arn, saml and oidc (a provider's name),
# saml_arn and oidc_arn (a provider's ARN and the RoleArn of a role trusting it); other parameters
# are fixed values. Creating actions are called with names of no tenant.
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
    "CreateSAMLProvider": (),
    "GetSAMLProvider": ("saml",),
    "ListSAMLProviders": (),
    "UpdateSAMLProvider": ("saml",),
    "DeleteSAMLProvider": ("saml",),
    "CreateOIDCProvider": (),
    "GetOIDCProvider": ("oidc",),
    "ListOIDCProviders": (),
    "UpdateOIDCProvider": ("oidc",),
    "DeleteOIDCProvider": ("oidc",),
    "AddClientIdToOIDCProvider": ("oidc",),
    "RemoveClientIdFromOIDCProvider": ("oidc",),
    "AddFingerprintToOIDCProvider": ("oidc",),
    "RemoveFingerprintFromOIDCProvider": ("oidc",),
    "TagResources": ("tagged_role",),
    "UntagResources": ("tagged_role",),
    "ListTagResources": ("tagged_role",),
    "AssumeRoleWithSAML": ("saml_arn",),
    "AssumeRoleWithOIDC": ("oidc_arn",),
    "SetPasswordPolicy": (),
    "GetPasswordPolicy": (),
    "SetSecurityPreference": (),
    "GetSecurityPreference": (),
    "ChangePassword": (),
    "CreateVirtualMFADevice": (),
    "BindMFADevice": ("user", "mfa"),
    "UnbindMFADevice": ("user",),
    "ListVirtualMFADevices": (),
    "DeleteVirtualMFADevice": ("mfa",),
    "GetUserMFAInfo": ("user",),
}
ARN_KINDS = {"role_arn", "saml_arn", "oidc_arn"}
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
    "CreateSAMLProvider": {
        "SAMLProviderName": "tz-new-saml",
        "EncodedSAMLMetadataDocument": base64.b64encode(idp_metadata()).decode("ascii"),
    },
    "UpdateSAMLProvider": {"NewDescription": "probe"},
    "CreateOIDCProvider": {
        "OIDCProviderName": "tz-new-oidc",
        "IssuerUrl": "https://idp-z.example",
        "ClientIds": "tz-client",
        "Fingerprints": "7" * 40,
    },
    "UpdateOIDCProvider": {"NewDescription": "probe"},
    "AddClientIdToOIDCProvider": {"ClientId": "tz-client"},
    "RemoveClientIdFromOIDCProvider": {"ClientId": "tz-client"},
    "AddFingerprintToOIDCProvider": {"Fingerprint": "7" * 40},
    "RemoveFingerprintFromOIDCProvider": {"Fingerprint": "7" * 40},
    "CreateVirtualMFADevice": {"VirtualMFADeviceName": "tz-new-mfa"},
    "BindMFADevice": {"AuthenticationCode1": "123456", "AuthenticationCode2": "654321"},
    "TagResources": {"Tag.1.Key": "probe", "Tag.1.Value": "x"},
    "UntagResources": {"TagKeys.1": "probe", "TagKey.1": "probe"},
}


def forged_credentials(world: World, code: str, action: str, params: dict) -> Iterator[dict]:
    """What a caller of AssumeRoleWithSAML/OIDC proves itself with: assertions naming the
    request's provider and role, and an ID token for tenant ``code``'s client, none of which any
    provider issued (tests/isolation_world.py)."""
    tenant = world.tenant(code)
    if action == "AssumeRoleWithSAML":
        for forgery in SAML_FORGERIES:
            yield {
                "SAMLAssertion": forged_saml_response(
                    f"{tenant.issuer}/saml", params["SAMLProviderArn"], params["RoleArn"], forgery
                )
            }
    elif action == "AssumeRoleWithOIDC":
        yield {"OIDCToken": forged_id_token(tenant.issuer, tenant.name("client"))}
    else:
        yield {}


def missing_arns(account_id: str) -> dict[str, dict[str, str]]:
    """The ARN parameters naming objects that do not exist, in account ``account_id``."""
    provider = MISSING["provider_name"]
    role_arn = f"acs:ram::{account_id}:role/{MISSING['role_name']}"
    return {
        "role_arn": {"RoleArn": role_arn},
        "saml_arn": {
            "SAMLProviderArn": f"acs:ram::{account_id}:saml-provider/{provider}",
            "RoleArn": role_arn,
        },
        "oidc_arn": {
            "OIDCProviderArn": f"acs:ram::{account_id}:oidc-provider/{provider}",
            "RoleArn": role_arn,
        },
    }


def tagged(resource_type: str, name: str) -> dict[str, str]:
    """The parameters naming one resource to tag: RAM's by ResourceNames, IMS's users by name."""
    if resource_type == "user":
        return {"ResourceType": "user", "ResourcePrincipalName": name}
    return {"ResourceType": resource_type, "ResourceNames": json.dumps([name])}


def object_values(world: World, code: str, kind: str) -> dict[str, str]:
    if code == "":
        return {
            "role": {"RoleName": MISSING["role_name"]},
            "user": {"UserName": MISSING["user_name"]},
            "group": {"GroupName": MISSING["group_name"]},
            "policy": {"PolicyType": "Custom", "PolicyName": MISSING["policy_name"]},
            "key": {"UserAccessKeyId": MISSING["access_key_id"]},
            "saml": {"SAMLProviderName": MISSING["provider_name"]},
            "oidc": {"OIDCProviderName": MISSING["provider_name"]},
            "mfa": {"SerialNumber": f"acs:ram::{MISSING_ACCOUNT}:mfa/tz-missing-mfa"},
            "tagged_role": tagged("role", MISSING["role_name"]),
            "tagged_user": tagged("user", MISSING["user_name"]),
            **missing_arns(MISSING_ACCOUNT),
        }[kind]
    tenant = world.tenant(code)
    saml_provider, oidc_provider = tenant.saml_provider, tenant.oidc_provider
    assert saml_provider is not None and oidc_provider is not None
    return {
        "role": {"RoleName": tenant.roles["own"].name},
        "user": {"UserName": tenant.users["viewer"].name},
        "group": {"GroupName": tenant.group.name},  # type: ignore[union-attr]
        "policy": {"PolicyType": "Custom", "PolicyName": tenant.policy.name},  # type: ignore[union-attr]
        "key": {"UserAccessKeyId": tenant.access_keys["plain"][0]},
        "role_arn": {"RoleArn": tenant.roles["own"].arn},
        "saml": {"SAMLProviderName": saml_provider.name},
        "oidc": {"OIDCProviderName": oidc_provider.name},
        "mfa": {"SerialNumber": tenant.mfa_device.serial_number},  # type: ignore[union-attr]
        "tagged_role": tagged("role", tenant.roles["own"].name),
        "tagged_user": tagged("user", tenant.users["viewer"].name),
        # The role trusts the SAML provider; for OIDC it is a role that trusts no provider, which
        # is not asked before the token is verified.
        "saml_arn": {"SAMLProviderArn": saml_provider.arn, "RoleArn": tenant.roles["saml"].arn},
        "oidc_arn": {"OIDCProviderArn": oidc_provider.arn, "RoleArn": tenant.roles["saml"].arn},
    }[kind]


def api_fillings(
    world: World, action: str, version: str
) -> Iterator[tuple[str, dict[str, str], dict]]:
    """(owner, parameters, the same with missing objects) for another tenant's objects, and
    for the viewer's own object beside another tenant's (a user of B put into A's group). An ARN
    has two twins: in the same account, and in an account that does not exist."""
    kinds = VERSIONED_PARAMETERS.get((version, action), OBJECT_PARAMETERS[action])
    fixed = FIXED.get(action, {})
    if not kinds:
        yield VIEWER, dict(fixed), {}
        return
    for code in TENANTS:
        if code == VIEWER:
            continue
        values = {k: v for kind in kinds for k, v in object_values(world, code, kind).items()}
        twins = [{k: v for kind in kinds for k, v in object_values(world, "", kind).items()}]
        if set(kinds) <= ARN_KINDS:
            account_id = world.tenant(code).account.pk
            twins.append(
                {k: v for kind in kinds for k, v in missing_arns(account_id)[kind].items()}
            )
        for twin in twins:
            proofs = zip(
                forged_credentials(world, code, action, values),
                forged_credentials(world, code, action, twin),
                strict=True,
            )
            for proof, twin_proof in proofs:
                yield code, {**fixed, **values, **proof}, {**fixed, **twin, **twin_proof}
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


def api_answer(client: Client, caller: Caller, version: str, action: str, params: dict[str, str]):  # type: ignore[no-untyped-def]
    from tests.api.test_wire import signed_query

    if not caller.key_id:
        query = urlencode({"Action": action, "Version": version, "Format": "JSON", **params})
    else:
        query = signed_query(
            action, caller.key_id, caller.secret, version=version, token=caller.token, **params
        )
    return client.generic("POST", "/?" + query)


def brief(values: dict[str, str]) -> dict[str, str]:
    """Parameters for a message: an assertion or a token cut short."""
    return {key: value if len(value) <= 80 else f"{value[:40]}…" for key, value in values.items()}


def named_parameters(values: dict[str, str]) -> dict[str, str]:
    """The parameters, and the accounts and names of their ARNs, to put aside in answers."""
    parts = {}
    for key, value in values.items():
        if key.endswith("Arn"):
            parts[f"{key}Name"] = value.rpartition("/")[2]
            parts[f"{key}Account"] = value.removeprefix("acs:ram::").partition(":")[0]
    return {**values, **parts}


def sweep_api(world: World, persona: str) -> Findings:
    from iam.rpc import ACTIONS

    assert {name for _, name in ACTIONS} == set(OBJECT_PARAMETERS), "a new action: add it here"
    findings = Findings()
    client = Client()
    caller = api_caller(world, persona)
    forbidden = forbidden_for(world, persona) - persona_values(world, persona)
    for action in OBJECT_PARAMETERS:
        # Each version it is registered in (the provider actions answer in RAM's and IMS's).
        for version in sorted(version for version, name in ACTIONS if name == action):
            for _owner, params, twin in api_fillings(world, action, version):
                answers = []
                for values in (params, twin) if twin else (params,):
                    response = api_answer(client, caller, version, action, values)
                    text = response.content.decode("utf-8", "replace")
                    request_text = " ".join(values.values())
                    label = f"{persona} {version} {action} {brief(values)}"
                    combination = (version, action, persona, tuple(sorted(values.items())))
                    findings.combinations.add(combination)
                    findings.check(label, request_text, text, response.status_code, forbidden)
                    page = normalized(API_NOISE.sub("", text), named_parameters(values))
                    answers.append((response.status_code, page))
                if len(answers) == 2 and answers[0] != answers[1]:
                    findings.problems.append(
                        f"{persona} {version} {action} {brief(params)}: answered otherwise than "
                        f"for missing objects: {answers[0]} vs {answers[1]}"
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
