"""Tags over the RPC API: TagResources, UntagResources and ListTagResources.

RAM (2015-05-01) tags roles and custom policies by name (``ResourceType`` role | policy,
``ResourceNames``, ``Tag``, ``TagKeys``), IMS (2019-08-15) tags RAM users by ``ResourceId`` (the
UserId) or ``ResourcePrincipalName`` (``Tag``, ``TagKey``); lists arrive as the SDKs send them,
JSON arrays or ``.N`` parameters (``iam.rpc.Call.strings``/``pairs``). Each resource is found in
the caller's own account (another account's are never found), then ``ram:<Action>`` is
authorized on its ARN as the effective identity; TagResources' context carries
``acs:RequestTag/<key>`` and ``acs:TagKeys``. The answers take the shapes the SDKs' response
models parse: RAM's ``TagResources`` is a flat list, IMS's ``TagResources.TagResource``.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet

from iam import arns, errors, tags
from iam.api import RAM_VERSION, account_of, integer
from iam.authz import require
from iam.models import Account, Policy, Role, Tag, User
from iam.provider_api import IMS_VERSION
from iam.rpc import Call, action

RAM_TYPES = (tags.ROLE, tags.POLICY)
IMS_TYPES = (tags.USER,)


# --- parameters ---------------------------------------------------------------------------------


def resource_type_of(call: Call, allowed: Sequence[str]) -> str:
    value = (call.param("ResourceType", required=True) or "").lower()
    if value not in allowed:
        raise errors.InvalidParameter(
            "InvalidParameter.ResourceType",
            f'The parameter - "ResourceType" must be one of {", ".join(allowed)}.',
        )
    return value


def ram_resources(call: Call, kind: str, *, required: bool = True) -> list[tags.Taggable]:
    names = call.strings("ResourceNames")
    if not names and not required:
        return []
    tags.check_resource_count(len(names), "ResourceNames")
    account = account_of(call)
    if kind == tags.ROLE:
        return list(tags.find_roles(account, names))
    return list(tags.find_policies(account, names))


def ims_resources(call: Call, *, required: bool = True) -> list[tags.Taggable]:
    ids, names = call.strings("ResourceId"), call.strings("ResourcePrincipalName")
    if not ids and not names and not required:
        return []
    tags.check_resource_count(len(ids) + len(names), "ResourceId")
    return list(tags.find_users(account_of(call), names=names, user_ids=ids))


def authorize_each(
    call: Call, resources: Sequence[tags.Taggable], context: dict[str, Any] | None = None
) -> None:
    for resource in resources:
        require(
            call.identity,
            f"ram:{call.action}",
            tags.resource_arn(resource),
            {**call.context, **(context or {})},
        )


def request_tags(call: Call) -> dict[str, str]:
    return tags.check_tags(call.pairs("Tag"))


# --- TagResources / UntagResources --------------------------------------------------------------


def tag_resources(call: Call, resources: list[tags.Taggable]) -> dict[str, Any]:
    new_tags = request_tags(call)
    if not new_tags:
        raise errors.InvalidParameter("MissingTag", "Tag is mandatory for this action.")
    authorize_each(call, resources, tags.request_context(new_tags))
    tags.tag_resources(call.actor, resources, new_tags)
    return {}


def untag_resources(call: Call, resources: list[tags.Taggable], keys_param: str) -> dict[str, Any]:
    keys = call.strings(keys_param)
    if not keys and not call.flag("All"):
        raise errors.InvalidParameter(
            f"Missing{keys_param}", f"{keys_param} is mandatory for this action."
        )
    authorize_each(call, resources)
    tags.untag_resources(call.actor, resources, keys or None)
    return {}


@action(RAM_VERSION, "TagResources")
def ram_tag_resources(call: Call) -> dict[str, Any]:
    return tag_resources(call, ram_resources(call, resource_type_of(call, RAM_TYPES)))


@action(RAM_VERSION, "UntagResources")
def ram_untag_resources(call: Call) -> dict[str, Any]:
    resources = ram_resources(call, resource_type_of(call, RAM_TYPES))
    return untag_resources(call, resources, "TagKeys")


@action(IMS_VERSION, "TagResources")
def ims_tag_resources(call: Call) -> dict[str, Any]:
    resource_type_of(call, IMS_TYPES)
    return tag_resources(call, ims_resources(call))


@action(IMS_VERSION, "UntagResources")
def ims_untag_resources(call: Call) -> dict[str, Any]:
    resource_type_of(call, IMS_TYPES)
    return untag_resources(call, ims_resources(call), "TagKey")


# --- ListTagResources ---------------------------------------------------------------------------


def listed_tags(
    call: Call, account: Account, kind: str, resources: list[tags.Taggable]
) -> QuerySet[Tag]:
    """The tags to list: of the named resources, or of every resource of the kind in the account
    (``ram:ListTagResources`` on all of them, ``role/*``); with ``Tag`` filters, only resources
    that carry each filter tag (its value too, when one is given)."""
    if resources:
        authorize_each(call, resources)
        found = Tag.objects.filter(**{f"{kind}__in": resources})
    else:
        require(
            call.identity,
            f"ram:{call.action}",
            arns.ram_arn(account.pk, f"{kind}/{arns.ANY}"),
            call.context,
        )
        found = Tag.objects.filter(**owners_in(kind, account))
    for key, value in tags.check_tags(call.pairs("Tag")).items():
        matching = Tag.objects.filter(key=key, **owners_in(kind, account))
        if value:
            matching = matching.filter(value=value)
        found = found.filter(**{f"{kind}__in": matching.values(kind)})
    return found.select_related(kind)


def owners_in(kind: str, account: Account) -> dict[str, Any]:
    if kind == tags.USER:
        return {"user__account": account, "user__kind": User.Kind.RAM}
    if kind == tags.POLICY:
        return {"policy__account": account, "policy__policy_type": Policy.Type.CUSTOM}
    return {"role__account": account}


def token_page(call: Call, found: QuerySet[Tag]) -> tuple[list[Tag], str]:
    """``PageSize`` tags after ``NextToken`` (the opaque id of the last tag handed out)."""
    size = integer(call, "PageSize", 50, 1, 100)
    token = call.param("NextToken")
    if token:
        try:
            after = int(base64.urlsafe_b64decode(token.encode()).decode())
        except (ValueError, UnicodeDecodeError):
            raise errors.InvalidParameter(
                "InvalidParameter.NextToken", 'The parameter - "NextToken" is invalid.'
            ) from None
        found = found.filter(pk__gt=after)
    rows = list(found.order_by("pk")[: size + 1])
    if len(rows) <= size:
        return rows, ""
    rows = rows[:size]
    return rows, base64.urlsafe_b64encode(str(rows[-1].pk).encode()).decode()


def owner_of(tag: Tag) -> Role | User | Policy:
    return tag.role or tag.user or tag.policy  # type: ignore[return-value]


@action(RAM_VERSION, "ListTagResources")
def ram_list_tag_resources(call: Call) -> dict[str, Any]:
    kind = resource_type_of(call, RAM_TYPES)
    resources = ram_resources(call, kind, required=False)
    found, token = token_page(call, listed_tags(call, account_of(call), kind, resources))
    body: dict[str, Any] = {
        "TagResources": [
            {
                "ResourceName": owner_of(tag).name,
                "ResourceType": kind,
                "TagKey": tag.key,
                "TagValue": tag.value,
            }
            for tag in found
        ]
    }
    if token:
        body["NextToken"] = token
    return body


@action(IMS_VERSION, "ListTagResources")
def ims_list_tag_resources(call: Call) -> dict[str, Any]:
    kind = resource_type_of(call, IMS_TYPES)
    resources = ims_resources(call, required=False)
    found, token = token_page(call, listed_tags(call, account_of(call), kind, resources))
    rows = [
        {
            "ResourceId": owner_of(tag).user_id,  # type: ignore[union-attr]
            "ResourceType": kind,
            "TagKey": tag.key,
            "TagValue": tag.value,
        }
        for tag in found
    ]
    body: dict[str, Any] = {"TagResources": {"TagResource": rows}, "IsTruncated": bool(token)}
    if token:
        body["NextToken"] = token
    return body
