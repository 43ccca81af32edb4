"""Reading and validating policy documents: permission, trust and session policies.

``parse_policy`` either returns an immutable ``ParsedPolicy`` or raises ``PolicyError`` naming the
place (``Statement[0].Condition.IpAddress.acs:SourceIp``, 0-based like JSON paths) and the reason.
It never raises anything else for any input text or JSON-like object.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from iam.arns import FEDERATED_PRINCIPAL_PATTERN, RAM_PRINCIPAL_PATTERN
from iam.policy.conditions import (
    CONDITION_KEY_PATTERN,
    ConditionOperator,
    InvalidValue,
    JsonScalar,
    resolve_operator,
    unknown_operator_reason,
)
from iam.policy.errors import (
    MALFORMED_POLICY_DOCUMENT,
    SESSION_POLICY_GRAMMAR,
    SESSION_POLICY_SIZE,
    PolicyError,
    gettext_noop,
)
from iam.policy.errors import gettext as _
from iam.policy.matching import PatternSet

PERMISSION = "permission"
TRUST = "trust"
SESSION = "session"
POLICY_KINDS = (PERMISSION, TRUST, SESSION)

DOCUMENT_MAX_CHARACTERS = 6144
SESSION_POLICY_MAX_BYTES = 2048
SESSION_POLICY_SIZE_MESSAGE = "The size of Policy must be smaller than 2048 bytes."

ALLOW = "Allow"
DENY = "Deny"
ASSUME_ROLE_ACTIONS = ("sts:assumerole", "sts:assumerolewithsaml", "sts:assumerolewithoidc")

ACTION_PATTERN = re.compile(r"\*|[A-Za-z0-9*?-]+:[A-Za-z0-9_*?]+")
RESOURCE_PATTERN = re.compile(
    r"\*|acs:[A-Za-z0-9*?-]+:[A-Za-z0-9*?_-]*:[0-9*?]*:[^\x00-\x1f\x7f]+", re.DOTALL
)
SERVICE_PRINCIPAL_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9@._-]{0,254}")

DOCUMENT_ELEMENTS = ("Version", "Statement")
STATEMENT_ELEMENTS = (
    "Sid", "Effect", "Principal", "Action", "NotAction", "Resource", "NotResource", "Condition",
)  # fmt: skip
PRINCIPAL_TYPES = ("RAM", "Service", "Federated")

# What Python's JSON decoder says (error.msg), marked so that the console shows it translated.
JSON_DECODER_MESSAGES = frozenset(
    [
        gettext_noop("Expecting value"),
        gettext_noop("Expecting ',' delimiter"),
        gettext_noop("Expecting ':' delimiter"),
        gettext_noop("Expecting property name enclosed in double quotes"),
        gettext_noop("Extra data"),
        gettext_noop("Unterminated string starting at"),
        gettext_noop("Invalid control character at"),
        gettext_noop("Invalid \\escape"),
        gettext_noop("Invalid \\uXXXX escape"),
        gettext_noop("Illegal trailing comma before end of object"),
        gettext_noop("Illegal trailing comma before end of array"),
    ]
)


@dataclass(frozen=True)
class Condition:
    operator: str  # as written: "StringEquals", "ForAllValues:StringLikeIfExists", "Null"...
    key: str  # as written; compared case-insensitively
    values: tuple[JsonScalar, ...]  # as written
    parsed_values: tuple[Any, ...]  # read as the operator's type (str, Decimal, datetime, ...)


@dataclass(frozen=True)
class Principals:
    ram: tuple[str, ...] = ()
    service: tuple[str, ...] = ()
    federated: tuple[str, ...] = ()


@dataclass(frozen=True)
class Statement:
    """One statement. ``not_action``/``not_resource`` say the lists came from NotAction and
    NotResource. Trust statements have ``principals`` and no resources."""

    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...] = ()
    not_action: bool = False
    not_resource: bool = False
    conditions: tuple[Condition, ...] = ()
    principals: Principals | None = None
    sid: str | None = None


@dataclass(frozen=True, eq=False)
class ParsedPolicy:
    """A validated policy. Equal and hashable by (name, policy type, version, canonical text).

    ``text`` is the canonical serialization: compact JSON, elements in a fixed order, condition
    operators and keys sorted, single values kept single. Parsing it again gives the same policy.
    """

    name: str
    policy_type: str
    version: str
    kind: str
    text: str
    statements: tuple[Statement, ...]
    _identity_hash: int = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Policies are cache keys on every request: hash the (long) identity once.
        object.__setattr__(self, "_identity_hash", hash(self.identity))

    @property
    def identity(self) -> tuple[str, str, str, str]:
        return (self.name, self.policy_type, self.version, self.text)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ParsedPolicy):
            return NotImplemented
        return self is other or self.identity == other.identity

    def __hash__(self) -> int:
        return self._identity_hash

    def __reduce__(self) -> tuple[type[ParsedPolicy], tuple[Any, ...]]:
        # String hashes differ between processes: rebuild (and re-hash) instead of copying state.
        fields = (self.name, self.policy_type, self.version, self.kind, self.text, self.statements)
        return (ParsedPolicy, fields)

    def to_json(self) -> str:
        return self.text

    def to_dict(self) -> dict[str, Any]:
        """A fresh copy of the canonical document (the policy itself stays immutable)."""
        document: dict[str, Any] = json.loads(self.text)
        return document


class _Problem(Exception):
    """A grammar problem at ``path``; parse_policy raises it as PolicyError with the kind's code."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(reason)
        self.path = path
        self.reason = reason


