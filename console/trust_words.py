"""A role's trust policy in words: who may assume it, and whether it is a user or a service role.

The console shows trust policies to people, not JSON: ``Account company2 (1234567890123456)``,
``Service oss.example.internal``, ``Users of SAML identity provider okta (when saml:recipient is
https://ram.example/sso/saml/acs)``. Account aliases are looked up for a whole page of roles in one
query (``account_aliases``); everything else here is pure.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from iam import arns
from iam.errors import printable
from iam.models import Account
from iam.policy import PolicyError, parse_policy
from iam.policy.parse import Condition

USER_ROLE = gettext_lazy("User role")
SERVICE_ROLE = gettext_lazy("Service role")


@dataclass(frozen=True)
class TrustedActor:
    """One principal named by an Allow statement of a trust policy."""

    kind: str  # "account", "user", "role", "service" or "federated"
    account_id: str = ""  # "*" for any account
    name: str = ""
    conditional: bool = False
    denied: bool = False
    provider_type: str = ""  # a federated actor's identity provider: "SAML" or "OIDC"
    when: str = ""  # a federated statement's conditions in words


def trusted_actors(text: str) -> list[TrustedActor]:
    """The principals of the trust policy, in document order, without repeats.

    Unreadable documents (never stored by the services, but the console must not fail on one)
    give an empty list.
    """
    try:
        parsed = parse_policy(text, kind="trust")
    except (PolicyError, TypeError, ValueError):
        return []
    actors: list[TrustedActor] = []
    for statement in parsed.statements:
        principals = statement.principals
        if principals is None:
            continue
        options = {"conditional": bool(statement.conditions), "denied": statement.effect == "Deny"}
        for arn in principals.ram:
            actors.append(ram_actor(arn, **options))
        actors.extend(TrustedActor("service", name=name, **options) for name in principals.service)
        when = condition_words(statement.conditions)
        actors.extend(federated_actor(arn, when=when, **options) for arn in principals.federated)
    return list(dict.fromkeys(actors))


def ram_actor(arn: str, *, conditional: bool = False, denied: bool = False) -> TrustedActor:
    named = arns.parse_principal(arn)
    if named is None:
        return TrustedActor("federated", name=arn, conditional=conditional, denied=denied)
    kind = "account" if named.kind == arns.ROOT else named.kind
    return TrustedActor(kind, named.account_id, named.name, conditional=conditional, denied=denied)


def federated_actor(arn: str, *, when: str, conditional: bool, denied: bool) -> TrustedActor:
    """The users of a SAML or OIDC identity provider (``Principal.Federated``)."""
    match = arns.FEDERATED_PRINCIPAL_PATTERN.fullmatch(arn)
    if match is None:
        return TrustedActor("federated", name=arn, conditional=conditional, denied=denied)
    return TrustedActor(
        "federated",
        match["account"],
        match["name"],
        conditional=conditional,
        denied=denied,
        provider_type="SAML" if match["kind"] == arns.SAML_PROVIDER else "OIDC",
        when=when,
    )


def condition_words(conditions: Iterable[Condition]) -> str:
    """``saml:recipient is https://…/sso/saml/acs and oidc:sub is one of a, b``."""
    phrases = []
    for condition in conditions:
        words = {
            "key": condition.key,
            "operator": condition.operator,
            "values": ", ".join(str(value) for value in condition.values),
        }
        if condition.operator != "StringEquals":
            phrases.append("{key} {operator} {values}".format(**words))
        elif len(condition.values) == 1:
            phrases.append(_("%(key)s is %(values)s") % words)
        else:
            phrases.append(_("%(key)s is one of %(values)s") % words)
    return _(" and ").join(phrases)


def is_service_role(actors: Iterable[TrustedActor]) -> bool:
    """A role that trusts a service principal is a service role; any other is a user role."""
    return any(actor.kind == "service" and not actor.denied for actor in actors)


def role_type(actors: Iterable[TrustedActor]) -> str:
    """``Service role`` or ``User role``, in the language of the request."""
    return str(SERVICE_ROLE if is_service_role(actors) else USER_ROLE)


def account_ids(actors: Iterable[TrustedActor]) -> set[str]:
    return {actor.account_id for actor in actors if actor.account_id not in ("", "*")}


def account_aliases(ids: Iterable[str]) -> dict[str, str]:
    """Aliases of the hosted accounts among ``ids``, in one query (none when ``ids`` is empty)."""
    ids = set(ids)
    if not ids:
        return {}
    return dict(Account.objects.filter(pk__in=ids).values_list("pk", "alias"))


def account_words(account_id: str, current_account_id: str, aliases: dict[str, str]) -> str:
    """``the current account``, ``account company2``, ``account 9999… (not hosted here)``."""
    if account_id == "*":
        return _("any account")
    if account_id == current_account_id:
        return _("the current account")
    if account_id in aliases:
        return _("account %(alias)s") % {"alias": aliases[account_id]}
    return _("account %(id)s (not hosted here)") % {"id": account_id}


