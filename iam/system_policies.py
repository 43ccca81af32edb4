"""The system policies (spec §5.6): created by a data migration, never changed afterwards.

Their descriptions are stored in English and marked for translation here: the console shows them
in the page's language (``console.templatetags.policy_text``), as Alibaba's console does; the API
answers them as stored."""

from __future__ import annotations

import json
from typing import Any

from django.utils.translation import gettext_noop


def statement(
    actions: str | list[str], effect: str = "Allow", resource: str = "*"
) -> dict[str, Any]:
    return {"Effect": effect, "Action": actions, "Resource": resource}


READ_SERVICES = ["ecs", "oss", "ram", "rds", "vpc", "slb", "kms", "sts", "actiontrail", "cms"]

SYSTEM_POLICIES = [
    (
        "AdministratorAccess",
        gettext_noop("Full access to every resource of the account."),
        [statement("*")],
    ),
    (
        "ReadOnlyAccess",
        gettext_noop("Read-only access to every resource of the account."),
        [
            statement(
                [f"{s}:{verb}" for s in READ_SERVICES for verb in ("Describe*", "List*", "Get*")]
            )
        ],
    ),
    (
        "AliyunRAMFullAccess",
        gettext_noop("Full access to Resource Access Management (RAM)."),
        [statement("ram:*")],
    ),
    (
        "AliyunRAMReadOnlyAccess",
        gettext_noop("Read-only access to Resource Access Management (RAM)."),
        [statement(["ram:Get*", "ram:List*", "ram:GenerateCredentialReport"])],
    ),
    (
        "AliyunSTSAssumeRoleAccess",
        gettext_noop("Permission to assume any RAM role through STS."),
        [statement("sts:AssumeRole")],
    ),
    (
        "AliyunOSSFullAccess",
        gettext_noop("Full access to Object Storage Service (OSS)."),
        [statement("oss:*")],
    ),
    (
        "AliyunOSSReadOnlyAccess",
        gettext_noop("Read-only access to Object Storage Service (OSS)."),
        [statement(["oss:Get*", "oss:List*"])],
    ),
    (
        "AliyunECSFullAccess",
        gettext_noop("Full access to Elastic Compute Service (ECS)."),
        [
            statement("ecs:*"),
            statement(
                ["vpc:DescribeVpcs", "vpc:DescribeVSwitches", "ram:ListRoles", "ram:GetRole"]
            ),
        ],
    ),
    (
        "AliyunECSReadOnlyAccess",
        gettext_noop("Read-only access to Elastic Compute Service (ECS)."),
        [statement(["ecs:Describe*", "ecs:List*", "vpc:DescribeVpcs", "vpc:DescribeVSwitches"])],
    ),
]


def system_policy_document(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "1", "Statement": statements}, indent=2)


def ensure_system_policies(policy_model: Any = None, version_model: Any = None) -> None:
    """Create any missing system policy (idempotent; also used by tests that flush the DB)."""
    if policy_model is None:
        from iam.models import Policy as policy_model
        from iam.models import PolicyVersion as version_model
    for name, description, statements in SYSTEM_POLICIES:
        if policy_model.objects.filter(account__isnull=True, name=name).exists():
            continue
        policy = policy_model.objects.create(
            account=None,
            name=name,
            policy_type="System",
            description=description,
            default_version="v1",
            next_version_number=2,
        )
        version_model.objects.create(
            policy=policy, version_id="v1", document=system_policy_document(statements)
        )
