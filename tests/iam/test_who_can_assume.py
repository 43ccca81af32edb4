"""Who can assume a role: the trust policy resolved to identities agrees with AssumeRole itself,
on the demo world (brute force over every user) and on random worlds (hypothesis)."""

from __future__ import annotations

import json

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iam import providers, services
from iam.audit import SYSTEM_ACTOR
from iam.demo import seed_demo_world, trust_accounts
from iam.errors import ServiceError
from iam.identity import identity_for_user
from iam.models import Account, Policy, Role, SAMLProvider, User
from iam.who_can_assume import (
    ALLOWED,
    CONDITIONAL,
    FEDERATED,
    NEVER,
    NOT_REGISTERED,
    OTHER_ACCOUNT,
    who_can_assume,
)
from sts import saml
from sts.assume import AssumeRoleInput, assume_role
from sts.federation import federated_caller

pytestmark = pytest.mark.django_db


def can_really_assume(user: User, role: Role, context: dict | None = None) -> bool:
    """Run the real AssumeRole and roll back whatever it wrote."""
    with transaction.atomic():
        try:
            assume_role(
                identity_for_user(user),
                AssumeRoleInput(role_arn=role.arn, session_name="probe"),
                actor=SYSTEM_ACTOR,
                context=context or {},
            )
            allowed = True
        except ServiceError:
            allowed = False
        transaction.set_rollback(True)
    return allowed


def listed_users(role: Role) -> set[str]:
    return {
        entry.arn
        for entry in who_can_assume(role)
        if entry.kind == "user" and entry.status == ALLOWED
    }


def brute_force(role: Role) -> set[str]:
    """The role's own account's users who really can assume it (other accounts are theirs)."""
    users = User.objects.filter(account_id=role.account_id, kind=User.Kind.RAM, is_active=True)
    return {user.arn for user in users if can_really_assume(user, role)}


def test_the_demo_world_matches_brute_force() -> None:
    seed_demo_world()
    for role in Role.objects.all():
        assert listed_users(role) == brute_force(role), role.name


def test_company2_trusted_by_ecs_admin_is_one_entry_it_decides() -> None:
    seed_demo_world()
    company2 = Account.objects.get(alias="company2")
    [entry] = who_can_assume(Role.objects.get(name="ecs-admin"))
    assert (entry.kind, entry.account_id, entry.arn) == (
        OTHER_ACCOUNT,
        company2.pk,
        f"acs:ram::{company2.pk}:root",
    )
    assert entry.status == ALLOWED and entry.trust_statements == (0,)
    assert entry.label.startswith(
        f"any RAM user or role session of account company2 ({company2.pk})"
    )


def test_company1s_admin_can_assume_devops_but_not_the_auditor() -> None:
    seed_demo_world()
    names = {entry.name for entry in who_can_assume(Role.objects.get(name="devops"))}
    assert "admin" in names and "auditor" not in names


def test_a_trusted_service_is_listed() -> None:
    seed_demo_world()
    entries = who_can_assume(Role.objects.get(name="oss-log-writer"))
    assert [(entry.kind, entry.name) for entry in entries] == [("service", "oss.example.internal")]


def test_an_account_not_hosted_here_is_listed_as_such(account_a) -> None:  # type: ignore[no-untyped-def]
    role = services.create_role(
        SYSTEM_ACTOR, account_a, "partner", trust_policy=trust_accounts("1234567890123456")
    )
    [entry] = who_can_assume(role)
    assert entry.kind == OTHER_ACCOUNT and entry.account_id == "1234567890123456"
    assert entry.account_name == "1234567890123456 (not hosted here)"


def test_an_external_id_condition_makes_it_conditional(account_a, admin_a) -> None:  # type: ignore[no-untyped-def]
    trust = json.loads(trust_accounts(account_a.pk))
    trust["Statement"][0]["Condition"] = {"StringEquals": {"sts:ExternalId": "abc123"}}
    role = services.create_role(SYSTEM_ACTOR, account_a, "vendor", trust_policy=json.dumps(trust))
    [entry] = who_can_assume(role)
    assert entry.status == CONDITIONAL and "sts:ExternalId" in entry.conditions[0]
    assert not can_really_assume(admin_a, role)


def test_a_role_principal_lists_that_roles_sessions(account_a) -> None:  # type: ignore[no-untyped-def]
    source = services.create_role(
        SYSTEM_ACTOR, account_a, "source", trust_policy=trust_accounts(account_a.pk)
    )
    services.attach_policy(
        SYSTEM_ACTOR, source, Policy.objects.get(account__isnull=True, name="AdministratorAccess")
    )
    trust = json.loads(trust_accounts(account_a.pk))
    trust["Statement"][0]["Principal"] = {"RAM": [f"acs:ram::{account_a.pk}:role/source"]}
    target = services.create_role(SYSTEM_ACTOR, account_a, "target", trust_policy=json.dumps(trust))
    assert [(entry.kind, entry.name) for entry in who_can_assume(target)] == [("role", "source")]


