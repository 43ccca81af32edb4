"""Typed console request and the per-object authorization helpers every view starts with.

Not visible (missing, or another account's) -> 404; visible but the action is denied -> 403 that
names the missing action and resource (raised as ``AccessDenied``, rendered by the middleware).
"""

from __future__ import annotations

from typing import TypeVar

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from django_htmx.middleware import HtmxDetails

from iam import arns
from iam.authz import AccessDenied, authorize, explain_decision, require
from iam.identity import Identity
from iam.models import Account, Group, Policy, Role, User

Named = TypeVar("Named", Role, User, Group)


class ConsoleRequest(HttpRequest):
    htmx: HtmxDetails
    identity: Identity
    logon_identity: Identity


def current_account(request: ConsoleRequest) -> Account:
    """The account whose objects the effective identity sees (the role's, while switched)."""
    if request.identity.role is not None:
        return request.identity.role.account
    assert request.identity.user is not None
    return request.identity.user.account


def account_resource(request: ConsoleRequest, kind: str, name: str = "*") -> str:
    """``acs:ram::<uid>:role/<name>`` etc. for the current account."""
    return arns.ram_arn(current_account(request).pk, f"{kind}/{name}")


def allowed(request: ConsoleRequest, action: str, resource: str) -> bool:
    return authorize(request.identity, action, resource).allowed


def denial_reason(request: ConsoleRequest, action: str, resource: str) -> str:
    """Empty when allowed; otherwise the one-line explanation shown on hover of a disabled button."""
    decision = authorize(request.identity, action, resource)
    if decision.allowed:
        return ""
    return explain_decision(request.identity, decision, action, resource)


def get_role_or_404(request: ConsoleRequest, role_name: str, *, action: str) -> Role:
    roles = Role.objects.all()
    return get_named_or_404(request, roles, role_name, action, _("No such role in this account."))


def get_user_or_404(request: ConsoleRequest, user_name: str, *, action: str) -> User:
    users = User.objects.filter(kind=User.Kind.RAM)
    return get_named_or_404(request, users, user_name, action, _("No such user in this account."))


def get_group_or_404(request: ConsoleRequest, group_name: str, *, action: str) -> Group:
    groups = Group.objects.all()
    return get_named_or_404(
        request, groups, group_name, action, _("No such group in this account.")
    )


def get_named_or_404(
    request: ConsoleRequest, objects: QuerySet[Named], name: str, action: str, missing: str
) -> Named:
    """The current account's object of that name (in any case): 404 with ``missing`` when it has
    none, ``AccessDenied`` when the action on it is denied."""
    found = objects.filter(account=current_account(request), name__iexact=name).first()
    if found is None:
        raise Http404(missing)
    require(request.identity, action, found.arn)
    return found


def get_policy_or_404(
    request: ConsoleRequest, policy_type: str, policy_name: str, *, action: str
) -> Policy:
    account = current_account(request)
    policies = Policy.objects.filter(name__iexact=policy_name, policy_type=policy_type)
    if policy_type == Policy.Type.SYSTEM:
        policy = policies.filter(account__isnull=True).first()
    else:
        policy = policies.filter(account=account).first()
    if policy is None:
        raise Http404(_("No such policy."))
    require(request.identity, action, policy.arn_for(account.pk))
    return policy


def require_account_action(request: ConsoleRequest, action: str, kind: str) -> str:
    """Authorize an action on the account's collection (``role/*``); returns that resource."""
    resource = account_resource(request, kind)
    require(request.identity, action, resource)
    return resource


__all__ = ["AccessDenied", "ConsoleRequest"]