def actor_words(actor: TrustedActor, current_account_id: str, aliases: dict[str, str]) -> str:
    """The short phrase of the role list: ``Account company2 (1234567890123456)``."""
    if actor.kind == "service":
        return _("Service %(name)s") % {"name": actor.name}
    if actor.kind == "federated":
        return provider_words(actor, current_account_id, aliases)
    named = {
        "name": actor.name,
        "where": account_words(actor.account_id, current_account_id, aliases),
    }
    if actor.kind == "user":
        return _("User %(name)s of %(where)s") % named
    if actor.kind == "role":
        return _("Role %(name)s of %(where)s") % named
    if actor.account_id == current_account_id:
        return _("Current account")
    if actor.account_id == "*":
        return _("Any account")
    if actor.account_id in aliases:
        alias = aliases[actor.account_id]
        return _("Account %(alias)s (%(id)s)") % {"alias": alias, "id": actor.account_id}
    return _("Account %(id)s (not hosted here)") % {"id": actor.account_id}


def actor_sentence(actor: TrustedActor, current_account_id: str, aliases: dict[str, str]) -> str:
    """The sentence of the role details: ``Users of account company2 who hold sts:AssumeRole``."""
    named = {
        "name": actor.name,
        "where": account_words(actor.account_id, current_account_id, aliases),
    }
    if actor.kind == "account":
        sentence = _("Users of %(where)s who hold sts:AssumeRole") % named
    elif actor.kind == "user":
        sentence = _("User %(name)s of %(where)s") % named
    elif actor.kind == "role":
        sentence = _("Sessions of role %(name)s of %(where)s") % named
    elif actor.kind == "service":
        sentence = _("Service %(name)s") % named
    else:
        provider = provider_words(actor, current_account_id, aliases)
        sentence = _("Users of %(provider)s") % {"provider": provider}
    if actor.kind == "federated" and actor.when:
        sentence = _("%(sentence)s (when %(conditions)s)") % {
            "sentence": sentence,
            "conditions": actor.when,
        }
    elif actor.conditional:
        sentence = _("%(sentence)s, when the statement's conditions hold") % {"sentence": sentence}
    if actor.denied:
        sentence = _("Never: %(sentence)s") % {"sentence": lower_first(sentence)}
    return sentence


def lower_first(sentence: str) -> str:
    """``Users of …`` → ``users of …``; an acronym (``RAM``) or a script without case stays."""
    if sentence[1:2].islower():
        return sentence[0].lower() + sentence[1:]
    return sentence


def provider_words(actor: TrustedActor, current_account_id: str, aliases: dict[str, str]) -> str:
    """``SAML identity provider okta``, ``… of account company2`` when it is another account's."""
    if not actor.provider_type:
        return _("identity provider %(name)s") % {"name": actor.name}
    named = {"type": actor.provider_type, "name": actor.name}
    if actor.account_id == current_account_id:
        return _("%(type)s identity provider %(name)s") % named
    named["where"] = account_words(actor.account_id, current_account_id, aliases)
    return _("%(type)s identity provider %(name)s of %(where)s") % named


def trust_sentences(text: str, current_account_id: str) -> list[str]:
    """Every principal of the trust policy as a sentence, its accounts' aliases in one query."""
    actors = trusted_actors(text)
    aliases = account_aliases(account_ids(actors))
    return [actor_sentence(actor, current_account_id, aliases) for actor in actors]


def trust_policy_document(
    *,
    account_id: str = "",
    service: str = "",
    federated: str = "",
    conditions: dict[str, str] | None = None,
) -> str:
    """The trust policy the create-role wizard generates: an account's root, one service, or the
    users of one identity provider (``federated``, its ARN) when ``conditions`` hold
    (``StringEquals``)."""
    if federated:
        principal: dict[str, list[str]] = {"Federated": [federated]}
    elif service:
        principal = {"Service": [service]}
    else:
        principal = {"RAM": [arns.root_arn(account_id)]}
    statement: dict[str, object] = {
        "Effect": "Allow",
        "Action": "sts:AssumeRole",
        "Principal": principal,
    }
    if conditions:
        statement["Condition"] = {"StringEquals": conditions}
    return json.dumps({"Version": "1", "Statement": [statement]}, indent=2)


def pretty_document(text: str) -> str:
    """The document indented for reading; as stored when it is not JSON. A lone surrogate (a
    ``\\ud800`` escape no policy is accepted with, but a row may predate that) stays an escape."""
    try:
        return printable(json.dumps(json.loads(text), indent=2, ensure_ascii=False))
    except (ValueError, RecursionError):
        return text
