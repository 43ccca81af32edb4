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
from iam.who_can_assume import ALLOWED, CONDITIONAL, NOT_HOSTED, who_can_assume
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
    users = User.objects.filter(kind=User.Kind.RAM, is_active=True)
    return {user.arn for user in users if can_really_assume(user, role)}


def test_the_demo_world_matches_brute_force() -> None:
    seed_demo_world()
    for role in Role.objects.all():
        assert listed_users(role) == brute_force(role), role.name


def test_alice_of_company2_can_assume_ecs_admin() -> None:
    seed_demo_world()
    role = Role.objects.get(name="ecs-admin")
    alice = User.objects.get(account__alias="company2", name="alice")
    entry = next(entry for entry in who_can_assume(role) if entry.arn == alice.arn)
    assert entry.status == ALLOWED and entry.trust_statements == (0,)
    assert entry.identity_reasons[0].policy_name == "AliyunSTSAssumeRoleAccess"


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
    assert entry.status == NOT_HOSTED and entry.account_id == "1234567890123456"


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
            assert (user.arn in listed) == can_really_assume(user, role), user.arn
        transaction.set_rollback(True)
