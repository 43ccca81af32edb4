"""Console: the Tags card of a role, a RAM user and a custom policy, and its two forms (add or
change a tag, remove one).

The card sits on each details page (``{% tag_card role %}``, ``console.templatetags.tag_cards``)
and has a page of its own at ``…/tags/`` for browsers without JavaScript. Each form authorizes
its action on the resource as the effective identity (TagResources with the tag's
``acs:RequestTag/<key>``), calls one service (``iam.tags``) and answers htmx with the card, a
plain form with a redirect to the details page; a bad tag re-renders the card with the field's
error (status 200) and changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from console.actor import console_actor
from console.http import (
    AccessDenied,
    ConsoleRequest,
    denial_reason,
    get_policy_or_404,
    get_role_or_404,
    get_user_or_404,
)
from console.views.common import without_nul
from iam import tags
from iam.authz import require
from iam.errors import ServiceError
from iam.models import Policy, Role, User

CARD = "console/tags/_card.html"
PAGE = "console/tags/page.html"
KIND_LABELS = {
    tags.ROLE: gettext_lazy("role"),
    tags.USER: gettext_lazy("RAM user"),
    tags.POLICY: gettext_lazy("policy"),
}


# --- where a resource's card and forms live -----------------------------------------------------


def url_args(resource: tags.Taggable) -> list[str]:
    if isinstance(resource, Policy):
        return [resource.policy_type, resource.name]
    return [resource.name]


def tag_urls(resource: tags.Taggable) -> dict[str, str]:
    kind = tags.resource_type(resource)
    args = url_args(resource)
    return {
        "detail_url": reverse(f"console:{kind}_detail", args=args),
        "tags_url": reverse(f"console:{kind}_tags", args=args),
        "untag_url": reverse(f"console:{kind}_untag", args=args),
    }


def card_context(request: ConsoleRequest, resource: tags.Taggable, **extra: Any) -> dict[str, Any]:
    """What the card shows: the tags (when the caller may list them) and why a form is denied."""
    arn = tags.resource_arn(resource)
    list_reason = denial_reason(request, "ram:ListTagResources", arn)
    context = {
        "tag_resource": resource,
        "tag_kind": tags.resource_type(resource),
        "tag_kind_label": KIND_LABELS[tags.resource_type(resource)],
        "tag_list": [] if list_reason else list(resource.tags.all()),
        "list_reason": list_reason,
        "tag_reason": denial_reason(request, "ram:TagResources", arn),
        "untag_reason": denial_reason(request, "ram:UntagResources", arn),
        "max_tags": tags.MAX_TAGS_PER_RESOURCE,
        "tag_form": {"key": "", "value": ""},
        "tag_errors": {},
        **tag_urls(resource),
    }
    context.update(extra)
    return context


def answer(
    request: ConsoleRequest, resource: tags.Taggable, *, saved: str = "", **extra: Any
) -> HttpResponse:
    """After a change: the card to htmx, the details page to a plain form; with errors, the card
    (htmx) or the tags page, status 200 either way."""
    if not extra and not request.htmx:
        return redirect(tag_urls(resource)["detail_url"] + "#resource-tags")
    context = card_context(request, resource, tag_saved=saved, **extra)
    return render(request, CARD if request.htmx else PAGE, context)


# --- the views, one pair per kind of resource ---------------------------------------------------


def edit_tags(request: ConsoleRequest, resource: tags.Taggable) -> HttpResponse:
    """GET: the card (htmx) or its page; POST: add the tag ``key`` = ``value``."""
    if request.method != "POST":
        context = card_context(request, resource)
        return render(request, CARD if request.htmx else PAGE, context)
    form = {
        "key": without_nul(request.POST.get("key", "")).strip(),
        "value": without_nul(request.POST.get("value", "")).strip(),
    }
    try:
        new_tags = tags.check_tags([(form["key"], form["value"])])
        require(
            request.identity,
            "ram:TagResources",
            tags.resource_arn(resource),
            tags.request_context(new_tags),
        )
        tags.tag_resources(console_actor(request), [resource], new_tags)
    except AccessDenied:
        raise
    except ServiceError as error:
        field = error.field if error.field in ("key", "value") else "form"
        return answer(request, resource, tag_form=form, tag_errors={field: error.plain})
    return answer(request, resource, saved=_("Tag %(key)s saved.") % {"key": form["key"]})


def remove_tag(request: ConsoleRequest, resource: tags.Taggable) -> HttpResponse:
    key = without_nul(request.POST.get("key", ""))
    if not key:
        return answer(request, resource, tag_errors={"form": _("Choose a tag to remove.")})
    tags.untag_resources(console_actor(request), [resource], [key])
    return answer(request, resource, saved=_("Tag %(key)s removed.") % {"key": key})


@require_http_methods(["GET", "POST"])
def role_tags(request: ConsoleRequest, role_name: str) -> HttpResponse:
    # POST is authorized with the tag it sets (acs:RequestTag/<key>) once the tag is read.
    role = get_role_or_404(request, role_name, action="ram:ListTagResources")
    return edit_tags(request, role)


@require_POST
def role_untag(request: ConsoleRequest, role_name: str) -> HttpResponse:
    role = get_role_or_404(request, role_name, action="ram:UntagResources")
    return remove_tag(request, role)


@require_http_methods(["GET", "POST"])
def user_tags(request: ConsoleRequest, user_name: str) -> HttpResponse:
    user = get_user_or_404(request, user_name, action="ram:ListTagResources")
    return edit_tags(request, user)


@require_POST
def user_untag(request: ConsoleRequest, user_name: str) -> HttpResponse:
    user = get_user_or_404(request, user_name, action="ram:UntagResources")
    return remove_tag(request, user)


def custom_policy_or_404(
    request: ConsoleRequest, policy_type: str, policy_name: str, action: str
) -> Policy:
    """Only custom policies carry tags: a system policy's tags URL does not exist."""
    if policy_type != Policy.Type.CUSTOM:
        raise Http404("System policies have no tags.")
    return get_policy_or_404(request, policy_type, policy_name, action=action)