def _show(value: object) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        text = type(value).__name__
    return text if len(text) <= 80 else text[:77] + "..."


def _is_json_scalar(value: object) -> bool:
    return isinstance(value, str | int | float | bool)


class ParseStatistics:
    """How many documents ``parse_policy`` has read in this process; the evaluation caches are
    meant to keep this from growing with the number of requests (their tests read it)."""

    documents = 0


parse_statistics = ParseStatistics()


# --- the document ----------------------------------------------------------------------------


def parse_policy(
    document: str | Mapping[str, Any],
    *,
    kind: str = PERMISSION,
    name: str = "",
    policy_type: str = "Custom",
    version: str = "v1",
) -> ParsedPolicy:
    """Validate a policy document (JSON text or an already decoded object) of ``kind``
    ("permission", "trust" or "session") and return it parsed."""
    if kind not in POLICY_KINDS:
        raise ValueError(f"kind must be one of {POLICY_KINDS}, not {kind!r}")
    grammar_code = SESSION_POLICY_GRAMMAR if kind == SESSION else MALFORMED_POLICY_DOCUMENT
    parse_statistics.documents += 1
    text = _document_text(document, grammar_code)
    _check_size(text, kind)
    data = _load_json(text, grammar_code)
    _refuse_lone_surrogates(text, data, grammar_code)
    try:
        statements, canonical = _read_document(data, kind)
    except _Problem as problem:
        raise PolicyError(grammar_code, problem.reason, path=problem.path) from None
    return ParsedPolicy(
        name=name,
        policy_type=policy_type,
        version=version,
        kind=kind,
        text=json.dumps(canonical, ensure_ascii=False, separators=(",", ":")),
        statements=statements,
    )


def _document_text(document: object, grammar_code: str) -> str:
    if isinstance(document, str):
        return document
    if isinstance(document, Mapping):
        try:
            return json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError, RecursionError) as error:
            raise PolicyError(
                grammar_code,
                _("the policy is not a JSON document: %(error)s") % {"error": error},
            ) from None
    raise PolicyError(grammar_code, _("a policy document must be JSON text or a JSON object"))


def _check_size(text: str, kind: str) -> None:
    if kind == SESSION:
        if len(text.encode("utf-8", "surrogatepass")) > SESSION_POLICY_MAX_BYTES:
            raise PolicyError(SESSION_POLICY_SIZE, SESSION_POLICY_SIZE_MESSAGE)
    elif len(text) > DOCUMENT_MAX_CHARACTERS:
        parameter = "AssumeRolePolicyDocument" if kind == TRUST else "PolicyDocument"
        raise PolicyError(
            f"InvalidParameter.{parameter}.Length",
            _('The parameter - "%(parameter)s" beyond the length limit.')
            % {"parameter": parameter},
        )


class _JsonProblem(ValueError):
    pass


def _object_without_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    decoded: dict[str, Any] = {}
    for key, value in pairs:
        if key in decoded:
            raise _JsonProblem(_('the key "%(key)s" appears twice in one object') % {"key": key})
        decoded[key] = value
    return decoded


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _JsonProblem(_("the number %(number)s is out of range") % {"number": text[:40]})
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:  # more digits than int() converts
        raise _JsonProblem(_("a number has too many digits")) from None