# --- random worlds --------------------------------------------------------------------------------

POLICIES = ["AdministratorAccess", "AliyunSTSAssumeRoleAccess", "AliyunRAMReadOnlyAccess", None]

users_strategy = st.lists(
    st.tuples(st.integers(0, 2), st.sampled_from(POLICIES), st.booleans()), min_size=1, max_size=5
)
trust_strategy = st.lists(
    st.tuples(st.sampled_from(["root", "user"]), st.integers(0, 2), st.integers(0, 4)),
    min_size=1,
    max_size=3,
)


def build_world(users: list, trusted: list, run: int) -> tuple[Role, list[User]]:
    accounts = [
        services.create_account(SYSTEM_ACTOR, f"w{run}x{index}", email=f"r{index}@w{run}.example")
        for index in range(3)
    ]
    made: list[User] = []
    for index, (account_index, policy_name, in_group) in enumerate(users):
        user = services.create_user(SYSTEM_ACTOR, accounts[account_index], f"u{index}")
        if policy_name:
            policy = Policy.objects.get(account__isnull=True, name=policy_name)
            if in_group:
                group = services.create_group(SYSTEM_ACTOR, accounts[account_index], f"g{index}")
                services.add_user_to_group(SYSTEM_ACTOR, group, user)
                services.attach_policy(SYSTEM_ACTOR, group, policy)
            else:
                services.attach_policy(SYSTEM_ACTOR, user, policy)
        made.append(user)
    # Trust policies may only name users that exist: a user principal picks one of them.
    principals = [
        f"acs:ram::{accounts[account].pk}:root" if form == "root" else made[user % len(made)].arn
        for form, account, user in trusted
    ]
    trust = {
        "Version": "1",
        "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"RAM": principals}}
        ],
    }
    role = services.create_role(SYSTEM_ACTOR, accounts[0], "target", trust_policy=json.dumps(trust))
    return role, made


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(users=users_strategy, trusted=trust_strategy)
def test_listed_exactly_when_assume_role_succeeds(users: list, trusted: list) -> None:
    with transaction.atomic():
        run = Account.objects.count()
        role, made = build_world(users, trusted, run)
        listed = listed_users(role)
        for user in made:
            # Users of the other accounts are never listed: their account decides.
            expected = user.account_id == role.account_id and can_really_assume(user, role)
            assert (user.arn in listed) == expected, user.arn
        transaction.set_rollback(True)


# --- tenant isolation -----------------------------------------------------------------------------


def trust_ram(*principals: str) -> str:
    statement = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"RAM": principals}}
    return json.dumps({"Version": "1", "Statement": [statement]})


def test_another_accounts_root_is_one_entry_without_its_users(account_a, user_b) -> None:  # type: ignore[no-untyped-def]
    role = services.create_role(
        SYSTEM_ACTOR, account_a, "partner", trust_policy=trust_accounts(user_b.account_id)
    )
    [entry] = who_can_assume(role)
    assert (entry.kind, entry.account_id, entry.account_alias) == (
        OTHER_ACCOUNT,
        user_b.account_id,
        "company-b",
    )
    assert entry.identity_reasons == () and "alice" not in entry.label


def test_a_named_user_of_another_account_is_shown_the_same_whether_it_exists(
    account_a, user_b
) -> None:  # type: ignore[no-untyped-def]
    role = services.create_role(
        SYSTEM_ACTOR, account_a, "named", trust_policy=trust_ram(user_b.arn)
    )
    while_alice_exists = who_can_assume(role)
    User.objects.filter(pk=user_b.pk).delete()  # the trusted user leaves account B
    assert who_can_assume(role) == while_alice_exists
    assert [entry.kind for entry in while_alice_exists] == [OTHER_ACCOUNT]


def test_a_role_principal_of_another_account_lists_no_sessions(account_a, account_b) -> None:  # type: ignore[no-untyped-def]
    source = services.create_role(
        SYSTEM_ACTOR, account_b, "source", trust_policy=trust_accounts(account_b.pk)
    )
    services.attach_policy(
        SYSTEM_ACTOR, source, Policy.objects.get(account__isnull=True, name="AdministratorAccess")
    )
    role = services.create_role(
        SYSTEM_ACTOR, account_a, "target", trust_policy=trust_ram(source.arn)
    )
    [entry] = who_can_assume(role)
    assert entry.kind == OTHER_ACCOUNT and entry.identity_reasons == ()


