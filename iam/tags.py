"""Tags on roles, RAM users and custom policies (Alibaba's TagResources, UntagResources and
ListTagResources), and the ``acs:ResourceTag/<key>`` values the authorizer reads.

Rules, as Alibaba's SDK documents them: a resource holds at most 20 tags, one value per key; a
request names at most 50 resources and at most 20 tags; a key is 1-128 characters, does not
start with ``aliyun`` or ``acs:`` and holds no ``http://`` or ``https://``; a value is at most
128 characters (empty allowed) with no URL either. Tagging a key a resource already has replaces
its value.

Every write is one transaction: it checks every resource first (a call that fails changes
nothing), writes, appends one audit event per resource and bumps the account's version, since
decisions read tags (``acs:ResourceTag/<key>`` conditions).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from iam import arns, errors, versions
from iam.audit import Actor, record
from iam.identity import Identity
from iam.models import Account, Policy, Role, Tag, User

MAX_TAGS_PER_RESOURCE = 20
MAX_TAGS_PER_REQUEST = 20
MAX_RESOURCES_PER_REQUEST = 50
MAX_KEY_LENGTH = 128
MAX_VALUE_LENGTH = 128
RESERVED_PREFIXES = ("aliyun", "acs:")
URL_MARKS = ("http://", "https://")
RESOURCE_TAG = "acs:ResourceTag/"
REQUEST_TAG = "acs:RequestTag/"
TAG_KEYS = "acs:TagKeys"

ROLE = "role"
USER = "user"
POLICY = "policy"
RESOURCE_TYPES = (ROLE, USER, POLICY)

Taggable = Role | User | Policy


# --- what a resource is -------------------------------------------------------------------------


def resource_type(resource: Taggable) -> str:
    if isinstance(resource, Role):
        return ROLE
    return USER if isinstance(resource, User) else POLICY


def resource_arn(resource: Taggable) -> str:
    if isinstance(resource, Policy):
        return resource.arn_for(resource.account_id or arns.SYSTEM)
    return resource.arn


def owner_field(resource: Taggable) -> str:
    """The Tag field that points at ``resource``."""
    return resource_type(resource)


def account_id_of(resource: Taggable) -> str:
    return resource.account_id or ""


# --- validation ---------------------------------------------------------------------------------


def invalid_key(plain: str) -> errors.InvalidParameter:
    return errors.InvalidParameter(
        "InvalidParameter.Tag.Key",
        'The parameter - "Tag.Key" is invalid.',
        field="key",
        plain=plain,
    )


def invalid_value(plain: str) -> errors.InvalidParameter:
    return errors.InvalidParameter(
        "InvalidParameter.Tag.Value",
        'The parameter - "Tag.Value" is invalid.',
        field="value",
        plain=plain,
    )


def has_url(text: str) -> bool:
    lowered = text.lower()
    return any(mark in lowered for mark in URL_MARKS)


def check_key(key: str) -> str:
    if not key:
        raise invalid_key(_("Enter a tag key."))
    if len(key) > MAX_KEY_LENGTH:
        raise invalid_key(
            _("A tag key has at most %(most)s characters.") % {"most": MAX_KEY_LENGTH}
        )
    if key.lower().startswith(RESERVED_PREFIXES):
        raise invalid_key(_("A tag key cannot start with aliyun or acs:."))
    if has_url(key) or "\x00" in key:
        raise invalid_key(_("A tag key cannot contain http:// or https://."))
    return key


def check_value(value: str) -> str:
    if len(value) > MAX_VALUE_LENGTH:
        raise invalid_value(
            _("A tag value has at most %(most)s characters.") % {"most": MAX_VALUE_LENGTH}
        )
    if has_url(value) or "\x00" in value:
        raise invalid_value(_("A tag value cannot contain http:// or https://."))
    return value


def check_tags(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    """The tags of one request, checked, as key -> value (a repeated key keeps its last value)."""
    if len(pairs) > MAX_TAGS_PER_REQUEST:
        raise errors.InvalidParameter(
            "InvalidParameter.Tag",
            f'The parameter - "Tag" exceeds the limit of {MAX_TAGS_PER_REQUEST}.',
            plain=_("Give at most %(most)s tags at once.") % {"most": MAX_TAGS_PER_REQUEST},
        )
    return {check_key(key): check_value(value) for key, value in pairs}


def check_resource_count(count: int, parameter: str) -> None:
    if count == 0:
        raise errors.InvalidParameter(
            f"Missing{parameter}", f"{parameter} is mandatory for this action."
        )
    if count > MAX_RESOURCES_PER_REQUEST:
        raise errors.InvalidParameter(
            f"InvalidParameter.{parameter}",
            f'The parameter - "{parameter}" exceeds the limit of {MAX_RESOURCES_PER_REQUEST}.',
        )


def parse_filter(text: str) -> tuple[str, str | None]:
    """A list's ``?tag=`` filter: ``key`` (any value) or ``key:value``; ("", None) for none."""
    key, colon, value = text.strip().partition(":")
    return key.strip()[:MAX_KEY_LENGTH], value.strip()[:MAX_VALUE_LENGTH] if colon else None