def _reject_constant(name: str) -> None:
    raise _JsonProblem(_("%(name)s is not valid JSON") % {"name": name})


def _load_json(text: str, grammar_code: str) -> object:
    try:
        return json.loads(
            text,
            object_pairs_hook=_object_without_duplicate_keys,
            parse_float=_finite_float,
            parse_int=_integer,
            parse_constant=_reject_constant,
        )
    except json.JSONDecodeError as error:
        detail = _(error.msg) if error.msg in JSON_DECODER_MESSAGES else error.msg
        raise PolicyError(
            grammar_code,
            _("Invalid JSON at line %(line)s, column %(column)s: %(detail)s")
            % {"line": error.lineno, "column": error.colno, "detail": detail},
            line=error.lineno,
            column=error.colno,
        ) from None
    except _JsonProblem as problem:
        raise PolicyError(
            grammar_code, _("Invalid JSON: %(problem)s") % {"problem": problem}
        ) from None
    except RecursionError:
        raise PolicyError(grammar_code, _("Invalid JSON: nested too deeply")) from None


def _refuse_lone_surrogates(text: str, data: object, grammar_code: str) -> None:
    """A ``\\u`` escape may name half of a UTF-16 surrogate pair alone, which is no character
    and has no UTF-8 encoding: the document could not be shown or answered as it reads."""
    if text.isascii() and "\\u" not in text:
        return
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as error:
        escape = f"\\u{ord(error.object[error.start]):04x}"
        raise PolicyError(
            grammar_code,
            _("Invalid JSON: %(escape)s is half of a surrogate pair, not a character")
            % {"escape": escape},
        ) from None
    except RecursionError:
        pass  # json.loads read it, so this cannot happen; the grammar check follows anyway


def _read_document(data: object, kind: str) -> tuple[tuple[Statement, ...], dict[str, Any]]:
    if not isinstance(data, dict):
        raise _Problem("", _("a policy document must be a JSON object"))
    for element in data:
        if element not in DOCUMENT_ELEMENTS:
            raise _Problem(
                element, _('is not a policy element (expected "Version" and "Statement")')
            )
    if "Version" not in data:
        raise _Problem("Version", _('is required and must be "1"'))
    if data["Version"] != "1" or not isinstance(data["Version"], str):
        raise _Problem(
            "Version", _('must be "1", not %(value)s') % {"value": _show(data["Version"])}
        )
    if "Statement" not in data:
        raise _Problem("Statement", _("is required"))
    raw_statements = data["Statement"]
    if not isinstance(raw_statements, list):
        raise _Problem("Statement", _("must be a list of statements"))
    if not raw_statements:
        raise _Problem("Statement", _("must contain at least one statement"))
    statements: list[Statement] = []
    canonical_statements: list[dict[str, Any]] = []
    for index, raw in enumerate(raw_statements):
        statement, canonical = _read_statement(raw, f"Statement[{index}]", kind)
        statements.append(statement)
        canonical_statements.append(canonical)
    return tuple(statements), {"Version": "1", "Statement": canonical_statements}


# --- statements ------------------------------------------------------------------------------


def _read_statement(raw: object, path: str, kind: str) -> tuple[Statement, dict[str, Any]]:
    if not isinstance(raw, dict):
        raise _Problem(path, _("must be a JSON object"))
    for element in raw:
        if element not in STATEMENT_ELEMENTS:
            raise _Problem(
                f"{path}.{element}",
                _("is not a statement element (expected %(elements)s)")
                % {"elements": ", ".join(STATEMENT_ELEMENTS)},
            )
    sid = raw.get("Sid")
    if "Sid" in raw and not isinstance(sid, str):
        raise _Problem(f"{path}.Sid", _("must be a string"))
    effect = raw.get("Effect")
    if effect not in (ALLOW, DENY) or not isinstance(effect, str):
        reason = (
            _('must be "Allow" or "Deny" (missing)')
            if "Effect" not in raw
            else _('must be "Allow" or "Deny" (not %(value)s)') % {"value": _show(effect)}
        )
        raise _Problem(f"{path}.Effect", reason)
    actions, not_action = _read_exactly_one(raw, path, "Action", "NotAction", _check_action)
    principals = None
    resources: tuple[str, ...] = ()
    not_resource = False
    if kind == TRUST:
        principals = _read_trust_parts(raw, path, actions, not_action)
    else:
        if "Principal" in raw:
            raise _Problem(f"{path}.Principal", _("only trust policies name a Principal"))
        resources, not_resource = _read_exactly_one(
            raw, path, "Resource", "NotResource", _check_resource
        )
    conditions, canonical_condition = (), None
    if "Condition" in raw:
        conditions, canonical_condition = _read_conditions(raw["Condition"], f"{path}.Condition")
    statement = Statement(
        effect=effect,
        actions=actions,
        resources=resources,
        not_action=not_action,
        not_resource=not_resource,
        conditions=conditions,
        principals=principals,
        sid=sid,
    )
    canonical = {element: raw[element] for element in STATEMENT_ELEMENTS if element in raw}
    if canonical_condition is not None:
        canonical["Condition"] = canonical_condition
    return statement, canonical


