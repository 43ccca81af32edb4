"""Condition operators, the types of known condition keys, and the request context.

Every operator belongs to one value type (string, number, date, boolean, IP address). A value type
knows how to read a policy value (strictly: a bad value is a grammar error) and how to read a
context value (tolerantly: a context value that cannot be read as that type matches nothing).
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from iam.policy.errors import gettext as _
from iam.policy.errors import gettext_noop
from iam.policy.matching import PatternSet

JsonScalar = str | int | float | bool
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

CONDITION_KEY_PATTERN = re.compile(r"[a-zA-Z0-9]+:[A-Za-z0-9_/.-]+")
DECIMAL_PATTERN = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
MAX_NUMBER_LENGTH = 64


class InvalidValue(ValueError):
    """A policy value that does not fit its operator; the message is the reason for people."""


# --- value types -----------------------------------------------------------------------------


def _show(value: object) -> str:
    text = f'"{value}"' if isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _string_from_scalar(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return str(value)
    return None


def parse_string(value: JsonScalar) -> str:
    text = _string_from_scalar(value)
    if text is None:
        raise InvalidValue(_("%(value)s is not a string") % {"value": _show(value)})
    return text


def _decimal_from(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if (
        isinstance(value, str)
        and len(value) <= MAX_NUMBER_LENGTH
        and DECIMAL_PATTERN.fullmatch(value.strip())
    ):
        try:
            return Decimal(value.strip())
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid input
            return None
    return None


def parse_number(value: JsonScalar) -> Decimal:
    number = _decimal_from(value)
    if number is None:
        raise InvalidValue(_("%(value)s is not a number") % {"value": _show(value)})
    return number


def _datetime_from(value: object) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    else:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def parse_date(value: JsonScalar) -> datetime:
    moment = _datetime_from(value) if isinstance(value, str) else None
    if moment is None:
        raise InvalidValue(
            _("%(value)s is not an ISO 8601 date and time (e.g. 2019-08-12T17:00:00+08:00)")
            % {"value": _show(value)}
        )
    return moment


def _bool_from(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return {"true": True, "false": False}.get(value.strip().lower())
    return None


def parse_bool(value: JsonScalar) -> bool:
    flag = _bool_from(value)
    if flag is None:
        raise InvalidValue(_('%(value)s is not "true" or "false"') % {"value": _show(value)})
    return flag


def parse_network(value: JsonScalar) -> IpNetwork:
    if isinstance(value, str):
        try:
            return ipaddress.ip_network(value.strip(), strict=False)
        except ValueError:
            pass
    raise InvalidValue(_("%(value)s is not an IP address or CIDR") % {"value": _show(value)})


def _address_from(value: object) -> IpAddress | None:
    if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
        address = value
    elif isinstance(value, str):
        try:
            address = ipaddress.ip_address(value.strip())
        except ValueError:
            return None
    else:
        return None
    # A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d; policies name them as IPv4.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@dataclass(frozen=True)
class ValueType:
    name: str
    noun: str  # with its article, for messages: "a string key"; marked, translated when shown
    operator_hint: str  # marked like noun
    parse_policy_value: Callable[[JsonScalar], Any]
    coerce_context_value: Callable[[object], Any]


STRING = ValueType(
    "String",
    gettext_noop("a string"),
    gettext_noop("String* operators"),
    parse_string,
    _string_from_scalar,
)
NUMBER = ValueType(
    "Numeric",
    gettext_noop("a number"),
    gettext_noop("Numeric* operators"),
    parse_number,
    _decimal_from,
)
DATE = ValueType(
    "Date", gettext_noop("a date"), gettext_noop("Date* operators"), parse_date, _datetime_from
)
BOOLEAN = ValueType("Bool", gettext_noop("a boolean"), "Bool", parse_bool, _bool_from)
IP_ADDRESS = ValueType(
    "IpAddress",
    gettext_noop("an IP address"),
    gettext_noop("IpAddress or NotIpAddress"),
    parse_network,
    _address_from,
)


# --- operators -------------------------------------------------------------------------------

Test = Callable[[Any], bool]


def _equals(values: tuple[Any, ...]) -> Test:
    return frozenset(values).__contains__


def _equals_ignoring_case(values: tuple[str, ...]) -> Test:
    folded = frozenset(value.casefold() for value in values)
    return lambda value: value.casefold() in folded


def _like(values: tuple[str, ...]) -> Test:
    return PatternSet(values).matches


def _less_than(values: tuple[Any, ...]) -> Test:
    bound = max(values)
    return lambda value: value < bound


def _less_than_or_equal(values: tuple[Any, ...]) -> Test:
    bound = max(values)
    return lambda value: value <= bound


def _greater_than(values: tuple[Any, ...]) -> Test:
    bound = min(values)
    return lambda value: value > bound


def _greater_than_or_equal(values: tuple[Any, ...]) -> Test:
    bound = min(values)
    return lambda value: value >= bound


def _in_network(values: tuple[IpNetwork, ...]) -> Test:
    networks = {
        4: tuple(n for n in values if n.version == 4),
        6: tuple(n for n in values if n.version == 6),
    }
    return lambda address: any(address in network for network in networks[address.version])


@dataclass(frozen=True)
class Operator:
    """A condition operator.

    ``build_test`` turns the parsed policy values into a one-argument test of one context value
    that answers the positive question ("equals one of", "lies in one of"). A negated operator
    (``StringNotEquals``...) holds exactly when its positive twin does not.
    """

    name: str
    value_type: ValueType
    negated: bool
    build_test: Callable[[tuple[Any, ...]], Test]


def _family(value_type: ValueType, prefix: str) -> list[Operator]:
    return [
        Operator(f"{prefix}Equals", value_type, False, _equals),
        Operator(f"{prefix}NotEquals", value_type, True, _equals),
        Operator(f"{prefix}LessThan", value_type, False, _less_than),
        Operator(f"{prefix}LessThanEquals", value_type, False, _less_than_or_equal),
        Operator(f"{prefix}GreaterThan", value_type, False, _greater_than),
        Operator(f"{prefix}GreaterThanEquals", value_type, False, _greater_than_or_equal),
    ]


OPERATORS: dict[str, Operator] = {
    operator.name: operator
    for operator in [
        Operator("StringEquals", STRING, False, _equals),
        Operator("StringNotEquals", STRING, True, _equals),
        Operator("StringEqualsIgnoreCase", STRING, False, _equals_ignoring_case),
        Operator("StringNotEqualsIgnoreCase", STRING, True, _equals_ignoring_case),
        Operator("StringLike", STRING, False, _like),
        Operator("StringNotLike", STRING, True, _like),
        *_family(NUMBER, "Numeric"),
        *_family(DATE, "Date"),
        Operator("Bool", BOOLEAN, False, _equals),
        Operator("IpAddress", IP_ADDRESS, False, _in_network),
        Operator("NotIpAddress", IP_ADDRESS, True, _in_network),
        # Null's policy value says whether the key is absent ("true") or present ("false").
        Operator("Null", BOOLEAN, False, _equals),
    ]
}


NULL = "Null"
FOR_ANY_VALUE = "ForAnyValue"
FOR_ALL_VALUES = "ForAllValues"
SET_QUALIFIERS = (FOR_ANY_VALUE, FOR_ALL_VALUES)
IF_EXISTS = "IfExists"


@dataclass(frozen=True)
class ConditionOperator:
    """An operator as written in a policy: a base operator (``StringEquals``), optionally
    qualified for multi-valued keys (``ForAnyValue:``/``ForAllValues:``) and optionally
    ``...IfExists`` (the condition holds when the key is absent)."""

    name: str
    base: Operator
    set_qualifier: str | None = None
    if_exists: bool = False

    @property
    def value_type(self) -> ValueType:
        return self.base.value_type

    @property
    def is_null(self) -> bool:
        return self.base.name == NULL


def resolve_operator(name: str) -> ConditionOperator | None:
    """The operator ``name`` stands for, None when it is no operator. ``Null`` takes neither a
    set qualifier nor IfExists (it already tests presence)."""
    qualifier, separator, rest = name.partition(":")
    if not separator:
        qualifier, rest = "", name
    elif qualifier not in SET_QUALIFIERS:
        return None
    if_exists = rest.endswith(IF_EXISTS) and rest != IF_EXISTS
    base = OPERATORS.get(rest.removesuffix(IF_EXISTS) if if_exists else rest)
    if base is None or (base.name == NULL and (qualifier or if_exists)):
        return None
    return ConditionOperator(name, base, qualifier or None, if_exists)


def unknown_operator_reason(name: str) -> str:
    """Why ``name`` is not accepted as an operator, for an error whose path already names it."""
    qualifier, separator, rest = name.partition(":")
    if separator and qualifier not in SET_QUALIFIERS:
        return _(
            '"%(qualifier)s:" is not a set operator (expected ForAnyValue: or ForAllValues:)'
        ) % {"qualifier": qualifier}
    prefix = f"{qualifier}:" if separator else ""
    base_name = rest if separator else name
    if base_name.removesuffix(IF_EXISTS) == NULL:
        return _(
            "Null tests whether a key is present; it takes no ForAnyValue:, ForAllValues: or "
            "IfExists"
        )
    suffix = IF_EXISTS if base_name.lower().endswith(IF_EXISTS.lower()) else ""
    base_name = base_name[: len(base_name) - len(suffix)]
    for known in OPERATORS:
        if known.lower() == base_name.lower():
            return _('is not a condition operator; did you mean "%(operator)s"?') % {
                "operator": f"{prefix}{known}{suffix}"
            }
    return _(
        "is not a condition operator (expected String*, Numeric*, Date*, Bool, IpAddress, "
        "NotIpAddress or Null, optionally with ForAnyValue:/ForAllValues: or ...IfExists)"
    )


# --- condition keys --------------------------------------------------------------------------

KNOWN_KEY_TYPES: dict[str, ValueType] = {
    "acs:sourceip": IP_ADDRESS,
    "acs:currenttime": DATE,
    "acs:securetransport": BOOLEAN,
    "acs:mfapresent": BOOLEAN,
    "acs:principalarn": STRING,
    "acs:sourcevpc": STRING,
    "acs:accessid": STRING,
    "acs:principalrdid": STRING,
    "acs:principalrdpath": STRING,
    "acs:tagkeys": STRING,
    "sts:externalid": STRING,
    "saml:recipient": STRING,
    "saml:sub": STRING,
    "saml:sub_type": STRING,
    "saml:iss": STRING,
    "saml:aud": STRING,
    "oidc:iss": STRING,
    "oidc:aud": STRING,
    "oidc:sub": STRING,
}
STRING_KEY_PREFIXES = ("acs:requesttag/", "acs:resourcetag/")
# Keys that may carry several values in one request (ForAnyValue:/ForAllValues: are for them).
MULTI_VALUED_KEYS = frozenset({"acs:tagkeys"})
# Keys every request evaluated here carries (IfExists on them changes nothing).
ALWAYS_PRESENT_KEYS = frozenset(
    {"acs:sourceip", "acs:currenttime", "acs:securetransport", "acs:mfapresent"}
)


def is_known_key(key: str) -> bool:
    """Whether requests evaluated here can carry ``key`` (tag keys included)."""
    lowered = key.lower()
    return lowered.startswith(STRING_KEY_PREFIXES) or lowered in KNOWN_KEY_TYPES


def key_type(key: str) -> ValueType | None:
    """The value type of a known condition key (case-insensitive), None for any other key and
    for tag keys: a tag value is text, yet "10" is as good a number as a string."""
    return KNOWN_KEY_TYPES.get(key.lower())


# --- the request context ---------------------------------------------------------------------


def _context_values(value: object) -> tuple[object, ...]:
    if value is None:
        return ()
    if isinstance(value, list | tuple | set | frozenset):
        return tuple(item for item in value if item is not None)
    return (value,)


class RequestContext:
    """The condition keys of one request, read once.

    Key names are case-insensitive: they are stored lower-cased. Every key holds a tuple of values
    (a multi-valued key is a list in the caller's mapping; ``None`` and empty lists mean absent).
    Values are converted to an operator's type on first use and remembered for the request, since
    many statements test the same key.
    """

    __slots__ = ("_converted", "values")

    def __init__(self, context: Mapping[str, object] | None = None) -> None:
        values: dict[str, tuple[object, ...]] = {}
        for key, value in (context or {}).items():
            items = _context_values(value)
            if items:
                lowered = str(key).lower()
                values[lowered] = values.get(lowered, ()) + items
        self.values = values
        self._converted: dict[tuple[str, str], tuple[Any, ...]] = {}

    def converted(self, key: str, value_type: ValueType) -> tuple[Any, ...]:
        """The values of ``key`` (lower-cased) that can be read as ``value_type``."""
        cache_key = (key, value_type.name)
        found = self._converted.get(cache_key)
        if found is None:
            coerce = value_type.coerce_context_value
            candidates = (coerce(value) for value in self.values.get(key, ()))
            found = tuple(value for value in candidates if value is not None)
            self._converted[cache_key] = found
        return found

    def count(self, key: str) -> int:
        """How many values ``key`` (lower-cased) has; 0 when it is absent."""
        return len(self.values.get(key, ()))

    def cache_key(self) -> Hashable | None:
        """A hashable summary of the context for decision caches; None when values are not
        hashable (such requests are evaluated without the cache)."""
        if not self.values:
            return ()
        summary = tuple(sorted(self.values.items(), key=lambda item: item[0]))
        try:
            hash(summary)
        except TypeError:
            return None
        return summary


@dataclass(frozen=True)
class CompiledCondition:
    """One key of one operator block, ready to test requests.

    ``test`` answers the positive question for one context value ("equals one of the policy's
    values", "lies in one of its networks"); a context value that cannot be read as the
    operator's type never passes it. How the answers for the key's values combine (AWS rules,
    which Alibaba's documentation does not contradict):

    ====================  =====================  ======================================
    operator              key absent             key present (values v1..vn)
    ====================  =====================  ======================================
    Op                    false                  some vi passes
    NotOp (negated)       true                   no vi passes
    ForAnyValue:Op        false                  some vi passes
    ForAnyValue:NotOp     false                  some vi does not pass
    ForAllValues:Op       true                   every vi passes
    ForAllValues:NotOp    true                   no vi passes
    ...IfExists           true                   as without IfExists
    Null                  policy value "true"    policy value "false"
    ====================  =====================  ======================================

    A key is absent when the context lacks it or holds None or an empty list.
    """

    key: str  # lower-cased
    value_type: ValueType
    negated: bool
    test: Test
    set_qualifier: str | None = None
    if_exists: bool = False
    null: bool = False

    def holds(self, request: RequestContext) -> bool:
        present = request.count(self.key) > 0
        if self.null:
            return self.test(not present)
        if not present:
            return (
                self.if_exists
                or self.set_qualifier == FOR_ALL_VALUES
                or (self.negated and self.set_qualifier is None)
            )
        test = self.test
        values = request.converted(self.key, self.value_type)
        if self.set_qualifier == FOR_ALL_VALUES and not self.negated:
            return len(values) == request.count(self.key) and all(test(v) for v in values)
        if self.set_qualifier == FOR_ANY_VALUE and self.negated:
            unreadable = len(values) < request.count(self.key)
            return unreadable or not all(test(value) for value in values)
        return any(test(value) for value in values) != self.negated


def compile_condition(
    operator: ConditionOperator, key: str, values: tuple[Any, ...]
) -> CompiledCondition:
    base = operator.base
    return CompiledCondition(
        key.lower(),
        base.value_type,
        base.negated,
        base.build_test(values),
        operator.set_qualifier,
        operator.if_exists,
        operator.is_null,
    )
