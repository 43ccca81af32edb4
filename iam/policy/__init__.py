"""The RAM policy language: parse and validate, evaluate, explain. Pure Python, no Django.

Entry points::

    from iam.policy import evaluate, parse_policy, PolicyError, Decision, ParsedPolicy
    decision = evaluate(policies, action, resource, context=None, session_policy=None)
    decision.allowed, decision.effect, decision.reasons

plus ``compile_policy``/``compile_policies`` (cached compiled forms), ``trust_allows``,
``explain`` and ``policy_warnings`` (suspicious but valid combinations, for the editors). The module ``iam.policy.naive`` holds a slow reference evaluator for tests and the
benchmark.

Rules the Alibaba documentation leaves open, as implemented here
----------------------------------------------------------------

Grammar
  - ``Version`` is required and must be the string "1"; ``Statement`` must be a non-empty list
    (a single statement object is rejected). Unknown elements, operators and principal types are
    rejected, as are duplicate keys in one JSON object and NaN/Infinity.
  - ``Sid`` is optional; any string is accepted and kept (it does not take part in evaluation).
  - ``NotAction`` and ``NotResource`` are accepted (exactly one of Action/NotAction and, outside
    trust policies, one of Resource/NotResource). A NotAction statement matches every action not
    listed; NotResource likewise.
  - Action, Resource and principal values are a string or a non-empty list of strings. An action
    is ``*`` or ``<service>:<ApiName>`` (wildcards allowed in both parts); a resource is ``*`` or
    ``acs:<service>:<region>:<account-id>:<relative-id>``.
  - Trust policies have ``Principal`` and no Resource/NotResource; their Action must cover
    sts:AssumeRole (or AssumeRoleWithSAML/OIDC): ``sts:AssumeRole``, ``sts:*`` and ``*`` do,
    ``ecs:*`` is an error; NotAction is rejected there.
  - Operators: the ones Alibaba's "Conditional operators" page documents
    (https://www.alibabacloud.com/help/en/ram/conditional-operator): String (StringEquals,
    StringNotEquals, StringEqualsIgnoreCase, StringNotEqualsIgnoreCase, StringLike,
    StringNotLike), Number (NumericEquals, NumericNotEquals, NumericLessThan[Equals],
    NumericGreaterThan[Equals]), Date and time (the same six with Date), Boolean (Bool) and IP
    address (IpAddress, NotIpAddress). That page names no set operators, IfExists or Null; we
    also accept AWS IAM's (reference_policies_elements_condition_operators,
    reference_policies_condition-single-vs-multi-valued-context-keys): ``ForAnyValue:`` and
    ``ForAllValues:`` before any operator, ``IfExists`` after any, and ``Null`` (alone), so that
    documents written for either cloud are not refused. Operator names are case-sensitive.
    AWS-only operator families (Binary*, Arn*) are rejected. Empty ``Condition`` objects and
    empty operator blocks are rejected.
  - Condition keys must look like ``<service>:<Name>``. Any operator may test any key: an
    operator of another type than a known key's (StringEquals on ``acs:SecureTransport``) is
    accepted, as Alibaba accepts it, and ``policy_warnings()`` reports it. Values are read as
    the operator's type.
  - Policy values: String* take strings (numbers and booleans are compared as their JSON text);
    Numeric* take JSON numbers or decimal strings ("10", "-2.5"; no exponent, no NaN); Date* take
    ISO 8601 strings (``2019-08-12T17:00:00+08:00``, ``...Z``, or a date alone; without a zone
    UTC is assumed); Bool takes "true"/"false" (any case) or JSON booleans; IpAddress takes an
    IPv4/IPv6 address or CIDR (host bits allowed: ``10.0.0.1/8`` means ``10.0.0.0/8``).
  - Sizes: permission policies over 6144 characters fail with
    ``InvalidParameter.PolicyDocument.Length``, trust policies with
    ``InvalidParameter.AssumeRolePolicyDocument.Length`` (the parameter RAM names); session policies
    over 2048 UTF-8 bytes with ``InvalidParameter.PolicySize``. A dict is measured as compact JSON.
    Grammar errors are ``MalformedPolicyDocument``, or ``InvalidParameter.PolicyGrammar`` for
    session policies. Paths are 0-based (``Statement[0].Action[2]``).

Matching
  - Actions compare case-insensitively. Resources compare case-sensitively; role ARNs are
    lower-cased by our callers (``acs:ram::<uid>:role/<lower-cased name>``), so policies should
    name roles in lower case, as Alibaba's own examples for ``acs:PrincipalARN`` do.
  - ``*`` matches any run of characters (also none), ``?`` exactly one. In the service, region and
    account segments of a resource a wildcard stays inside its segment; in the relative id it may
    span ``/`` and ``:``. Because ``*`` matches the empty string, ``acs:ram:*:123:role/x`` matches
    ``acs:ram::123:role/x``. A lone ``*`` matches everything.
  - ``StringLike``/``StringNotLike`` use the same wildcards, case-sensitively.

Conditions
  - Condition key names are case-insensitive (``acs:sourceip`` = ``acs:SourceIp``), tag names in
    ``acs:RequestTag/<k>`` included. Operator names are case-sensitive.
  - Several values of one key are OR; several keys, and several operators, are AND.
  - A context value may be a list (a multi-valued key): a non-negated operator holds when ANY
    context value matches ANY policy value. A negated operator (StringNotEquals,
    StringNotEqualsIgnoreCase, StringNotLike, NumericNotEquals, DateNotEquals, NotIpAddress) holds
    when NO context value matches any policy value.
  - An absent key (missing, None or an empty list) fails every non-negated operator and satisfies
    every negated one, as in AWS. A context value that cannot be read as the operator's type
    (``"abc"`` for a Numeric operator) matches nothing.
  - ``ForAnyValue:Op`` holds when some context value matches (absent: false);
    ``ForAnyValue:NotOp`` when some context value matches none of the policy's values (absent:
    false). ``ForAllValues:Op`` holds when every context value matches (absent: true);
    ``ForAllValues:NotOp`` when no context value matches (absent: true). ``...IfExists`` holds
    when the key is absent and otherwise tests like the operator without it. ``Null`` "true"
    holds when the key is absent, "false" when it is present. The table is in
    ``conditions.CompiledCondition``.
  - Tag keys (``acs:RequestTag/<k>``, ``acs:ResourceTag/<k>``) are text in the context; number
    and date operators read them tolerantly ("10" is 10). ``acs:TagKeys`` is multi-valued.
  - Context values are read tolerantly: "true"/"false" strings for Bool; datetimes, ISO strings or
    epoch seconds for Date (naive datetimes are UTC); int/float/Decimal/decimal strings for
    Numeric; ipaddress objects or strings for IpAddress (``::ffff:a.b.c.d`` counts as the IPv4
    address); str, numbers and booleans ("true"/"false") for String*.

Evaluation
  - Explicit Deny wins; otherwise any Allow; otherwise implicit deny. Root identities are handled
    by the caller.
  - A role session's permissions are the role's policies intersected with its session policy: an
    explicit Deny in either denies, the session policy must allow (its implicit deny ends the
    evaluation, ``denied_by_session_policy``) and so must the role's policies. An allowed
    decision lists the allowing statements of both.

Caching
  - ``compile_policy`` keeps the last 4,096 compiled policies (keyed by kind, name, type, version
    and text; a dict by its JSON text with sorted keys, so equal dicts parse once), ``evaluate()`` the last 128 compiled policy sets with 1,024 decisions each, and a
    ``CompiledPolicySet`` 4,096 decisions keyed by (action, resource, context, session policy).
    Compiled forms are process-local (not picklable); ParsedPolicy pickles.
  - A context holding ``acs:CurrentTime`` differs on every request and so never hits a decision
    cache; evaluation then uses the statement index only. Regexes are built on first use.

Trust
  - ``acs:ram::<uid>:root`` trusts every RAM user and role session of account ``<uid>`` (and the
    root itself for completeness: refusing roots is the caller's check); ``...:user/<name>`` that
    user; ``...:role/<name>`` sessions of that role (chaining). Names compare case-insensitively.
  - ``*`` is accepted as the account id (``acs:ram::*:root``: any account's users and role
    sessions); wildcards elsewhere in RAM principals are rejected.
  - ``Service`` names trust that service (case-insensitive). ``Federated`` names a SAML or OIDC
    identity provider (``acs:ram::<uid>:saml-provider/<name>``, ``...:oidc-provider/<name>``),
    trusting the users it vouches for (AssumeRoleWithSAML/OIDC); their statements may say
    ``sts:AssumeRole`` or the federation action, and their conditions read ``saml:recipient``,
    ``saml:sub``, ``saml:iss``, ``saml:aud``, ``oidc:iss``, ``oidc:aud``, ``oidc:sub``.
  - Explicit Deny statements and conditions (``sts:ExternalId``, ``acs:SourceIp``...) apply.
"""

from __future__ import annotations

from iam.policy.compiled import CompiledPolicy, compile_policy
from iam.policy.decision import ALLOW, EXPLICIT_DENY, IMPLICIT_DENY, Decision, Reason
from iam.policy.errors import PolicyError
from iam.policy.evaluate import (
    CompiledPolicySet,
    cache_info,
    clear_caches,
    compile_policies,
    evaluate,
)
from iam.policy.explain import explain
from iam.policy.lint import PolicyWarning, policy_warnings
from iam.policy.parse import ParsedPolicy, Statement, parse_policy
from iam.policy.principals import TrustPrincipal
from iam.policy.trust import trust_allows

__all__ = [
    "ALLOW",
    "EXPLICIT_DENY",
    "IMPLICIT_DENY",
    "CompiledPolicy",
    "CompiledPolicySet",
    "Decision",
    "ParsedPolicy",
    "PolicyError",
    "PolicyWarning",
    "Reason",
    "Statement",
    "TrustPrincipal",
    "cache_info",
    "clear_caches",
    "compile_policies",
    "compile_policy",
    "evaluate",
    "explain",
    "parse_policy",
    "policy_warnings",
    "trust_allows",
]