def _read_exactly_one(
    raw: dict[str, Any], path: str, positive: str, negative: str, check: Callable[[str, str], None]
) -> tuple[tuple[str, ...], bool]:
    if positive in raw and negative in raw:
        raise _Problem(
            path,
            _("has both %(positive)s and %(negative)s; use exactly one")
            % {"positive": positive, "negative": negative},
        )
    if positive not in raw and negative not in raw:
        raise _Problem(
            path,
            _("needs %(positive)s (or %(negative)s)")
            % {"positive": positive, "negative": negative},
        )
    element = positive if positive in raw else negative
    return _read_strings(raw[element], f"{path}.{element}", check), element == negative


def _read_strings(value: object, path: str, check: Callable[[str, str], None]) -> tuple[str, ...]:
    """A string or a non-empty list of strings, each passed through ``check``."""
    if isinstance(value, str):
        items = [(value, path)]
    elif isinstance(value, list):
        if not value:
            raise _Problem(path, _("must not be an empty list"))
        items = [(item, f"{path}[{index}]") for index, item in enumerate(value)]
    else:
        raise _Problem(path, _("must be a string or a list of strings"))
    for item, item_path in items:
        if not isinstance(item, str):
            raise _Problem(item_path, _("must be a string, not %(value)s") % {"value": _show(item)})
        check(item, item_path)
    return tuple(item for item, _ in items)


def _check_action(action: str, path: str) -> None:
    if not ACTION_PATTERN.fullmatch(action):
        raise _Problem(
            path,
            _(
                '%(value)s is not an action (expected "<service>:<ApiName>" with * and ? '
                'wildcards, or "*")'
            )
            % {"value": _show(action)},
        )


def _check_resource(resource: str, path: str) -> None:
    if not RESOURCE_PATTERN.fullmatch(resource):
        raise _Problem(
            path,
            _(
                '%(value)s is not a resource (expected "*" or '
                '"acs:<service>:<region>:<account-id>:<relative-id>")'
            )
            % {"value": _show(resource)},
        )


# --- trust policies --------------------------------------------------------------------------


def _read_trust_parts(
    raw: dict[str, Any], path: str, actions: tuple[str, ...], not_action: bool
) -> Principals:
    for element in ("Resource", "NotResource"):
        if element in raw:
            raise _Problem(
                f"{path}.{element}", _("a trust policy names a Principal, not a Resource")
            )
    if not_action:
        raise _Problem(f"{path}.NotAction", _("a trust policy must use Action (sts:AssumeRole)"))
    for index, action in enumerate(actions):
        pattern = PatternSet([action.lower()])
        if not any(pattern.matches(assume_action) for assume_action in ASSUME_ROLE_ACTIONS):
            action_path = (
                f"{path}.Action" if isinstance(raw["Action"], str) else (f"{path}.Action[{index}]")
            )
            raise _Problem(
                action_path,
                _(
                    "%(value)s is not sts:AssumeRole; a trust policy only grants "
                    "sts:AssumeRole (or sts:AssumeRoleWithSAML / sts:AssumeRoleWithOIDC)"
                )
                % {"value": _show(action)},
            )
    if "Principal" not in raw:
        raise _Problem(path, _("needs a Principal (the identities this role trusts)"))
    return _read_principals(raw["Principal"], f"{path}.Principal")