def filtered(queryset: QuerySet[Any], key: str, value: str | None) -> QuerySet[Any]:
    """Only the resources tagged ``key`` (with ``value``, when given)."""
    if not key:
        return queryset
    wanted = Q(tags__key=key) if value is None else Q(tags__key=key, tags__value=value)
    return queryset.filter(wanted)


# --- look-ups -----------------------------------------------------------------------------------


def find_roles(account: Account, names: Iterable[str]) -> list[Role]:
    return [find_one(Role.objects.filter(account=account), name, "Role") for name in names]


def find_users(
    account: Account, *, names: Iterable[str] = (), user_ids: Iterable[str] = ()
) -> list[User]:
    users = User.objects.filter(account=account, kind=User.Kind.RAM)
    found = [find_one(users, name.partition("@")[0], "User") for name in names]
    for user_id in user_ids:
        user = users.filter(user_id=user_id).first()
        if user is None:
            raise errors.EntityNotExist("EntityNotExist.User", "The user does not exist.")
        found.append(user)
    return found


def find_policies(account: Account, names: Iterable[str]) -> list[Policy]:
    """Custom policies of ``account``: system policies are not the account's to tag."""
    policies = Policy.objects.filter(account=account, policy_type=Policy.Type.CUSTOM)
    return [find_one(policies, name, "Policy") for name in names]


def find_one(queryset: QuerySet[Any], name: str, noun: str) -> Any:
    found = queryset.filter(name__iexact=name).first() if name else None
    if found is None:
        raise errors.EntityNotExist(f"EntityNotExist.{noun}", f"The {noun.lower()} does not exist.")
    return found


def tags_of(resource: Taggable) -> dict[str, str]:
    rows = Tag.objects.filter(**{owner_field(resource): resource}).values_list("key", "value")
    return dict(rows)


# --- writes -------------------------------------------------------------------------------------


@transaction.atomic
def tag_resources(actor: Actor, resources: Sequence[Taggable], tags: Mapping[str, str]) -> None:
    """Add ``tags`` to every resource (a key it has already gets the new value)."""
    tags = check_tags(list(tags.items()))
    if not tags:
        raise errors.InvalidParameter("MissingTag", "Tag is mandatory for this action.")
    planned = []
    for resource in resources:
        before = tags_of(resource)
        after = {**before, **tags}
        if len(after) > MAX_TAGS_PER_RESOURCE:
            raise errors.LimitExceeded(
                "LimitExceeded.Tag",
                f"The count of tags on the resource beyond the limit of {MAX_TAGS_PER_RESOURCE}.",
                plain=_("A resource has at most %(most)s tags.") % {"most": MAX_TAGS_PER_RESOURCE},
            )
        planned.append((resource, before, after))
    for resource, before, after in planned:
        write_tags(resource, before, tags)
        audit(actor, "ram:TagResources", resource, before, after)
    bump_accounts(resource for resource, _, _ in planned)


