"""Small builders for policy documents in tests."""

from __future__ import annotations

from typing import Any

ACCOUNT = "1234567890123456"
OTHER_ACCOUNT = "6543210987654321"


def statement(
    effect: str = "Allow", action: Any = "*", resource: Any = "*", **elements: Any
) -> dict[str, Any]:
    """A permission statement; ``elements`` adds or replaces elements (Condition=..., Sid=...)."""
    built: dict[str, Any] = {"Effect": effect, "Action": action, "Resource": resource}
    built.update(elements)
    return built


def allow(action: Any = "*", resource: Any = "*", **elements: Any) -> dict[str, Any]:
    return statement("Allow", action, resource, **elements)


def deny(action: Any = "*", resource: Any = "*", **elements: Any) -> dict[str, Any]:
    return statement("Deny", action, resource, **elements)


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "1", "Statement": list(statements)}


def trust(*principals: str, effect: str = "Allow", **elements: Any) -> dict[str, Any]:
    """A trust policy whose one statement names RAM principals (or pass Principal=...)."""
    built: dict[str, Any] = {
        "Effect": effect,
        "Action": "sts:AssumeRole",
        "Principal": {"RAM": list(principals)},
    }
    built.update(elements)
    return policy(built)


def role_arn(name: str, account: str = ACCOUNT) -> str:
    return f"acs:ram::{account}:role/{name}"
