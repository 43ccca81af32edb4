"""Warnings about valid policies that probably do not say what their author meant.

``policy_warnings`` is for the console's policy editors: the document is accepted (Alibaba Cloud
accepts it too), but a combination is suspicious, e.g. ``StringEquals`` on ``acs:SecureTransport``
(compares the text "true", use Bool) or ``ForAllValues:`` on a key that has one value. An invalid
document gives no warnings: ``parse_policy`` reports its error.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from iam.policy.conditions import (
    ALWAYS_PRESENT_KEYS,
    FOR_ALL_VALUES,
    MULTI_VALUED_KEYS,
    ConditionOperator,
    is_known_key,
    key_type,
    resolve_operator,
)
from iam.policy.errors import PolicyError
from iam.policy.errors import gettext as _
from iam.policy.parse import ALLOW, DENY, PERMISSION, ParsedPolicy, parse_policy

# Stable warning codes, for tests and for styling in the editor.
OPERATOR_TYPE = "operator-type"
SET_OPERATOR_ON_SINGLE_VALUE = "set-operator-single-valued"
IF_EXISTS_ON_PRESENT_KEY = "if-exists-always-present"
UNKNOWN_KEY = "unknown-condition-key"
FULL_ACCESS = "full-access"
NEVER_APPLIES = "never-applies"
BROAD_NEGATION = "broad-negation"
DUPLICATE_VALUE = "duplicate-value"
FOR_ALL_VALUES_WITHOUT_KEY = "for-all-values-absent-key"


@dataclass(frozen=True)
class PolicyWarning:
    """One warning: ``code`` (one of the constants above), ``path`` in the document (0-based,
    like PolicyError: ``Statement[0].Condition.StringEquals.acs:SecureTransport``) and a
    ``message`` for people, in the active language (see ``iam.policy.errors.gettext``)."""

    code: str
    path: str
    message: str


def policy_warnings(
    document: str | Mapping[str, Any] | ParsedPolicy, *, kind: str = PERMISSION
) -> list[PolicyWarning]:
    """Warnings for a policy document (JSON text, a decoded object or a ParsedPolicy) of ``kind``
    ("permission", "trust" or "session"), statement by statement; [] for an invalid document."""
    if not isinstance(document, ParsedPolicy):
        try:
            document = parse_policy(document, kind=kind)
        except PolicyError:
            return []
    data: dict[str, Any] = json.loads(document.text)
    found: list[PolicyWarning] = []
    for index, statement in enumerate(data["Statement"]):
        found.extend(_statement_warnings(statement, f"Statement[{index}]"))
    return found


def _as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statement_warnings(statement: dict[str, Any], path: str) -> Iterator[PolicyWarning]:
    yield from _scope_warnings(statement, path)
    for element in ("Action", "NotAction", "Resource", "NotResource"):
        if element in statement:
            yield from _duplicates(statement[element], f"{path}.{element}", element)
    condition = statement.get("Condition", {})
    for operator_name, block in condition.items():
        operator = resolve_operator(operator_name)
        if operator is None:  # pragma: no cover - parse_policy accepted the document
            continue
        for key in block:
            key_path = f"{path}.Condition.{operator_name}.{key}"
            yield from _condition_warnings(operator, key, key_path)
            if statement["Effect"] == ALLOW and _allows_absent_key(operator, key, condition):
                yield PolicyWarning(
                    FOR_ALL_VALUES_WITHOUT_KEY,
                    key_path,
                    _(
                        "ForAllValues: also holds when the request carries no %(key)s, so this "
                        'allows such requests too; add "Null": {"%(key)s": "false"} to require it.'
                    )
                    % {"key": key},
                )


def _allows_absent_key(
    operator: ConditionOperator, key: str, condition: dict[str, dict[str, Any]]
) -> bool:
    """ForAllValues: on a multi-valued key that the statement does not require to be present
    (a single-valued key has its own warning)."""
    if operator.set_qualifier != FOR_ALL_VALUES or key.lower() not in MULTI_VALUED_KEYS:
        return False
    required = {
        name.lower()
        for name, value in condition.get("Null", {}).items()
        if all(str(item).lower() == "false" for item in _as_list(value))
    }
    return key.lower() not in required


def _scope_warnings(statement: dict[str, Any], path: str) -> Iterator[PolicyWarning]:
    effect = statement["Effect"]
    for element in ("NotAction", "NotResource"):
        if element in statement and "*" in _as_list(statement[element]):
            yield PolicyWarning(
                NEVER_APPLIES,
                f"{path}.{element}",
                _('%(element)s "*" excludes everything, so this statement never applies.')
                % {"element": element},
            )
            return
    if effect == ALLOW and "NotAction" in statement and "Condition" not in statement:
        yield PolicyWarning(
            BROAD_NEGATION,
            f"{path}.NotAction",
            _(
                "Allow with NotAction grants every action not listed, in every service, "
                "including actions added later."
            ),
        )
    if effect == DENY and "NotResource" in statement and "Condition" not in statement:
        yield PolicyWarning(
            BROAD_NEGATION,
            f"{path}.NotResource",
            _(
                "Deny with NotResource denies these actions on every resource not listed, "
                "in every account and region."
            ),
        )
    actions, resources = _as_list(statement.get("Action")), _as_list(statement.get("Resource"))
    if effect == ALLOW and "*" in actions and "*" in resources and "Condition" not in statement:
        yield PolicyWarning(
            FULL_ACCESS,
            path,
            _('Allows every action on every resource ("*" on "*"): full administrator access.'),
        )


def _duplicates(value: object, path: str, element: str) -> Iterator[PolicyWarning]:
    seen: set[str] = set()
    fold = element.endswith("Action")  # actions compare case-insensitively
    for index, item in enumerate(_as_list(value)):
        folded = item.lower() if fold else item
        if folded in seen:
            yield PolicyWarning(
                DUPLICATE_VALUE,
                f"{path}[{index}]",
                _("%(item)s is listed twice in %(element)s.") % {"item": item, "element": element},
            )
        seen.add(folded)


def _condition_warnings(
    operator: ConditionOperator, key: str, path: str
) -> Iterator[PolicyWarning]:
    lowered = key.lower()
    if not is_known_key(key):
        yield PolicyWarning(
            UNKNOWN_KEY,
            path,
            _(
                "%(key)s is not a condition key this service sets; requests never carry it, so "
                "%(operator)s treats it as absent."
            )
            % {"key": key, "operator": operator.name},
        )
    expected = key_type(key)
    if expected is not None and not operator.is_null and expected is not operator.value_type:
        yield PolicyWarning(
            OPERATOR_TYPE,
            path,
            _("%(key)s is %(type)s key but %(operator)s reads it as %(read_as)s; use %(hint)s.")
            % {
                "key": key,
                "type": _(expected.noun),
                "operator": operator.name,
                "read_as": _(operator.value_type.noun),
                "hint": _(expected.operator_hint),
            },
        )
    if operator.set_qualifier and is_known_key(key) and lowered not in MULTI_VALUED_KEYS:
        message = (
            _(
                "%(key)s has a single value; %(qualifier)s: is meant for multi-valued keys and "
                "here also holds when the key is absent."
            )
            if operator.set_qualifier == FOR_ALL_VALUES
            else _(
                "%(key)s has a single value; %(qualifier)s: is meant for multi-valued keys and "
                "here behaves like the plain operator."
            )
        )
        yield PolicyWarning(
            SET_OPERATOR_ON_SINGLE_VALUE,
            path,
            message % {"key": key, "qualifier": operator.set_qualifier},
        )
    if operator.if_exists and lowered in ALWAYS_PRESENT_KEYS:
        yield PolicyWarning(
            IF_EXISTS_ON_PRESENT_KEY,
            path,
            _("%(key)s is present in every request, so IfExists changes nothing.") % {"key": key},
        )
