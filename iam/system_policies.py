"""The system policies (spec §5.6): created by a data migration, never changed afterwards."""

from __future__ import annotations

import json
from typing import Any


def statement(
    actions: str | list[str], effect: str = "Allow", resource: str = "*"
) -> dict[str, Any]:
    return {"Effect": effect, "Action": actions, "Resource": resource}


READ_SERVICES = ["ecs", "oss", "ram", "rds", "vpc", "slb", "kms", "sts", "actiontrail", "cms"]

SYSTEM_POLICIES = [
    ("AdministratorAccess", "Full access to every resource of the account.", [statement("*")]),
    (
        "ReadOnlyAccess",
        "Read-only access to every resource of the account.",
        [
            statement(
                [f"{s}:{verb}" for s in READ_SERVICES for verb in ("Describe*", "List*", "Get*")]
            )
        ],
    ),
    (
        "AliyunRAMFullAccess",
        "Full access to Resource Access Management (RAM).",
        [statement("ram:*")],
    ),
    (
        "AliyunRAMReadOnlyAccess",
        "Read-only access to Resource Access Management (RAM).",
        [statement(["ram:Get*", "ram:List*", "ram:GenerateCredentialReport"])],
    ),
    (
        "AliyunSTSAssumeRoleAccess",
        "Permission to assume any RAM role through STS.",
        [statement("sts:AssumeRole")],
    ),
    ("AliyunOSSFullAccess", "Full access to Object Storage Service (OSS).", [statement("oss:*")]),
    (
        "AliyunOSSReadOnlyAccess",
        "Read-only access to Object Storage Service (OSS).",
        [statement(["oss:Get*", "oss:List*"])],
    ),
    (
        "AliyunECSFullAccess",
        "Full access to Elastic Compute Service (ECS).",
        [
            statement("ecs:*"),
            statement(
                ["vpc:DescribeVpcs", "vpc:DescribeVSwitches", "ram:ListRoles", "ram:GetRole"]
            ),
        ],
    ),
    (
        "AliyunECSReadOnlyAccess",
        "Read-only access to Elastic Compute Service (ECS).",
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