def write_tags(resource: Taggable, before: Mapping[str, str], tags: Mapping[str, str]) -> None:
    owner = {owner_field(resource): resource}
    for key, value in tags.items():
        if key not in before:
            Tag.objects.create(key=key, value=value, **owner)
        elif before[key] != value:
            Tag.objects.filter(key=key, **owner).update(value=value)


@transaction.atomic
def untag_resources(actor: Actor, resources: Sequence[Taggable], keys: Sequence[str] | None) -> int:
    """Remove the tags ``keys`` (every tag when ``keys`` is None) from every resource; keys a
    resource does not have are passed over. Returns how many tags were removed."""
    if keys is not None and not keys:
        raise errors.InvalidParameter("MissingTagKeys", "TagKeys is mandatory for this action.")
    if keys is not None and len(keys) > MAX_TAGS_PER_REQUEST:
        raise errors.InvalidParameter(
            "InvalidParameter.TagKeys",
            f'The parameter - "TagKeys" exceeds the limit of {MAX_TAGS_PER_REQUEST}.',
        )
    removed = 0
    for resource in resources:
        before = tags_of(resource)
        gone = set(before) if keys is None else set(before) & set(keys)
        if gone:
            Tag.objects.filter(key__in=gone, **{owner_field(resource): resource}).delete()
            removed += len(gone)
        after = {key: value for key, value in before.items() if key not in gone}
        audit(actor, "ram:UntagResources", resource, before, after)
    bump_accounts(resources)
    return removed


def audit(
    actor: Actor,
    action: str,
    resource: Taggable,
    before: Mapping[str, str],
    after: Mapping[str, str],
) -> None:
    record(
        actor,
        action,
        resource_arn(resource),
        account_id=account_id_of(resource),
        details={
            "ResourceType": resource_type(resource),
            "before": {"Tags": dict(before)},
            "after": {"Tags": dict(after)},
        },
    )


def bump_accounts(resources: Iterable[Taggable]) -> None:
    for account_id in sorted({account_id_of(resource) for resource in resources}):
        versions.bump(account_id)


# --- what the authorizer reads ------------------------------------------------------------------


def request_context(tags: Mapping[str, str]) -> dict[str, Any]:
    """``acs:RequestTag/<key>`` for each tag a request sets, and ``acs:TagKeys`` (all its keys)."""
    if not tags:
        return {}
    context: dict[str, Any] = {f"{REQUEST_TAG}{key}": value for key, value in tags.items()}
    context[TAG_KEYS] = tuple(tags)
    return context


def resource_context(tags: Mapping[str, str]) -> dict[str, str]:
    return {f"{RESOURCE_TAG}{key}": value for key, value in tags.items()}


def cache_key(resource_arn_text: str) -> str:
    return f"tags:{resource_arn_text}"


def remember(identity: Identity, resources: Iterable[Taggable]) -> None:
    """Keep the tags of resources whose ``tags`` were prefetched, for this request's decisions
    about them (a list page asks about each row without a query per row)."""
    for resource in resources:
        tags = {tag.key: tag.value for tag in resource.tags.all()}
        identity.extra[cache_key(resource_arn(resource))] = json.dumps(tags)


def tags_for_arn(identity: Identity | None, resource: str) -> dict[str, str]:
    """The tags of the one role, RAM user or custom policy ``resource`` names, read once per
    request; empty for any other resource (a wildcard, a collection, another kind)."""
    key = cache_key(resource)
    if identity is not None and key in identity.extra:
        return json.loads(identity.extra[key])
    found = read_tags(resource)
    if identity is not None:
        identity.extra[key] = json.dumps(found)
    return found


def read_tags(resource: str) -> dict[str, str]:
    named = arns.parse_arn(resource)
    if named is None or named.kind not in RESOURCE_TYPES or not named.account_id.isdigit():
        return {}
    if "*" in named.name or "?" in named.name:
        return {}
    lookup: dict[str, Any] = {
        f"{named.kind}__account_id": named.account_id,
        f"{named.kind}__name__iexact": named.name,
    }
    if named.kind == USER:
        lookup["user__kind"] = User.Kind.RAM
    return dict(Tag.objects.filter(**lookup).values_list("key", "value"))
