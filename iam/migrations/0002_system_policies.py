"""Create the system policies (spec §5.6). Their documents never change after creation."""

from __future__ import annotations

import json

from django.db import migrations


def statement(actions, effect="Allow", resource="*"):
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


def create_system_policies(apps, schema_editor):
    Policy = apps.get_model("iam", "Policy")
    PolicyVersion = apps.get_model("iam", "PolicyVersion")
    for name, description, statements in SYSTEM_POLICIES:
        policy = Policy.objects.create(
            account=None,
            name=name,
            policy_type="System",
            description=description,
            default_version="v1",
            next_version_number=2,
        )
        document = json.dumps({"Version": "1", "Statement": statements}, indent=2)
        PolicyVersion.objects.create(policy=policy, version_id="v1", document=document)


def remove_system_policies(apps, schema_editor):
    Policy = apps.get_model("iam", "Policy")
    Policy.objects.filter(account__isnull=True, name__in=[p[0] for p in SYSTEM_POLICIES]).delete()


class Migration(migrations.Migration):
    dependencies = [("iam", "0001_initial")]

    operations = [migrations.RunPython(create_system_policies, remove_system_policies)]