def _read_principals(raw: object, path: str) -> Principals:
    if not isinstance(raw, dict):
        raise _Problem(path, _('must be an object such as {"RAM": ["acs:ram::<account-id>:root"]}'))
    if not raw:
        raise _Problem(path, _("must name at least one principal"))
    for principal_type in raw:
        if principal_type not in PRINCIPAL_TYPES:
            raise _Problem(
                f"{path}.{principal_type}",
                _('is not a principal type (expected "RAM", "Service" or "Federated")'),
            )
    checks = {
        "RAM": _check_ram_principal,
        "Service": _check_service_principal,
        "Federated": _check_federated_principal,
    }
    ram, service, federated = (
        _read_strings(raw[name], f"{path}.{name}", checks[name]) if name in raw else ()
        for name in PRINCIPAL_TYPES
    )
    return Principals(ram=ram, service=service, federated=federated)


def _check_ram_principal(principal: str, path: str) -> None:
    if not RAM_PRINCIPAL_PATTERN.fullmatch(principal):
        raise _Problem(
            path,
            _(
                "%(value)s is not a RAM principal (expected acs:ram::<account-id>:root, "
                "acs:ram::<account-id>:user/<name> or acs:ram::<account-id>:role/<name>)"
            )
            % {"value": _show(principal)},
        )


def _check_service_principal(principal: str, path: str) -> None:
    if not SERVICE_PRINCIPAL_PATTERN.fullmatch(principal):
        raise _Problem(
            path,
            _("%(value)s is not a service name (e.g. ecs.aliyuncs.com)")
            % {"value": _show(principal)},
        )


def _check_federated_principal(principal: str, path: str) -> None:
    if not FEDERATED_PRINCIPAL_PATTERN.fullmatch(principal):
        raise _Problem(
            path,
            _(
                "%(value)s is not an identity provider (expected "
                "acs:ram::<account-id>:saml-provider/<name> or ...:oidc-provider/<name>)"
            )
            % {"value": _show(principal)},
        )


# --- conditions ------------------------------------------------------------------------------


def _read_conditions(
    raw: object, path: str
) -> tuple[tuple[Condition, ...], dict[str, dict[str, Any]]]:
    if not isinstance(raw, dict):
        raise _Problem(path, _('must be an object such as {"StringEquals": {"<key>": "<value>"}}'))
    if not raw:
        raise _Problem(path, _("must name at least one condition operator"))
    conditions: list[Condition] = []
    for operator_name, block in raw.items():
        operator_path = f"{path}.{operator_name}"
        operator = resolve_operator(operator_name)
        if operator is None:
            raise _Problem(operator_path, unknown_operator_reason(operator_name))
        if not isinstance(block, dict) or not block:
            raise _Problem(
                operator_path, _("must be a non-empty object of condition keys and values")
            )
        for key, values in block.items():
            conditions.append(_read_condition(operator, key, values, f"{operator_path}.{key}"))
    conditions.sort(key=lambda condition: (condition.operator, condition.key))
    canonical = {
        operator_name: {key: raw[operator_name][key] for key in sorted(raw[operator_name])}
        for operator_name in sorted(raw)
    }
    return tuple(conditions), canonical


def _read_condition(operator: ConditionOperator, key: str, values: object, path: str) -> Condition:
    """One key of an operator block. The values are read as the operator's type even when the
    key is known to hold another type (StringEquals on acs:SecureTransport): Alibaba accepts
    that, and policy_warnings() reports it."""
    if not CONDITION_KEY_PATTERN.fullmatch(key):
        raise _Problem(
            path,
            _("%(value)s is not a condition key (expected <service>:<Name>, e.g. acs:SourceIp)")
            % {"value": _show(key)},
        )
    if isinstance(values, list):
        if not values:
            raise _Problem(path, _("must not be an empty list"))
        items = [(value, f"{path}[{index}]") for index, value in enumerate(values)]
    else:
        items = [(values, path)]
    written: list[JsonScalar] = []
    parsed: list[Any] = []
    for value, value_path in items:
        if not _is_json_scalar(value):
            raise _Problem(
                value_path,
                _("must be a string, number or boolean, not %(value)s") % {"value": _show(value)},
            )
        try:
            parsed.append(operator.value_type.parse_policy_value(value))
        except InvalidValue as error:
            raise _Problem(value_path, str(error)) from None
        written.append(value)
    return Condition(operator.name, key, tuple(written), tuple(parsed))
