"""The policy simulator: permissions, the verdicts and deciding statements of the real
authorizer, and AssumeRole simulations that agree with AssumeRole itself."""

from __future__ import annotations

import json

import pytest
from django.db import transaction
from django.template import Context, Template
from django.test import RequestFactory

from iam import services
from iam.audit import SYSTEM_ACTOR
from iam.demo import seed_demo_world, trust_accounts
from iam.errors import ServiceError
from iam.identity import identity_for_user
from iam.models import Account, Policy, Role, User
from sts.assume import AssumeRoleInput, assume_role
from sts.simulate import find_caller, simulate_assume_role

pytestmark = pytest.mark.django_db


def test_anonymous_is_sent_to_logon(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/simulator/")
    assert response.status_code == 302 and "/logon/" in response["Location"]


def test_a_user_without_read_access_gets_403(client, user_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(user_a)
    response = client.get("/simulator/")
    assert response.status_code == 403 and b"ram:GetPolicy" in response.content


@pytest.mark.parametrize("persona", ["admin_a", "auditor_a"])
def test_admins_and_auditors_use_the_simulator(client, request, persona: str) -> None:  # type: ignore[no-untyped-def]
    client.force_login(request.getfixturevalue(persona))
    content = client.get("/simulator/").content.decode()
    for label in ("Principal", "Action", "Resource", "Simulate"):
        assert label in content


def test_it_refuses_to_change_anything(client, admin_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    assert client.post("/simulator/").status_code == 405


def test_a_user_without_policies_gets_an_implicit_deny_with_the_reason(
    client, admin_a, user_a
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = client.get(
        "/simulator/", {"principal": "user:bob", "action": "ram:CreateRole", "resource": "*"}
    )
    content = response.content.decode()
    assert "Implicit deny" in content
    assert "no policy of user bob allows ram:CreateRole" in content


def test_an_allow_marks_the_deciding_statement(client, admin_a, auditor_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(auditor_a)
    response = client.get(
        "/simulator/",
        {
            "principal": "user:admin",
            "action": "ram:CreateRole",
            "resource": f"acs:ram::{admin_a.account_id}:role/x",
        },
    )
    content = response.content.decode()
    assert '<span class="badge badge-ok verdict">Allow</span>' in content
    assert 'statement-decided statement-allow" data-statement="0"' in content
    assert "AdministratorAccess" in content


def test_several_actions_and_an_explicit_deny_from_a_session_policy(
    client, admin_a, account_a
) -> None:  # type: ignore[no-untyped-def]
    role = services.create_role(
        SYSTEM_ACTOR, account_a, "ops", trust_policy=trust_accounts(account_a.pk)
    )
    services.attach_policy(
        SYSTEM_ACTOR, role, Policy.objects.get(account__isnull=True, name="AdministratorAccess")
    )
    session_policy = json.dumps(
        {
            "Version": "1",
            "Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "*"},
                {"Effect": "Deny", "Action": "ram:DeleteRole", "Resource": "*"},
            ],
        }
    )
    client.force_login(admin_a)
    response = client.get(
        "/simulator/",
        {
            "principal": "role:ops",
            "session_policy": session_policy,
            "action": "ram:GetRole, ram:DeleteRole",
            "resource": "*",
        },
    )
    results = response.context["results"]
    assert [result.verdict for result in results] == ["Allow", "Explicit deny"]
    assert 'statement-decided statement-deny" data-statement="1"' in response.content.decode()


def test_a_source_ip_condition_is_simulated(client, admin_a, user_a, account_a) -> None:  # type: ignore[no-untyped-def]
    document = {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "ram:ListUsers",
                "Resource": "*",
                "Condition": {"IpAddress": {"acs:SourceIp": "10.0.0.0/8"}},
            }
        ],
    }
    policy = services.create_policy(
        SYSTEM_ACTOR, account_a, "office", document=json.dumps(document)
    )
    services.attach_policy(SYSTEM_ACTOR, user_a, policy)
    client.force_login(admin_a)
    query = {"principal": "user:bob", "action": "ram:ListUsers", "resource": "*"}
    inside = client.get("/simulator/", {**query, "source_ip": "10.1.2.3"}).context["results"]
    outside = client.get("/simulator/", {**query, "source_ip": "192.0.2.1"}).context["results"]
    assert inside[0].verdict == "Allow" and outside[0].verdict == "Implicit deny"


def test_the_simulate_link_is_prefilled(rf: RequestFactory, user_a) -> None:  # type: ignore[no-untyped-def]
    request = rf.get("/")
    request.identity = identity_for_user(user_a)
    html = Template('{% include "console/_simulate_link.html" %}').render(
        Context({"request": request, "action": "ram:CreateRole", "resource": "acs:ram::1:role/*"})
    )
    assert "/simulator/?principal=user:bob&amp;action=ram%3ACreateRole" in html


# --- AssumeRole ------------------------------------------------------------------------------------


def really_assumes(user: User, role_arn: str, **kwargs: str) -> bool:
    context = {"acs:SourceIp": kwargs["source_ip"]} if kwargs.get("source_ip") else {}
    with transaction.atomic():
        try:
            assume_role(
                identity_for_user(user),
                AssumeRoleInput(
                    role_arn=role_arn,
                    session_name="simulator",
                    external_id=kwargs.get("external_id") or None,
                    duration_seconds=kwargs.get("duration") or None,
                ),
                actor=SYSTEM_ACTOR,
                context=context,
            )
            outcome = True
        except ServiceError:
            outcome = False
        transaction.set_rollback(True)
    return outcome


def external_id_role() -> Role:
    company1 = Account.objects.get(alias="company1")
    company2 = Account.objects.get(alias="company2")
    trust = json.loads(trust_accounts(company2.pk))
    trust["Statement"][0]["Condition"] = {"StringEquals": {"sts:ExternalId": "abc123"}}
    return services.create_role(SYSTEM_ACTOR, company1, "vendor", trust_policy=json.dumps(trust))


CASES = [
    ("alice@company2", "ecs-admin", {}, None),
    ("alice@company2", "devops", {}, "Trust policy trusts the caller"),
    ("admin@company1", "devops", {}, None),
    ("auditor@company1", "devops", {}, "Identity policy allows sts:AssumeRole"),
    ("root@company1.example", "devops", {}, "Caller kind"),
    ("admin@company1", "no-such-role", {}, "Role exists"),
    ("admin@company1", "devops", {"duration": "7200"}, "Duration"),
    ("admin@company1", "devops", {"duration": "60"}, "Request parameters"),
    ("alice@company2", "vendor", {"external_id": "abc123"}, None),
    ("alice@company2", "vendor", {"external_id": "wrong1"}, "Trust policy trusts the caller"),
]


@pytest.mark.parametrize(("caller", "role_name", "extra", "failing"), CASES)
def test_the_assume_role_simulation_agrees_with_assume_role(
    caller: str, role_name: str, extra: dict, failing: str | None
) -> None:
    """company1 simulates; alice of company2 holds sts:AssumeRole in her account, so a simulation
    that leaves only her identity check to company2 agrees with the real AssumeRole."""
    seed_demo_world()
    external_id_role()
    from iam.auth import find_identity

    company1 = Account.objects.get(alias="company1")
    user = find_identity(caller)
    assert user is not None
    role_arn = f"acs:ram::{company1.pk}:role/{role_name}"
    simulation = simulate_assume_role(company1, find_caller(company1, caller), role_arn, **extra)
    assert simulation.succeeds_if_allowed_elsewhere == really_assumes(user, role_arn, **extra)
    failed = simulation.failed_check
    assert (failed.name if failed else None) == failing


def test_the_assume_role_page_shows_each_check(client) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    auditor = User.objects.get(account__alias="company1", name="auditor")
    role = Role.objects.get(name="ecs-admin")
    client.force_login(auditor)
    response = client.get(
        "/simulator/",
        {"mode": "assume", "assume-caller": "alice@company2", "assume-role_arn": role.arn},
    )
    content = response.content.decode()
    assert response.context["assume_result"].succeeds_if_allowed_elsewhere
    assert "Trust policy trusts the caller" in content and "Failed" not in content
    assert "Decided by account company2" in content


def test_another_accounts_caller_is_only_simulated_against_this_accounts_roles(client) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    client.force_login(User.objects.get(account__alias="company1", name="auditor"))
    elsewhere = "acs:ram::9999999999999999:role/x"
    response = client.get(
        "/simulator/",
        {"mode": "assume", "assume-caller": "alice@company2", "assume-role_arn": elsewhere},
    )
    assert response.context["assume_result"] is None
    assert "choose a role of this one" in response.content.decode()


def test_a_403_page_links_to_the_simulator_prefilled(client, user_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(user_a)
    content = client.get("/roles/").content.decode()
    assert "Open in the Policy simulator" in content
    assert "principal=user:bob&amp;action=ram%3AListRoles" in content


# --- tenant isolation -----------------------------------------------------------------------------


def assume_section(client, caller: str, role_arn: str) -> str:  # type: ignore[no-untyped-def]
    """The AssumeRole part of the page as htmx receives it: the form and the result."""
    response = client.get(
        "/simulator/",
        {"mode": "assume", "assume-caller": caller, "assume-role_arn": role_arn},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def partner_role(account_a, account_b):  # type: ignore[no-untyped-def]
    return services.create_role(
        SYSTEM_ACTOR, account_a, "partner", trust_policy=trust_accounts(account_b.pk)
    )


def test_an_existing_and_a_missing_user_of_another_account_read_the_same(
    client, auditor_a, account_b, partner_role
) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import make_user

    make_user(account_b, "bob", ["AdministratorAccess"])
    client.force_login(auditor_a)
    existing = assume_section(client, "bob@company-b", partner_role.arn)
    missing = assume_section(client, "nobody@company-b", partner_role.arn)
    assert existing.replace("bob", "NAME") == missing.replace("nobody", "NAME")
    assert "AdministratorAccess" not in existing


def test_another_accounts_identity_check_is_decided_by_that_account(
    client, auditor_a, user_b, partner_role
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(auditor_a)
    section = assume_section(client, f"{user_b.account_id}/alice", partner_role.arn)
    assert "Decided by account company-b" in section
    assert "AliyunSTSAssumeRoleAccess" not in section


def test_a_trust_that_names_no_such_account_fails_the_foreign_caller(
    client, auditor_a, account_b, account_a
) -> None:  # type: ignore[no-untyped-def]
    services.create_role(SYSTEM_ACTOR, account_a, "own", trust_policy=trust_accounts(account_a.pk))
    client.force_login(auditor_a)
    section = assume_section(client, "nobody@company-b", f"acs:ram::{account_a.pk}:role/own")
    assert "Failed" in section and "does not trust" in section


def test_another_accounts_role_is_not_read(client, admin_a, account_a, account_b) -> None:  # type: ignore[no-untyped-def]
    services.create_role(
        SYSTEM_ACTOR, account_b, "b-exists", trust_policy=trust_accounts(account_a.pk)
    )
    client.force_login(admin_a)
    existing = assume_section(client, "admin", f"acs:ram::{account_b.pk}:role/b-exists")
    missing = assume_section(client, "admin", f"acs:ram::{account_b.pk}:role/b-missing")
    assert existing.replace("b-exists", "NAME") == missing.replace("b-missing", "NAME")


@pytest.mark.parametrize(
    ("query", "action"),
    [
        ({"principal": "user:bob", "action": "ram:ListUsers"}, "ram:SimulatePolicy"),
        (
            {"mode": "assume", "assume-caller": "bob", "assume-role_arn": "acs:ram::1:role/x"},
            "ram:SimulateAssumeRole",
        ),
    ],
)
def test_every_simulation_is_in_the_audit_trail(
    client, auditor_a, user_a, query: dict, action: str
) -> None:  # type: ignore[no-untyped-def]
    from iam.models import AuditEvent

    client.force_login(auditor_a)
    client.get("/simulator/", query)
    event = AuditEvent.objects.get(action=action)
    assert event.account_id == auditor_a.account_id
    assert event.logon_identity == auditor_a.arn


# --- a user of an identity provider ---------------------------------------------------------------


@pytest.fixture
def okta(account_a):  # type: ignore[no-untyped-def]
    from iam import providers
    from tests.iam.test_providers import metadata

    return providers.create_saml_provider(SYSTEM_ACTOR, account_a, "okta", metadata=metadata())


@pytest.fixture
def sso_role(account_a, okta):  # type: ignore[no-untyped-def]
    statement = {
        "Effect": "Allow",
        "Action": "sts:AssumeRoleWithSAML",
        "Principal": {"Federated": okta.arn},
        "Condition": {"StringEquals": {"saml:sub": "alice@corp.example"}},
    }
    trust = json.dumps({"Version": "1", "Statement": [statement]})
    return services.create_role(SYSTEM_ACTOR, account_a, "sso", trust_policy=trust)


def federated_query(provider_arn: str, role_arn: str, **extra: str) -> dict[str, str]:
    query = {
        "mode": "assume",
        "assume-caller_kind": "federated",
        "assume-provider": provider_arn,
        "assume-subject": "alice@corp.example",
        "assume-role_arn": role_arn,
    }
    return {**query, **{f"assume-{name}": value for name, value in extra.items()}}


def test_the_form_offers_this_accounts_providers_only(client, auditor_a, okta, account_b) -> None:  # type: ignore[no-untyped-def]
    from iam import providers
    from tests.iam.test_providers import metadata

    theirs = providers.create_saml_provider(SYSTEM_ACTOR, account_b, "theirs", metadata=metadata())
    client.force_login(auditor_a)
    content = client.get("/simulator/", {"mode": "assume"}).content.decode()
    assert f'value="{okta.arn}"' in content and "A user of an identity provider" in content
    assert theirs.arn not in content


def test_a_user_of_an_identity_provider_is_simulated_check_by_check(
    client, auditor_a, sso_role, okta
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(auditor_a)
    response = client.get("/simulator/", federated_query(okta.arn, sso_role.arn))
    content = response.content.decode()
    assert response.context["assume_result"].succeeds
    assert "alice@corp.example of SAML identity provider okta" in content
    assert "Federated users hold no identity policies" in content


def test_a_subject_the_trust_does_not_name_is_denied(client, auditor_a, sso_role, okta) -> None:  # type: ignore[no-untyped-def]
    client.force_login(auditor_a)
    query = federated_query(okta.arn, sso_role.arn, subject="mallory@corp.example")
    result = client.get("/simulator/", query).context["assume_result"]
    assert result.failed_check.name == "Trust policy trusts the caller"


def test_an_audience_that_is_no_client_id_is_a_field_error(client, admin_a, account_a) -> None:  # type: ignore[no-untyped-def]
    from iam import providers
    from tests.iam.test_providers import FINGERPRINT, ISSUER

    github = providers.create_oidc_provider(
        SYSTEM_ACTOR,
        account_a,
        "github",
        issuer_url=ISSUER,
        client_ids="app-1",
        fingerprints=FINGERPRINT,
    )
    client.force_login(admin_a)
    query = federated_query(github.arn, f"acs:ram::{account_a.pk}:role/x", audience="app-9")
    response = client.get("/simulator/", query)
    assert response.context["assume_result"] is None
    assert response.context["assume_form"].errors["audience"] == [
        "A token for audience app-9 is refused: choose one of the provider's client ids (app-1)."
    ]


@pytest.mark.parametrize(
    ("missing", "errors"),
    [
        ({"assume-subject": ""}, ["subject"]),
        ({"assume-provider": ""}, ["provider"]),
        ({"assume-external_id": "abc123"}, ["external_id"]),
    ],
)
def test_an_incomplete_federated_caller_is_refused_with_field_errors(
    client, admin_a, okta, sso_role, missing: dict, errors: list
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = client.get("/simulator/", {**federated_query(okta.arn, sso_role.arn), **missing})
    assert response.context["assume_result"] is None
    assert list(response.context["assume_form"].errors) == errors


def test_a_federated_caller_is_only_simulated_against_this_accounts_roles(
    client, admin_a, okta, account_b
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = client.get(
        "/simulator/", federated_query(okta.arn, f"acs:ram::{account_b.pk}:role/x")
    )
    assert response.context["assume_result"] is None
    assert "vouches only for roles of its own account" in response.content.decode()


def test_another_accounts_provider_reads_like_a_missing_one(
    client, auditor_a, account_a, account_b, sso_role
) -> None:  # type: ignore[no-untyped-def]
    from iam import providers
    from tests.iam.test_providers import metadata

    theirs = providers.create_saml_provider(SYSTEM_ACTOR, account_b, "theirs", metadata=metadata())
    client.force_login(auditor_a)
    asked = {
        "existing there": theirs.arn,
        "missing there": f"acs:ram::{account_b.pk}:saml-provider/nowhere",
        "missing here": f"acs:ram::{account_a.pk}:saml-provider/nowhere",
    }
    answers = {
        case: assume_section_for(client, federated_query(arn, sso_role.arn)).replace(arn, "ARN")
        for case, arn in asked.items()
    }
    assert answers["existing there"] == answers["missing there"] == answers["missing here"]


def assume_section_for(client, query: dict) -> str:  # type: ignore[no-untyped-def]
    response = client.get("/simulator/", query, headers={"HX-Request": "true"})
    assert response.status_code == 200 and response.context["assume_result"] is None
    return response.content.decode()


def test_a_federated_simulation_is_in_the_audit_trail(client, auditor_a, okta, sso_role) -> None:  # type: ignore[no-untyped-def]
    from iam.models import AuditEvent

    client.force_login(auditor_a)
    client.get("/simulator/", federated_query(okta.arn, sso_role.arn))
    event = AuditEvent.objects.get(action="ram:SimulateAssumeRole")
    assert (event.details["Provider"], event.details["Subject"]) == (okta.arn, "alice@corp.example")
    assert event.details["Claims"]["saml:sub"] == "alice@corp.example"
    assert event.details["Verdict"] == "Allow"
