"""Console: groups — list, create, details (members, attached policies), delete."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console.actor import console_actor
from console.forms import ChooseForm, add_service_error, check_name
from console.http import (
    ConsoleRequest,
    current_account,
    denial_reason,
    get_group_or_404,
    require_account_action,
)
from console.once import submit_once
from console.views.common import (
    finish,
    fragment_or_page,
    page_of,
    render_confirm,
    render_dialog,
    search_query,
)
from iam import services
from iam.errors import ServiceError
from iam.models import Group, PolicyAttachment, User


class GroupCreateForm(forms.Form):
    group_name = forms.CharField(label="Group name", max_length=64)
    comments = forms.CharField(label="Comments", max_length=128, required=False)

    def clean_group_name(self) -> str:
        return check_name(self.cleaned_data["group_name"], "GroupName", services.GROUP_NAME_RE, 64)


@require_GET
def group_list(request: ConsoleRequest) -> HttpResponse:
    resource = require_account_action(request, "ram:ListGroups", "group")
    query = search_query(request.GET, 64)
    groups = (
        Group.objects.filter(account=current_account(request))
        .annotate(
            member_count=Count("members", distinct=True),
            policy_count=Count("attachments", distinct=True),
        )
        .order_by("name")
    )
    if query:
        groups = groups.filter(Q(name__icontains=query) | Q(comments__icontains=query))
    context = {
        "page": page_of(request, groups),
        "query": query,
        "create_denied": denial_reason(request, "ram:CreateGroup", resource),
    }
    return fragment_or_page(
        request,
        "console/groups/_group_table.html",
        "console/groups/list.html",
        context,
        target="group-table",
    )


@require_http_methods(["GET", "POST"])
@submit_once
def group_create(request: ConsoleRequest) -> HttpResponse:
    require_account_action(request, "ram:CreateGroup", "group")
    form = GroupCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            group = services.create_group(
                console_actor(request),
                current_account(request),
                form.cleaned_data["group_name"],
                comments=form.cleaned_data["comments"],
            )
        except ServiceError as error:
            add_service_error(form, error)
        else:
            return finish(request, reverse("console:group_detail", args=[group.name]))
    return render(request, "console/groups/create.html", {"form": form})


def group_policies_context(request: ConsoleRequest, group: Group) -> dict[str, Any]:
    return {
        "group": group,
        "attachments": PolicyAttachment.objects.filter(group=group).select_related("policy"),
        "detach_denied": denial_reason(request, "ram:DetachPolicyFromGroup", group.arn),
        "authorize_denied": denial_reason(request, "ram:AttachPolicyToGroup", group.arn),
    }


@require_GET
def group_detail(request: ConsoleRequest, group_name: str) -> HttpResponse:
    group = get_group_or_404(request, group_name, action="ram:GetGroup")
    context = {
        **group_policies_context(request, group),
        "account": current_account(request),
        "members": group.members.order_by("name"),
        "reasons": {
            "delete": denial_reason(request, "ram:DeleteGroup", group.arn),
            "add_member": denial_reason(request, "ram:AddUserToGroup", group.arn),
            "remove_member": denial_reason(request, "ram:RemoveUserFromGroup", group.arn),
        },
    }
    return render(request, "console/groups/detail.html", context)


@require_GET
def group_policies(request: ConsoleRequest, group_name: str) -> HttpResponse:
    """The attached-policies section alone; it reloads itself on ``policiesChanged``."""
    group = get_group_or_404(request, group_name, action="ram:GetGroup")
    return render(request, "console/groups/_policies.html", group_policies_context(request, group))


@require_http_methods(["GET", "POST"])
@submit_once
def group_member_add(request: ConsoleRequest, group_name: str) -> HttpResponse:
    group = get_group_or_404(request, group_name, action="ram:AddUserToGroup")
    choices = list(
        User.objects.filter(account=group.account_id, kind=User.Kind.RAM)
        .exclude(ram_groups=group)
        .order_by("name")
        .values_list("name", flat=True)
    )
    form = ChooseForm(request.POST or None, choices=choices, label="User")
    if request.method == "POST" and form.is_valid():
        user = User.objects.filter(
            account=group.account_id, kind=User.Kind.RAM, name=form.cleaned_data["name"]
        ).first()
        if user is None:
            raise Http404("No such user in this account.")
        try:
            services.add_user_to_group(console_actor(request), group, user)
        except ServiceError as error:
            add_service_error(form, error)
        else:
            return finish(request, reverse("console:group_detail", args=[group.name]))
    context = {
        "form": form,
        "action_url": reverse("console:group_member_add", args=[group.name]),
        "cancel_url": reverse("console:group_detail", args=[group.name]),
        "title": f"Add members to {group.name}",
        "empty": "Every user of this account is already a member.",
    }
    return render_dialog(request, "console/users/_choose.html", context, title=context["title"])


@require_POST
def group_member_remove(request: ConsoleRequest, group_name: str, user_name: str) -> HttpResponse:
    group = get_group_or_404(request, group_name, action="ram:RemoveUserFromGroup")
    user = group.members.filter(name__iexact=user_name).first()
    if user is None:
        raise Http404("No such member of this group.")
    try:
        services.remove_user_from_group(console_actor(request), group, user)
    except ServiceError as error:
        messages.error(request, error.plain)
    return finish(request, reverse("console:group_detail", args=[group.name]))


@require_http_methods(["GET", "POST"])
@submit_once
def group_delete(request: ConsoleRequest, group_name: str) -> HttpResponse:
    group = get_group_or_404(request, group_name, action="ram:DeleteGroup")
    error = ""
    if request.method == "POST":
        try:
            services.delete_group(console_actor(request), group)
        except ServiceError as service_error:
            error = service_error.plain
        else:
            messages.success(request, f"Group {group_name} deleted.")
            return finish(request, reverse("console:group_list"))
    return render_confirm(
        request,
        title=f"Delete group {group.name}",
        message="Deleting a group is permanent. Remove its members and policies first.",
        action_url=reverse("console:group_delete", args=[group.name]),
        cancel_url=reverse("console:group_detail", args=[group.name]),
        button="Delete group",
        error=error,
    )


urlpatterns = [
    path("groups/", group_list, name="group_list"),
    path("groups/new/", group_create, name="group_create"),
    path("groups/<str:group_name>/", group_detail, name="group_detail"),
    path("groups/<str:group_name>/delete/", group_delete, name="group_delete"),
    path("groups/<str:group_name>/members/add/", group_member_add, name="group_member_add"),
    path(
        "groups/<str:group_name>/members/<str:user_name>/remove/",
        group_member_remove,
        name="group_member_remove",
    ),
    path("groups/<str:group_name>/policies/", group_policies, name="group_policies"),
]
