"""Console: the Authorize dialog. Attach system and custom policies to a role, user or group.

htmx loads the dialog into ``#modal``; OK attaches every ticked policy in one transaction and
answers 204 with ``policiesChanged`` + ``closeModal``, so the pages that show the principal's
policies refresh themselves. Without JavaScript the same URL is a page and OK redirects to ``next``.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from console.actor import console_actor
from console.http import (
    ConsoleRequest,
    current_account,
    get_group_or_404,
    get_role_or_404,
    get_user_or_404,
)
from iam import services
from iam.errors import ServiceError
from iam.models import Account, Group, Policy, PolicyAttachment, Role, User

MAX_LISTED = 200
MAX_SELECTED = 50
MAX_QUERY_LENGTH = 128

Principal = Role | User | Group

PRINCIPALS: dict[str, tuple[Callable[..., Principal], str]] = {
    "role": (get_role_or_404, "Role"),
    "user": (get_user_or_404, "User"),
    "group": (get_group_or_404, "Group"),
}


def policy_key(policy: Policy) -> str:
    """The value of a policy's checkbox: ``System:ReadOnlyAccess``, ``Custom:my-policy``."""
    return f"{policy.policy_type}:{policy.name}"


def listed_policies(account: Account, query: str) -> list[Policy]:
    policies = Policy.objects.filter(Q(account__isnull=True) | Q(account=account))
    if query:
        policies = policies.filter(Q(name__icontains=query) | Q(description__icontains=query))
    return list(policies.order_by("policy_type", "name")[: MAX_LISTED + 1])


def chosen_policies(account: Account, keys: list[str]) -> tuple[list[Policy], str]:
    """The ticked policies, found in one query, in the order ticked; or the reason they cannot be."""
    keys = list(dict.fromkeys(keys))
    if not keys:
        return [], "Select at least one policy."
    if len(keys) > MAX_SELECTED:
        return [], f"Select at most {MAX_SELECTED} policies at a time."
    names = {key.partition(":")[2] for key in keys}
    found = Policy.objects.filter(
        Q(account__isnull=True, policy_type=Policy.Type.SYSTEM)
        | Q(account=account, policy_type=Policy.Type.CUSTOM),
        name__in=names,
    )
    by_key = {policy_key(policy): policy for policy in found}
    missing = [key for key in keys if key not in by_key]
    if missing:
        return [], f"No such policy: {missing[0].partition(':')[2][:128] or missing[0][:128]}."
    return [by_key[key] for key in keys], ""


def default_next(kind: str, principal: Principal) -> str:
    if kind == "role":
        return reverse("console:role_detail", args=[principal.name])
    return reverse(f"console:{kind}_list")


def safe_next(request: ConsoleRequest, fallback: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return candidate if allowed else fallback


@require_http_methods(["GET", "POST"])
def authorize_principal(request: ConsoleRequest, kind: str, name: str) -> HttpResponse:
    if kind not in PRINCIPALS:
        raise Http404("No such kind of principal.")
    get_principal, label = PRINCIPALS[kind]
    principal = get_principal(request, name, action=f"ram:AttachPolicyTo{label}")
    account = current_account(request)
    data = request.POST if request.method == "POST" else request.GET
    selected = [key[:200] for key in data.getlist("policy")[: MAX_SELECTED + 1]]
    error = ""
    if request.method == "POST":
        policies, error = chosen_policies(account, selected)
        if not error:
            try:
                services.attach_policies(console_actor(request), principal, policies)
            except ServiceError as service_error:
                error = service_error.plain
            else:
                return attached_response(request, kind, principal, len(policies))
    query = data.get("q", "").replace("\x00", "").strip()[:MAX_QUERY_LENGTH]
    policies = listed_policies(account, query)
    attached = set(
        PolicyAttachment.objects.filter(**{kind: principal}).values_list("policy_id", flat=True)
    )
    listed_keys = {policy_key(policy) for policy in policies}
    context = {
        "kind": kind,
        "kind_label": label,
        "principal": principal,
        "rows": [
            {
                "policy": policy,
                "key": policy_key(policy),
                "attached": policy.pk in attached,
                "checked": policy_key(policy) in selected,
            }
            for policy in policies[:MAX_LISTED]
        ],
        "more": len(policies) > MAX_LISTED,
        "kept": [key for key in selected if key not in listed_keys],
        "query": query,
        "error": error,
        "next": safe_next(request, default_next(kind, principal)),
        "url": reverse("console:authorize", args=[kind, principal.name]),
    }
    if request.htmx and request.htmx.target == "authorize-policy-list":
        return render(request, "console/_authorize_policy_list.html", context)
    if request.htmx:
        return render(request, "console/_authorize_dialog.html", context)
    return render(request, "console/roles/authorize.html", context)


def attached_response(
    request: ConsoleRequest, kind: str, principal: Principal, count: int
) -> HttpResponse:
    notice = f"{count} {'policy' if count == 1 else 'policies'} attached to {principal.name}."
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Trigger"] = json.dumps(
            {"policiesChanged": {"principal": principal.arn}, "closeModal": True}
        )
        return response
    messages.success(request, notice)
    return HttpResponseRedirect(safe_next(request, default_next(kind, principal)))


urlpatterns = [
    path("authorize/<str:kind>/<str:name>/", authorize_principal, name="authorize"),
]
