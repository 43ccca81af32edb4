"""Console: groups — list, create, details (members, attached policies), delete."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Case, Count, Q, When
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console.actor import console_actor
from console.forms import add_service_error, check_name
from console.http import (
    ConsoleRequest,
    current_account,
    denial_reason,
    get_group_or_404,
    require_account_action,
)
from console.once import submit_once
from console.views.common import (
    ask_first,
    finish,
    fragment_or_page,
    is_fragment_request,
    page_of,
    render_confirm,
    render_dialog,
    search_query,
)
from iam import services
from iam.errors import ServiceError
from iam.models import Group, PolicyAttachment, User


class GroupCreateForm(forms.Form):
    group_name = forms.CharField(label=gettext_lazy("Group name"), max_length=64)
    comments = forms.CharField(label=gettext_lazy("Comments"), max_length=128, required=False)

    def clean_group_name(self) -> str:
        return check_name(self.cleaned_data["group_name"], "GroupName", services.GROUP_NAME_RE, 64)


# The add-members dialog lists at most this many users (filter to find others), and takes at
# most as many users as an account may have.
MAX_CANDIDATES = 100
MAX_CHOSEN = 1000


def is_user_name(value: str) -> bool:
    return len(value) <= 64 and services.USER_NAME_RE.match(value) is not None


class UserNamesField(forms.MultipleChoiceField):
    """Names of users to add; whether each is still a user of the account is the view's to
    say, so a name that is no user name at all is refused here, and any other passes."""

    def valid_value(self, value: str) -> bool:
        return is_user_name(value)


class AddMembersForm(forms.Form):
    name = UserNamesField(
        label=gettext_lazy("Users"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": gettext_lazy("Choose at least one user to add."),
            "invalid_choice": gettext_lazy(
                "No user named %(value)s in this account. Nothing was added."
            ),
        },
    )

    def clean_name(self) -> list[str]:
        names = list(dict.fromkeys(self.cleaned_data["name"]))
        if len(names) > MAX_CHOSEN:
            raise ValidationError(
                _("Choose at most %(most)s users at a time.") % {"most": MAX_CHOSEN}
            )
        return names


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
    """Add several users at once (the resource of ``ram:AddUserToGroup`` is the group, so one
    check covers every member), all or none; one audit event per membership."""
    group = get_group_or_404(request, group_name, action="ram:AddUserToGroup")
    form = AddMembersForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        added = add_members(request, group, form)
        if added:
            messages.success(request, added)
            return finish(request, reverse("console:group_detail", args=[group.name]))
    data = request.POST if request.method == "POST" else request.GET
    context = add_members_context(request, group, form, data)
    if is_fragment_request(request, "member-choices"):
        return render(request, "console/groups/_member_choices.html", context)
    title = _("Add members to %(name)s") % {"name": group.name}
    return render_dialog(request, "console/groups/_add_members.html", context, title=title)


def add_members(request: ConsoleRequest, group: Group, form: AddMembersForm) -> str:
    """Add the chosen users, or none (a field error says why); what was added, in words ("" for
    nothing)."""
    names = form.cleaned_data["name"]
    found = list(User.objects.filter(account=group.account_id, kind=User.Kind.RAM, name__in=names))
    missing = sorted(set(names) - {user.name for user in found})
    in_group = set(group.members.filter(pk__in=[user.pk for user in found]))
    members = sorted(user.name for user in in_group)
    if missing or members:
        problem = (
            _("No longer in this account: %(names)s. Nothing was added.")
            if missing
            else _("Already members: %(names)s. Nothing was added.")
        )
        form.add_error("name", problem % {"names": ", ".join(missing or members)})
        return ""
    try:
        services.add_users_to_group(console_actor(request), group, found)
    except ServiceError as error:
        add_service_error(form, error)
        return ""
    added = ngettext(
        "Added %(count)s member to %(group)s.", "Added %(count)s members to %(group)s.", len(found)
    )
    return added % {"count": len(found), "group": group.name}


def add_members_context(
    request: ConsoleRequest, group: Group, form: AddMembersForm, data: QueryDict
) -> dict[str, Any]:
    """The users the dialog offers: those not in the group that match the filter, the chosen
    ones first (a filter never hides a ticked box), at most ``MAX_CANDIDATES``."""
    query = search_query(data, 64)
    chosen = [name for name in data.getlist("name")[:MAX_CHOSEN] if is_user_name(name)]
    users = User.objects.filter(account=group.account_id, kind=User.Kind.RAM)
    users = users.exclude(ram_groups=group).annotate(
        unchosen=Case(When(name__in=chosen, then=0), default=1)
    )
    if query:
        matching = Q(name__icontains=query) | Q(display_name__icontains=query)
        users = users.filter(matching | Q(name__in=chosen))
    candidates = list(users.order_by("unchosen", "name")[: MAX_CANDIDATES + 1])
    return {
        "group": group,
        "account": current_account(request),
        "form": form,
        "query": query,
        "chosen": chosen,
        "candidates": candidates[:MAX_CANDIDATES],
        "more": len(candidates) > MAX_CANDIDATES,
        "action_url": reverse("console:group_member_add", args=[group.name]),
        "cancel_url": reverse("console:group_detail", args=[group.name]),
    }


@require_POST
def group_member_remove(request: ConsoleRequest, group_name: str, user_name: str) -> HttpResponse:
    group = get_group_or_404(request, group_name, action="ram:RemoveUserFromGroup")
    user = group.members.filter(name__iexact=user_name).first()
    if user is None:
        raise Http404("No such member of this group.")
    return removed_from_group(
        request, group, user, reverse("console:group_detail", args=[group.name])
    )


def removed_from_group(
    request: ConsoleRequest, group: Group, user: User, back: str
) -> HttpResponse:
    """Take ``user`` out of ``group`` once confirmed (from the group's page or the user's), then
    back to ``back``."""
    question = ask_first(
        request,
        question=_("Remove %(user)s from group %(group)s?")
        % {"user": user.name, "group": group.name},
        button=_("Remove from group"),
        cancel_url=back,
    )
    if question:
        return question
    try:
        services.remove_user_from_group(console_actor(request), group, user)
    except ServiceError as error:
        messages.error(request, error.plain)
    return finish(request, back)


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
            messages.success(request, _("Group %(name)s deleted.") % {"name": group_name})
            return finish(request, reverse("console:group_list"))
    return render_confirm(
        request,
        title=_("Delete group %(name)s") % {"name": group.name},
        message=_("Deleting a group is permanent. Remove its members and policies first."),
        action_url=reverse("console:group_delete", args=[group.name]),
        cancel_url=reverse("console:group_detail", args=[group.name]),
        button=_("Delete group"),
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
