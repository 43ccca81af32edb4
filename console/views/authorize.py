"""Console: the Authorize dialog and Remove. Attach system and custom policies to a role, user or
group, or detach one.

htmx loads the dialog into ``#modal``; OK attaches every ticked policy in one transaction and
answers 204 with ``policiesChanged`` + ``closeModal``, so the pages that show the principal's
policies refresh themselves. Without JavaScript the same URL is a page and OK redirects to ``next``.
Remove answers htmx the same way (204 with ``policiesChanged``), and a plain form with a redirect
to the principal's page and a message.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from console.actor import console_actor
from console.http import (
    ConsoleRequest,
    current_account,
    get_group_or_404,
    get_role_or_404,
    get_user_or_404,
)
from console.views.common import (
    ask_first,
    client_events_response,
    fragment_or_page,
    is_fragment_request,
    search_query,
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


# The Authorize dialog's title and hint, for each kind of principal.
DIALOG_WORDS = {
    "role": (
        gettext_lazy("Authorize role %(name)s"),
        gettext_lazy(
            "Tick the policies to attach to the role. They take effect on its next request."
        ),
    ),
    "user": (
        gettext_lazy("Authorize user %(name)s"),
        gettext_lazy(
            "Tick the policies to attach to the user. They take effect on its next request."
        ),
    ),
    "group": (
        gettext_lazy("Authorize group %(name)s"),
        gettext_lazy(
            "Tick the policies to attach to the group. They take effect on its next request."
        ),
    ),
}


def principal_kind(kind: str) -> tuple[Callable[..., Principal], str]:
    """The ``get_*_or_404`` helper and the label (``Role``) of a kind of principal (``role``)."""
    if kind not in PRINCIPALS:
        raise Http404("No such kind of principal.")
    return PRINCIPALS[kind]


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
        return [], _("Select at least one policy.")
    if len(keys) > MAX_SELECTED:
        return [], _("Select at most %(count)s policies at a time.") % {"count": MAX_SELECTED}
    names = {key.partition(":")[2] for key in keys}
    found = Policy.objects.filter(
        Q(account__isnull=True, policy_type=Policy.Type.SYSTEM)
        | Q(account=account, policy_type=Policy.Type.CUSTOM),
        name__in=names,
    )
    by_key = {policy_key(policy): policy for policy in found}
    missing = [key for key in keys if key not in by_key]
    if missing:
        name = missing[0].partition(":")[2][:128] or missing[0][:128]
        return [], _("No such policy: %(name)s.") % {"name": name}
    return [by_key[key] for key in keys], ""


def default_next(kind: str, principal: Principal) -> str:
    if kind == "role":
        return reverse("console:role_permissions", args=[principal.name])
    return reverse(f"console:{kind}_list")


def safe_next(request: ConsoleRequest, fallback: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return candidate if allowed else fallback


@require_http_methods(["GET", "POST"])
def authorize_principal(request: ConsoleRequest, kind: str, name: str) -> HttpResponse:
    get_principal, label = principal_kind(kind)
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
    query = search_query(data, MAX_QUERY_LENGTH)
    policies = listed_policies(account, query)
    attached = set(
        PolicyAttachment.objects.filter(**{kind: principal}).values_list("policy_id", flat=True)
    )
    listed_keys = {policy_key(policy) for policy in policies}
    title, hint = DIALOG_WORDS[kind]
    context = {
        "kind": kind,
        "kind_label": label,
        "dialog_title": str(title) % {"name": principal.name},
        "dialog_hint": hint,
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
    if is_fragment_request(request, "authorize-policy-list"):
        return render(request, "console/_authorize_policy_list.html", context)
    return fragment_or_page(
        request, "console/_authorize_dialog.html", "console/roles/authorize.html", context
    )


def attached_response(
    request: ConsoleRequest, kind: str, principal: Principal, count: int
) -> HttpResponse:
    notice = ngettext(
        "%(count)s policy attached to %(name)s.",
        "%(count)s policies attached to %(name)s.",
        count,
    ) % {"count": count, "name": principal.name}
    if request.htmx:
        return client_events_response(
            {"policiesChanged": {"principal": principal.arn}, "closeModal": True}
        )
    messages.success(request, notice)
    return HttpResponseRedirect(safe_next(request, default_next(kind, principal)))


@require_POST
def detach_policy(
    request: ConsoleRequest, kind: str, name: str, policy_type: str, policy_name: str
) -> HttpResponse:
    """Remove: detach one policy from a role, user or group."""
    get_principal, label = principal_kind(kind)
    principal = get_principal(request, name, action=f"ram:DetachPolicyFrom{label}")
    attachment = get_attachment_or_404(kind, principal, policy_type, policy_name)
    question = ask_first(
        request,
        question=_("Remove %(policy)s from %(principal)s?")
        % {"policy": attachment.policy.name, "principal": principal.name},
        button=_("Remove policy"),
        cancel_url=detached_page(kind, principal),
    )
    if question:
        return question
    notice = _("Policy %(policy)s removed from %(principal)s.") % {
        "policy": attachment.policy.name,
        "principal": principal.name,
    }
    try:
        services.detach_policy(console_actor(request), principal, attachment.policy)
    except ServiceError as error:
        messages.error(request, error.plain)
        notice = ""
    return detached_response(request, kind, principal, notice)


def get_attachment_or_404(
    kind: str, principal: Principal, policy_type: str, policy_name: str
) -> PolicyAttachment:
    attachment = (
        PolicyAttachment.objects.filter(
            **{kind: principal}, policy__policy_type=policy_type, policy__name__iexact=policy_name
        )
        .select_related("policy")
        .first()
    )
    if attachment is None:
        raise Http404(f"The policy is not attached to this {kind}.")
    return attachment


def detached_response(
    request: ConsoleRequest, kind: str, principal: Principal, notice: str
) -> HttpResponse:
    """htmx: 204 with ``policiesChanged``, and the principal's policies reload themselves. A plain
    form: back to the principal's page, which says what happened."""
    if request.htmx:
        return client_events_response({"policiesChanged": {"principal": principal.arn}})
    if notice:
        messages.success(request, notice)
    return HttpResponseRedirect(detached_page(kind, principal))


def detached_page(kind: str, principal: Principal) -> str:
    """Where a principal's policies are listed: a role's Permissions tab, a user's or group's page."""
    if kind == "role":
        return default_next(kind, principal)
    return reverse(f"console:{kind}_detail", args=[principal.name])


urlpatterns = [
    path("authorize/<str:kind>/<str:name>/", authorize_principal, name="authorize"),
    path(
        "authorize/<str:kind>/<str:name>/detach/<str:policy_type>/<str:policy_name>/",
        detach_policy,
        name="detach_policy",
    ),
]