def test_any_account_lists_this_accounts_users_and_one_entry_for_the_rest(
    account_a, admin_a, user_b
) -> None:  # type: ignore[no-untyped-def]
    role = services.create_role(
        SYSTEM_ACTOR, account_a, "anyone", trust_policy=trust_ram("acs:ram::*:root")
    )
    entries = who_can_assume(role)
    assert [(entry.kind, entry.name) for entry in entries if entry.kind == "user"] == [
        ("user", "admin")
    ]
    assert [entry.account_id for entry in entries if entry.kind == OTHER_ACCOUNT] == ["*"]


def test_the_fragment_never_names_another_accounts_users_or_policies(
    client, auditor_a, account_a, account_b
) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import make_user

    make_user(account_b, "privileged-bob", ["AliyunSTSAssumeRoleAccess"])
    services.create_role(
        SYSTEM_ACTOR, account_a, "partner", trust_policy=trust_accounts(account_b.pk)
    )
    client.force_login(auditor_a)
    content = client.get("/roles/partner/who-can-assume/").content.decode()
    assert "privileged-bob" not in content and "AliyunSTSAssumeRoleAccess" not in content
    assert f"company-b ({account_b.pk})" in content


# --- identity providers ---------------------------------------------------------------------------


def trust_federated(*providers: str, action: str = "sts:AssumeRole", **elements: object) -> str:
    statement = {"Effect": "Allow", "Action": action, "Principal": {"Federated": list(providers)}}
    return json.dumps({"Version": "1", "Statement": [{**statement, **elements}]})


@pytest.fixture
def okta(account_a):  # type: ignore[no-untyped-def]
    from tests.iam.test_providers import metadata

    return providers.create_saml_provider(SYSTEM_ACTOR, account_a, "okta", metadata=metadata())


@pytest.fixture
def github(account_a):  # type: ignore[no-untyped-def]
    from tests.iam.test_providers import FINGERPRINT, ISSUER

    return providers.create_oidc_provider(
        SYSTEM_ACTOR,
        account_a,
        "github",
        issuer_url=ISSUER,
        client_ids="app-1,app-2",
        fingerprints=FINGERPRINT,
    )


def can_federated_assume(provider, role: Role, context: dict) -> bool:  # type: ignore[no-untyped-def]
    """Run the real AssumeRole for a user ``provider`` vouches for; roll back what it wrote."""
    kind = "saml" if isinstance(provider, SAMLProvider) else "oidc"
    with transaction.atomic():
        try:
            assume_role(
                federated_caller(provider, kind, context.get(f"{kind}:sub", "someone")),
                AssumeRoleInput(role_arn=role.arn, session_name="probe"),
                actor=SYSTEM_ACTOR,
                context=context,
            )
            allowed = True
        except ServiceError:
            allowed = False
        transaction.set_rollback(True)
    return allowed


def test_a_saml_provider_of_the_account_is_one_entry_for_its_users(account_a, okta) -> None:  # type: ignore[no-untyped-def]
    role = services.create_role(
        SYSTEM_ACTOR, account_a, "sso", trust_policy=trust_federated(okta.arn)
    )
    [entry] = who_can_assume(role)
    assert (entry.kind, entry.arn, entry.status) == (FEDERATED, okta.arn, ALLOWED)
    assert entry.label == "users of SAML identity provider okta"
    assert can_federated_assume(okta, role, {"saml:sub": "alice"})


def test_conditions_on_the_token_make_an_oidc_provider_conditional(account_a, github) -> None:  # type: ignore[no-untyped-def]
    condition = {"StringEquals": {"oidc:aud": "app-1", "oidc:sub": ["alice", "bob"]}}
    trust = trust_federated(github.arn, Condition=condition)
    role = services.create_role(SYSTEM_ACTOR, account_a, "ci", trust_policy=trust)
    [entry] = who_can_assume(role)
    assert (entry.label, entry.status) == ("users of OIDC identity provider github", CONDITIONAL)
    assert entry.conditions == ("oidc:aud = app-1 and oidc:sub = alice or bob",)
    assert can_federated_assume(github, role, {"oidc:aud": "app-1", "oidc:sub": "bob"})


def test_a_saml_recipient_condition_is_shown(account_a, okta) -> None:  # type: ignore[no-untyped-def]
    condition = {"StringEquals": {"saml:recipient": saml.acs_url()}}
    role = services.create_role(
        SYSTEM_ACTOR, account_a, "sso", trust_policy=trust_federated(okta.arn, Condition=condition)
    )
    [entry] = who_can_assume(role)
    assert entry.conditions == (f"saml:recipient = {saml.acs_url()}",)


