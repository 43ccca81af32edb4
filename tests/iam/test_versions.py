"""One version per account (``iam.versions``): every service that changes something a decision or
an API answer about the account's principals depends on bumps it, in its own transaction; the
table below must name every service there is (``iam.services`` and ``iam.providers``), so a new
one cannot be forgotten."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest

from iam import mfa, providers, security, services
from iam.audit import SYSTEM_ACTOR
from iam.identity import identity_for_user
from iam.models import AccessKey, Account, Group, OIDCProvider, Policy, Role, SAMLProvider, User
from sts.assume import AssumeRoleInput, assume_role
from sts.models import RoleSession
from tests.conftest import PASSWORD
from tests.iam.test_providers import FINGERPRINT, ISSUER, OTHER_FINGERPRINT, metadata

pytestmark = pytest.mark.django_db

DOCUMENT = json.dumps(
    {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ecs:*", "Resource": "*"}]}
)


@dataclass
class World:
    account: Account
    user: User
    key: AccessKey
    group: Group
    policy: Policy
    role: Role
    session: RoleSession


@pytest.fixture
def world(account_a, user_a) -> World:  # type: ignore[no-untyped-def]
    actor = SYSTEM_ACTOR
    key = services.create_access_key(actor, user_a).access_key
    group = services.create_group(actor, account_a, "ops")
    policy = services.create_policy(actor, account_a, "ecs", document=DOCUMENT)
    services.create_policy_version(actor, policy, document=DOCUMENT)
    role = services.create_role(actor, account_a, "ops", trust_policy=trust(account_a))
    services.attach_policy(actor, user_a, Policy.objects.get(name="AliyunSTSAssumeRoleAccess"))
    issued = assume_role(
        identity_for_user(user_a),
        AssumeRoleInput(role_arn=role.arn, session_name="s1"),
        actor=actor,
    )
    return World(account_a, user_a, key, group, policy, role, issued.session)


def trust(account: Account) -> str:
    return json.dumps(
        {
            "Version": "1",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Principal": {"RAM": [account.root_arn]},
                }
            ],
        }
    )


Change = Callable[[World], Any]
A = SYSTEM_ACTOR

# Services whose change feeds a decision or an API answer about the account's principals.
BUMPING: dict[str, Change] = {
    "set_account_alias": lambda w: services.set_account_alias(A, w.account, "renamed"),
    "update_user": lambda w: services.update_user(A, w.user, is_active=False),
    "delete_user": lambda w: services.delete_user(A, services.create_user(A, w.account, "gone")),
    "update_access_key_status": lambda w: services.update_access_key_status(
        A, w.key, AccessKey.Status.INACTIVE
    ),
    "delete_access_key": lambda w: services.delete_access_key(A, w.key),
    "delete_group": lambda w: services.delete_group(A, w.group),
    "add_user_to_group": lambda w: services.add_user_to_group(A, w.group, w.user),
    "add_users_to_group": lambda w: services.add_users_to_group(A, w.group, [w.user]),
    "remove_user_from_group": lambda w: (
        services.add_user_to_group(A, w.group, w.user),
        bump_marker(w),
        services.remove_user_from_group(A, w.group, w.user),
    ),
    "create_role": lambda w: services.create_role(
        A, w.account, "new", trust_policy=trust(w.account)
    ),
    "update_role": lambda w: services.update_role(A, w.role, description="changed"),
    "delete_role": lambda w: services.delete_role(A, w.role),
    "revoke_role_sessions": lambda w: services.revoke_role_sessions(A, w.role),
    "revoke_role_session": lambda w: services.revoke_role_session(A, w.session),
    "create_policy_version": lambda w: services.create_policy_version(
        A, w.policy, document=DOCUMENT, set_as_default=True
    ),
    "set_default_policy_version": lambda w: services.set_default_policy_version(A, w.policy, "v2"),
    "delete_policy": lambda w: (
        services.delete_policy_version(A, w.policy, "v2"),
        bump_marker(w),
        services.delete_policy(A, w.policy),
    ),
    "attach_policy": lambda w: services.attach_policy(A, w.role, w.policy),
    "attach_policies": lambda w: services.attach_policies(A, w.group, [w.policy]),
    "detach_policy": lambda w: (
        services.attach_policy(A, w.role, w.policy),
        bump_marker(w),
        services.detach_policy(A, w.role, w.policy),
    ),
    # Identity providers: whom a role's trust policy lets in (AssumeRoleWithSAML/WithOIDC).
    "create_saml_provider": lambda w: saml_provider(w),
    "update_saml_provider": lambda w: providers.update_saml_provider(
        A, saml_provider(w, marked=True), description="changed"
    ),
    "delete_saml_provider": lambda w: providers.delete_saml_provider(
        A, saml_provider(w, marked=True)
    ),
    "create_oidc_provider": lambda w: oidc_provider(w),
    "update_oidc_provider": lambda w: providers.update_oidc_provider(
        A, oidc_provider(w, marked=True), issuance_limit_hours=1
    ),
    "add_client_id": lambda w: providers.add_client_id(A, oidc_provider(w, marked=True), "app-2"),
    "remove_client_id": lambda w: providers.remove_client_id(
        A, oidc_provider(w, marked=True), "app-1"
    ),
    "add_fingerprint": lambda w: providers.add_fingerprint(
        A, oidc_provider(w, marked=True), "ab" * 20
    ),
    "remove_fingerprint": lambda w: providers.remove_fingerprint(
        A, oidc_provider(w, marked=True), OTHER_FINGERPRINT
    ),
    "delete_oidc_provider": lambda w: providers.delete_oidc_provider(
        A, oidc_provider(w, marked=True)
    ),
    "set_password_policy": lambda w: security.set_password_policy(A, w.account, minimum_length=12),
    "set_security_preference": lambda w: security.set_security_preference(
        A, w.account, allow_user_to_manage_access_keys=True
    ),
    "bind_mfa_device": lambda w: bind(w, mfa_device(w, marked=True)),
    "unbind_mfa_device": lambda w: (
        bind(w, mfa_device(w)),
        bump_marker(w),
        mfa.unbind_mfa_device(A, w.user),
    ),
    "enable_virtual_mfa_device": lambda w: enable(w),
    "disable_virtual_mfa_device": lambda w: (
        enable(w),
        bump_marker(w),
        mfa.disable_virtual_mfa_device(A, w.user),
    ),
}

# Services that change nothing an existing decision or answer depends on, and why.
NOT_BUMPING: dict[str, tuple[Change, str]] = {
    "create_account": (
        lambda w: services.create_account(A, "other-co", email="root@other.example"),
        "a new account: nothing can depend on it yet",
    ),
    "create_user": (
        lambda w: services.create_user(A, w.account, "new"),
        "a new user holds nothing",
    ),
    "set_console_password": (
        lambda w: services.set_console_password(A, w.user, "Another-pass-1"),
        "console logon only",
    ),
    "delete_login_profile": (
        lambda w: services.delete_login_profile(A, w.user),
        "console logon only",
    ),
    "create_access_key": (
        lambda w: services.create_access_key(A, w.user),
        "a new key: nothing was read under its id",
    ),
    "create_root_access_key": (
        lambda w: services.create_root_access_key(A, w.account),
        "a new key: nothing was read under its id",
    ),
    "create_group": (lambda w: services.create_group(A, w.account, "new"), "an empty group"),
    "update_group": (lambda w: services.update_group(A, w.group, comments="c"), "comments only"),
    "create_policy": (
        lambda w: services.create_policy(A, w.account, "new", document=DOCUMENT),
        "not attached to anyone",
    ),
    "update_policy_description": (
        lambda w: services.update_policy_description(A, w.policy, "d"),
        "a description",
    ),
    "delete_policy_version": (
        lambda w: services.delete_policy_version(A, w.policy, "v2"),
        "never the default version",
    ),
    "create_service": (
        lambda w: services.create_service(A, "svc.example.internal"),
        "services belong to no account",
    ),
    "create_service_access_key": (
        lambda w: services.create_service_access_key(
            A, services.create_service(A, "svc.example.internal")[0]
        ),
        "services belong to no account",
    ),
    "change_own_password": (
        lambda w: security.change_own_password(A, w.user, "Another-pass-9", old_password=PASSWORD),
        "console logon only",
    ),
    "unlock_user": (
        lambda w: security.unlock_user(A, w.user),
        "the lockout is read at logon, from its own table",
    ),
    "create_virtual_mfa_device": (
        lambda w: mfa_device(w),
        "an unbound device belongs to nobody",
    ),
    "delete_virtual_mfa_device": (
        lambda w: mfa.delete_virtual_mfa_device(A, mfa_device(w, marked=True).device),
        "only an unbound device can be deleted",
    ),
}


def bump_marker(world: World) -> None:
    """Between a set-up step and the change measured: read the version only from here on."""
    world.marker = version_of(world)  # type: ignore[attr-defined]


def saml_provider(world: World, *, marked: bool = False) -> SAMLProvider:
    """A new SAML provider; ``marked``: the version is read only after it was created."""
    provider = providers.create_saml_provider(A, world.account, "okta", metadata=metadata())
    if marked:
        bump_marker(world)
    return provider


def oidc_provider(world: World, *, marked: bool = False) -> OIDCProvider:
    provider = providers.create_oidc_provider(
        A,
        world.account,
        "github",
        issuer_url=ISSUER,
        client_ids="app-1,app-3",
        fingerprints=f"{FINGERPRINT},{OTHER_FINGERPRINT}",
    )
    if marked:
        bump_marker(world)
    return provider


def mfa_device(world: World, *, marked: bool = False) -> mfa.NewVirtualMFADevice:
    created = mfa.create_virtual_mfa_device(A, world.account, "phone")
    if marked:
        bump_marker(world)
    return created


def two_codes(seed: str) -> tuple[str, str]:
    step = mfa.current_step()
    return mfa.code_at(seed, step - 1), mfa.code_at(seed, step)


def bind(world: World, created: mfa.NewVirtualMFADevice) -> None:
    mfa.bind_mfa_device(A, created.device, world.user, *two_codes(created.seed))


def enable(world: World) -> None:
    seed = mfa.new_seed()
    mfa.enable_virtual_mfa_device(A, world.user, seed, *two_codes(seed))


def version_of(world: World) -> int:
    return Account.objects.get(pk=world.account.pk).version


def writing_functions(module: ModuleType) -> set[str]:
    """Every public function of ``module`` that writes (takes the actor first)."""
    return {
        name
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if function.__module__ == module.__name__
        and next(iter(inspect.signature(function).parameters), "") == "actor"
    }


def writing_services() -> set[str]:
    return set().union(
        *(writing_functions(module) for module in (services, providers, security, mfa))
    )


def test_every_writing_service_is_in_the_table() -> None:
    assert writing_services() == set(BUMPING) | set(NOT_BUMPING)


@pytest.mark.parametrize("name", sorted(BUMPING))
def test_a_change_to_a_decision_input_bumps_the_accounts_version(world: World, name: str) -> None:
    world.marker = version_of(world)  # type: ignore[attr-defined]
    BUMPING[name](world)
    assert version_of(world) > world.marker  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(NOT_BUMPING))
def test_other_changes_leave_the_version_alone(world: World, name: str) -> None:
    world.marker = version_of(world)  # type: ignore[attr-defined]
    NOT_BUMPING[name][0](world)
    assert version_of(world) == world.marker  # type: ignore[attr-defined]
