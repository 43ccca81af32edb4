"""The catalog the visual policy editor offers: the services we know, their actions, resource hints,
condition operators and keys. Built from our own registries: the RAM, IMS and STS actions the RPC
layer registers, the actions only the console authorizes, the services the system policies name,
the registered service principals, and the policy language's own operators."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from django.utils.translation import gettext, gettext_noop

from iam.api import RAM_VERSION
from iam.models import Service
from iam.policy import PolicyError, parse_policy
from iam.policy.conditions import OPERATORS
from iam.provider_api import IMS_VERSION
from iam.rpc import ACTIONS
from iam.system_policies import SYSTEM_POLICIES
from sts.actions import STS_VERSION

# The service prefix each RPC API version authorizes under (IMS's actions are ram:<Action>).
VERSION_SERVICES = {RAM_VERSION: "ram", IMS_VERSION: "ram", STS_VERSION: "sts"}

# Actions the console authorizes that no RPC action registers (a test keeps this list complete).
CONSOLE_ACTIONS = {
    "ram": [
        "DeleteLoginProfile",
        "GenerateCredentialReport",
        "GetAuditEvent",
        "ListAuditEvents",
        "RevokeRoleSession",
        "RevokeRoleSessions",
        "SimulateAssumeRole",
        "SimulatePolicy",
        "UpdateGroup",
        "UpdateLoginProfile",
        "UpdatePolicyDescription",
        "UpdateUser",
    ],
}

# Marked here, translated when the catalog is built for a page (Alibaba's Chinese console names
# its services in Chinese: 云服务器 ECS).
TITLES = {
    "ram": gettext_noop("Resource Access Management (RAM)"),
    "sts": gettext_noop("Security Token Service (STS)"),
    "ecs": gettext_noop("Elastic Compute Service (ECS)"),
    "oss": gettext_noop("Object Storage Service (OSS)"),
    "rds": gettext_noop("ApsaraDB RDS"),
    "vpc": gettext_noop("Virtual Private Cloud (VPC)"),
    "slb": gettext_noop("Server Load Balancer (SLB)"),
    "kms": gettext_noop("Key Management Service (KMS)"),
    "actiontrail": gettext_noop("ActionTrail"),
    "cms": gettext_noop("CloudMonitor (CMS)"),
}

# Resource ARN patterns for the editor's hints; {account} is the current account's id.
RESOURCE_HINTS = {
    "ram": [
        "acs:ram:*:{account}:user/*",
        "acs:ram:*:{account}:group/*",
        "acs:ram:*:{account}:role/*",
        "acs:ram:*:{account}:policy/*",
    ],
    "sts": ["acs:ram:*:{account}:role/*"],
    "oss": ["acs:oss:*:{account}:<bucket>", "acs:oss:*:{account}:<bucket>/*"],
    "ecs": ["acs:ecs:*:{account}:instance/*"],
}

# The condition keys the evaluator knows a type for, spelled as the documentation does.
CONDITION_KEYS = [
    "acs:SourceIp",
    "acs:CurrentTime",
    "acs:SecureTransport",
    "acs:MFAPresent",
    "acs:PrincipalARN",
    "acs:SourceVpc",
    "acs:AccessId",
    "acs:PrincipalRDId",
    "acs:PrincipalRDPath",
    "acs:RequestTag/<key>",
    "acs:ResourceTag/<key>",
]

SET_QUALIFIERS = ["ForAnyValue:", "ForAllValues:"]
SERVICE_PREFIX = re.compile(r"[a-z][a-z0-9-]*")


def registered_actions() -> dict[str, set[str]]:
    """Service prefix -> the action names the RPC layer and the console authorize under it."""
    found: dict[str, set[str]] = {}
    for version, name in ACTIONS:
        service = VERSION_SERVICES.get(version)
        if service:
            found.setdefault(service, set()).add(name)
    for service, names in CONSOLE_ACTIONS.items():
        found.setdefault(service, set()).update(names)
    return found


def system_policy_actions() -> dict[str, set[str]]:
    """Service prefix -> the action names and patterns the system policies grant."""
    found: dict[str, set[str]] = {}
    for _, _, statements in SYSTEM_POLICIES:
        for statement in statements:
            actions = statement["Action"]
            for action in [actions] if isinstance(actions, str) else actions:
                service, _, name = action.partition(":")
                if name and name != "*":
                    found.setdefault(service, set()).add(name)
                elif name == "*":
                    found.setdefault(service, set())
    return found


def service_principal_prefixes() -> set[str]:
    """``ecs`` for a registered service principal ``ecs.aliyuncs.com``."""
    names = Service.objects.values_list("name", flat=True)
    prefixes = {name.split(".", 1)[0].lower() for name in names}
    return {prefix for prefix in prefixes if SERVICE_PREFIX.fullmatch(prefix)}


def services_known() -> list[dict[str, Any]]:
    actions = registered_actions()
    for service, names in system_policy_actions().items():
        actions.setdefault(service, set()).update(names)
    for prefix in service_principal_prefixes():
        actions.setdefault(prefix, set())
    return [
        {
            "name": service,
            "title": TITLES.get(service, service.upper()),
            "actions": sorted(names, key=lambda name: (name.endswith("*"), name)),
            "resources": RESOURCE_HINTS.get(service, [f"acs:{service}:*:{{account}}:*"]),
        }
        for service, names in sorted(actions.items())
    ]


# A value each base operator's type reads, for trying an operator on the evaluator.
SAMPLE_VALUES = {
    "String": "x",
    "Numeric": "1",
    "Date": "2020-01-01T00:00:00Z",
    "Bool": "true",
    "IpAddress": "10.0.0.0/8",
}


@cache
def operator_accepted(operator: str, base: str) -> bool:
    """Whether the evaluator accepts ``operator`` (``base`` qualified or with IfExists): tried,
    not assumed, so the editor offers exactly what saving will accept."""
    value = SAMPLE_VALUES.get(OPERATORS[base].value_type.name, "x")
    statement = {
        "Effect": "Allow",
        "Action": "ram:GetUser",
        "Resource": "*",
        "Condition": {operator: {"example:Key": value}},
    }
    try:
        parse_policy(json.dumps({"Version": "1", "Statement": [statement]}), kind="permission")
    except PolicyError:
        return False
    return True


def operator_entry(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "qualifiers": [q for q in SET_QUALIFIERS if operator_accepted(f"{q}{name}", name)],
        "if_exists": operator_accepted(f"{name}IfExists", name),
    }


def editor_catalog(account_id: str) -> dict[str, Any]:
    """What the visual editor offers, for ``json_script``, its service titles in the page's
    language."""
    services = services_known()
    for service in services:
        service["resources"] = [hint.format(account=account_id) for hint in service["resources"]]
        if service["name"] in TITLES:
            service["title"] = gettext(service["title"])
    return {
        "services": services,
        "operators": [operator_entry(name) for name in OPERATORS],
        "qualifiers": SET_QUALIFIERS,
        "condition_keys": CONDITION_KEYS,
    }