def test_a_conditional_deny_is_an_exception(account_a, github) -> None:  # type: ignore[no-untyped-def]
    trust = json.loads(trust_federated(github.arn))
    trust["Statement"].append(
        {
            "Effect": "Deny",
            "Action": "sts:AssumeRole",
            "Principal": {"Federated": github.arn},
            "Condition": {"StringLike": {"oidc:sub": "contractor-*"}},
        }
    )
    role = services.create_role(SYSTEM_ACTOR, account_a, "ci", trust_policy=json.dumps(trust))
    [entry] = who_can_assume(role)
    assert (entry.status, entry.trust_statements) == (CONDITIONAL, (0, 1))
    assert entry.exceptions == ("oidc:sub StringLike contractor-*",)
    assert not can_federated_assume(github, role, {"oidc:aud": "app-1", "oidc:sub": "contractor-7"})


def test_an_unconditional_deny_leaves_nobody(account_a, github) -> None:  # type: ignore[no-untyped-def]
    trust = json.loads(trust_federated(github.arn))
    trust["Statement"].append({**trust["Statement"][0], "Effect": "Deny"})
    role = services.create_role(SYSTEM_ACTOR, account_a, "ci", trust_policy=json.dumps(trust))
    assert who_can_assume(role) == []


def test_a_statement_for_the_other_federation_action_does_not_count(account_a, okta) -> None:  # type: ignore[no-untyped-def]
    saml_only = trust_federated(okta.arn, action="sts:AssumeRoleWithSAML")
    oidc_only = trust_federated(okta.arn, action="sts:AssumeRoleWithOIDC")
    with_saml = services.create_role(SYSTEM_ACTOR, account_a, "saml", trust_policy=saml_only)
    with_oidc = services.create_role(SYSTEM_ACTOR, account_a, "oidc", trust_policy=oidc_only)
    assert [entry.status for entry in who_can_assume(with_saml)] == [ALLOWED]
    assert who_can_assume(with_oidc) == []


def test_a_provider_the_account_does_not_have_is_not_registered(account_a) -> None:  # type: ignore[no-untyped-def]
    arn = f"acs:ram::{account_a.pk}:oidc-provider/Gone"
    role = services.create_role(SYSTEM_ACTOR, account_a, "ci", trust_policy=trust_federated(arn))
    [entry] = who_can_assume(role)
    assert (entry.kind, entry.name, entry.arn, entry.status) == (
        FEDERATED,
        "Gone",
        arn,
        NOT_REGISTERED,
    )


def test_the_provider_is_found_in_any_letter_case(account_a, okta) -> None:  # type: ignore[no-untyped-def]
    arn = f"acs:ram::{account_a.pk}:saml-provider/OKTA"
    role = services.create_role(SYSTEM_ACTOR, account_a, "sso", trust_policy=trust_federated(arn))
    [entry] = who_can_assume(role)
    assert (entry.name, entry.status) == ("okta", ALLOWED)


def test_another_accounts_provider_is_listed_as_written_and_never_looked_up(
    account_a, account_b
) -> None:  # type: ignore[no-untyped-def]
    from tests.iam.test_providers import metadata

    arn = f"acs:ram::{account_b.pk}:saml-provider/okta"
    role = services.create_role(SYSTEM_ACTOR, account_a, "sso", trust_policy=trust_federated(arn))
    while_missing = who_can_assume(role)
    provider = providers.create_saml_provider(SYSTEM_ACTOR, account_b, "okta", metadata=metadata())
    assert who_can_assume(role) == while_missing
    [entry] = while_missing
    assert (entry.kind, entry.arn, entry.status) == (OTHER_ACCOUNT, arn, NEVER)
    assert not can_federated_assume(provider, role, {"saml:sub": "alice"})


def test_the_fragment_shows_providers_and_their_conditions(
    client, auditor_a, account_a, account_b, github
) -> None:  # type: ignore[no-untyped-def]
    trust = json.loads(
        trust_federated(github.arn, Condition={"StringEquals": {"oidc:aud": "app-2"}})
    )
    trust["Statement"][0]["Principal"]["Federated"] += [
        f"acs:ram::{account_a.pk}:saml-provider/gone",
        f"acs:ram::{account_b.pk}:oidc-provider/theirs",
    ]
    services.create_role(SYSTEM_ACTOR, account_a, "ci", trust_policy=json.dumps(trust))
    client.force_login(auditor_a)
    content = client.get("/roles/ci/who-can-assume/").content.decode()
    assert "users of OIDC identity provider github" in content
    assert "<code>oidc:aud = app-2</code>" in content and "Not registered" in content
    assert (
        f"users of OIDC identity provider theirs of account company-b ({account_b.pk})" in content
    )