@require_http_methods(["GET", "POST"])
def policy_tags(request: ConsoleRequest, policy_type: str, policy_name: str) -> HttpResponse:
    policy = custom_policy_or_404(request, policy_type, policy_name, "ram:ListTagResources")
    return edit_tags(request, policy)


@require_POST
def policy_untag(request: ConsoleRequest, policy_type: str, policy_name: str) -> HttpResponse:
    policy = custom_policy_or_404(request, policy_type, policy_name, "ram:UntagResources")
    return remove_tag(request, policy)


# --- lists: filter by tag, show tags ------------------------------------------------------------

MAX_FILTER_LENGTH = tags.MAX_KEY_LENGTH + 1 + tags.MAX_VALUE_LENGTH


def tagged(request: ConsoleRequest, queryset: QuerySet[Any]) -> tuple[QuerySet[Any], str]:
    """A list's rows with their tags (one query for the page) and, with ``?tag=key`` or
    ``?tag=key:value``, only the rows that carry that tag; and the filter's text."""
    text = without_nul(request.GET.get("tag", "")).strip()[:MAX_FILTER_LENGTH]
    key, value = tags.parse_filter(text)
    return tags.filtered(queryset, key, value).prefetch_related("tags"), text


def remember_tags(request: ConsoleRequest, rows: list[Any]) -> None:
    """The rows' prefetched tags serve this request's decisions about them (no query a row)."""
    tags.remember(request.identity, rows)


def taggable(resource: Role | User | Policy) -> bool:
    """Whether a details page shows a Tags card for ``resource`` (not for system policies)."""
    return not (isinstance(resource, Policy) and resource.is_system)


urlpatterns = [
    path("roles/<str:role_name>/tags/", role_tags, name="role_tags"),
    path("roles/<str:role_name>/tags/remove/", role_untag, name="role_untag"),
    path("users/<str:user_name>/tags/", user_tags, name="user_tags"),
    path("users/<str:user_name>/tags/remove/", user_untag, name="user_untag"),
    path("policies/<str:policy_type>/<str:policy_name>/tags/", policy_tags, name="policy_tags"),
    path(
        "policies/<str:policy_type>/<str:policy_name>/tags/remove/",
        policy_untag,
        name="policy_untag",
    ),
]
