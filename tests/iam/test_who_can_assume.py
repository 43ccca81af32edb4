"""Who can assume a role: the trust policy resolved to identities agrees with AssumeRole itself,
on the demo world (brute force over every user) and on random worlds (hypothesis)."""

from __future__ import annotations

import json

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iam import services
from iam.audit import SYSTEM_ACTOR
from iam.demo import seed_demo_world, trust_accounts
from iam.errors import ServiceError
from iam.identity import identity_for_user
from iam.models import Account, Policy, Role, User
from iam.who_can_assume import ALLOWED, CONDITIONAL, OTHER_ACCOUNT, who_can_assume
from sts.assume import AssumeRoleInput, assume_role

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
