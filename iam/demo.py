"""The demo world: two companies, their users and roles, enough to try every flow by clicking.

``seed_demo_world`` is idempotent: it creates the world the first time and does nothing after.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.db import transaction

from iam import arns, services, tags
from iam.audit import SYSTEM_ACTOR
from iam.models import AccessKey, Account, Policy, Service, User


@dataclass(frozen=True)
class DemoLogin:
    logon_name: str
    password: str
    description: str


SERVICE_NAME = "oss.example.internal"

LOGINS = [
    DemoLogin("admin@company1", "Company1-admin", "company1 administrator (AdministratorAccess)"),
    DemoLogin("auditor@company1", "Company1-auditor", "company1 auditor (read-only)"),
    DemoLogin(
        "alice@company2",
        "Company2-alice",
        "company2 user who may switch to company1's ecs-admin role",
    ),
    DemoLogin("root@company1.example", "Company1-root", "company1 root identity"),
    DemoLogin("root@company2.example", "Company2-root", "company2 root identity"),
]


def trust_accounts(*account_ids: str) -> str:
    return json.dumps(
        {
            "Version": "1",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Principal": {"RAM": [arns.root_arn(uid) for uid in account_ids]},
                }
            ],
        },
        indent=2,
    )


def trust_service(name: str) -> str:
    return json.dumps(
        {
            "Version": "1",
            "Statement": [
                {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": [name]}}
            ],
        },
        indent=2,
    )


def system_policy(name: str) -> Policy:
    return Policy.objects.get(account__isnull=True, name=name)


def password_of(logon_name: str) -> str:
    return next(login.password for login in LOGINS if login.logon_name == logon_name)


def add_user(account: Account, name: str, policies: list[str]) -> User:
    actor = SYSTEM_ACTOR
    user = services.create_user(actor, account, name, display_name=name.title())
    services.set_console_password(actor, user, password_of(f"{name}@{account.alias}"), create=True)
    for policy_name in policies:
        services.attach_policy(actor, user, system_policy(policy_name))
    return user


@transaction.atomic
def seed_demo_world() -> bool:
    """Create the demo world; return False when it already exists."""
    if Account.objects.filter(alias="company1").exists():
        return False
    actor = SYSTEM_ACTOR
    company1 = services.create_account(
        actor,
        "company1",
        email="root@company1.example",
        password=password_of("root@company1.example"),
        display_name="Company One",
    )
    company2 = services.create_account(
        actor,
        "company2",
        email="root@company2.example",
        password=password_of("root@company2.example"),
        display_name="Company Two",
    )
    add_user(company1, "admin", ["AdministratorAccess"])
    add_user(company1, "auditor", ["AliyunRAMReadOnlyAccess"])
    add_user(company2, "alice", ["AliyunSTSAssumeRoleAccess"])

    ecs_admin = services.create_role(
        actor,
        company1,
        "ecs-admin",
        trust_policy=trust_accounts(company2.pk),
        description="Operations staff of company2 manage company1's ECS.",
    )
    for name in ("AliyunECSFullAccess", "AliyunRAMReadOnlyAccess"):
        services.attach_policy(actor, ecs_admin, system_policy(name))
    devops = services.create_role(
        actor,
        company1,
        "devops",
        trust_policy=trust_accounts(company1.pk),
        description="company1's own engineers deploy and operate services.",
    )
    for name in ("AliyunECSFullAccess", "AliyunOSSFullAccess"):
        services.attach_policy(actor, devops, system_policy(name))
    auditor = services.create_role(
        actor,
        company1,
        "auditor",
        trust_policy=trust_accounts(company1.pk),
        description="Read-only review of company1's access configuration.",
    )
    services.attach_policy(actor, auditor, system_policy("AliyunRAMReadOnlyAccess"))

    if not Service.objects.filter(name=SERVICE_NAME).exists():
        services.create_service(actor, SERVICE_NAME, description="Demo object storage service")
    log_writer = services.create_role(
        actor,
        company1,
        "oss-log-writer",
        trust_policy=trust_service(SERVICE_NAME),
        description="Lets the object storage service write access logs.",
    )
    services.attach_policy(actor, log_writer, system_policy("AliyunOSSFullAccess"))
    tags.tag_resources(actor, [ecs_admin], {"env": "prod", "team": "ops"})
    tags.tag_resources(actor, [devops], {"env": "dev", "team": "platform"})
    return True


@dataclass(frozen=True)
class DemoAccessKey:
    access_key_id: str
    secret: str | None  # None when the key was made (and its secret printed) on an earlier run


def alice_access_key() -> DemoAccessKey:
    """alice's active AccessKey for the README's SDK example: a new one, with its secret, when she
    has none; otherwise the existing key's id only (a secret is shown once)."""
    alice = User.objects.get(account__alias="company2", name="alice")
    existing = alice.access_keys.filter(status=AccessKey.Status.ACTIVE).first()
    if existing is not None:
        return DemoAccessKey(existing.access_key_id, None)
    new_key = services.create_access_key(SYSTEM_ACTOR, alice)
    return DemoAccessKey(new_key.access_key.access_key_id, new_key.secret)
