"""A live server and the two companies of the seed's scenarios, for the official SDKs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from iam import services
from iam.audit import SYSTEM_ACTOR
from iam.models import Account, Policy, Role, User
from iam.system_policies import ensure_system_policies


@dataclass
class Key:
    access_key_id: str
    secret: str


@dataclass
class World:
    endpoint: str
    company_a: Account
    company_b: Account
    role: Role  # in A, trusts account B
    alice: User  # B, holds AliyunSTSAssumeRoleAccess
    alice_key: Key
    bob: User  # B, no sts:AssumeRole
    bob_key: Key
    root_b_key: Key
    admin_a_key: Key


def system_policy(name: str) -> Policy:
    return Policy.objects.get(account__isnull=True, name=name)


def trust(*principals: str, condition: dict[str, Any] | None = None) -> str:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Action": "sts:AssumeRole",
        "Principal": {"RAM": list(principals)},
    }
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "1", "Statement": [statement]})


def key_for(user: User) -> Key:
    new_key = services.create_access_key(SYSTEM_ACTOR, user)
    return Key(new_key.access_key.access_key_id, new_key.secret)


@pytest.fixture
def world(live_server, transactional_db) -> World:  # type: ignore[no-untyped-def]
    ensure_system_policies()
    actor = SYSTEM_ACTOR
    company_a = services.create_account(actor, "company-a", email="root@a.example")
    company_b = services.create_account(actor, "company-b", email="root@b.example")
    role = services.create_role(
        actor,
        company_a,
        "ops-admin",
        trust_policy=trust(f"acs:ram::{company_b.pk}:root"),
        max_session_duration=7200,
    )
    services.attach_policy(actor, role, system_policy("AliyunRAMFullAccess"))
    services.attach_policy(actor, role, system_policy("AliyunOSSFullAccess"))
    alice = services.create_user(actor, company_b, "alice")
    services.attach_policy(actor, alice, system_policy("AliyunSTSAssumeRoleAccess"))
    bob = services.create_user(actor, company_b, "bob")
    admin_a = services.create_user(actor, company_a, "admin")
    services.attach_policy(actor, admin_a, system_policy("AdministratorAccess"))
    root_b = User.objects.get(account=company_b, kind=User.Kind.ROOT)
    endpoint = live_server.url.removeprefix("http://")
    return World(
        endpoint,
        company_a,
        company_b,
        role,
        alice,
        key_for(alice),
        bob,
        key_for(bob),
        key_for(root_b),
        key_for(admin_a),
    )


@pytest.fixture
def setup(account_a: Account, user_a: User):  # type: ignore[no-untyped-def]
    """For hand-signed calls: role ``ops`` in A trusting A, and a key of A's ``user_a`` who holds
    ``AliyunSTSAssumeRoleAccess``."""
    services.attach_policy(SYSTEM_ACTOR, user_a, system_policy("AliyunSTSAssumeRoleAccess"))
    role = services.create_role(
        SYSTEM_ACTOR, account_a, "ops", trust_policy=trust(f"acs:ram::{account_a.pk}:root")
    )
    key = services.create_access_key(SYSTEM_ACTOR, user_a)
    return role, key.access_key.access_key_id, key.secret
