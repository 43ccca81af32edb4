"""Console: RAM users — list, create, details, console password, groups, policies, access keys."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console.actor import console_actor
from console.forms import ChooseForm, add_service_error, check_name
from console.http import (
    ConsoleRequest,
    account_resource,
    current_account,
    denial_reason,
    get_group_or_404,
    get_user_or_404,
    require_account_action,
)
from console.once import remember, submit_once
from console.views.common import (
    finish,
    fragment_or_page,
    page_of,
    render_confirm,
    render_dialog,
    search_query,
)
from console.views.mfa import user_mfa_context
from iam import security, services
from iam.audit import record
from iam.authz import require
from iam.crypto import decrypt_secret
from iam.errors import ServiceError
from iam.models import AccessKey, Group, PolicyAttachment, User

# --- forms --------------------------------------------------------------------------------------


class PasswordField(forms.CharField):
    widget = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})

    def validate(self, value: str) -> None:
        super().validate(value)
        if value:
            try:
                security.check_password_strength(value)
            except ServiceError as error:
                raise ValidationError(error.plain) from error


class UserCreateForm(forms.Form):
    user_name = forms.CharField(label="Logon name", max_length=64)
    display_name = forms.CharField(label="Display name", max_length=128, required=False)
    comments = forms.CharField(label="Comments", max_length=128, required=False)
    password = PasswordField(
        label="Console password",
        max_length=128,
        required=False,
        help_text="Optional. Leave empty for a user without console access.",
    )

    def clean_user_name(self) -> str:
        return check_name(self.cleaned_data["user_name"], "UserName", services.USER_NAME_RE, 64)


class ConsolePasswordForm(forms.Form):
    password = PasswordField(label="New console password", max_length=128)
    password_reset_required = forms.BooleanField(
        label="Require a password reset at the next logon", required=False
    )


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=AccessKey.Status.choices)


class ActiveForm(forms.Form):
    active = forms.TypedChoiceField(
        choices=[("true", "Enabled"), ("false", "Disabled")], coerce=lambda value: value == "true"
    )


# --- list and create ----------------------------------------------------------------------------


@require_GET
def user_list(request: ConsoleRequest) -> HttpResponse:
    resource = require_account_action(request, "ram:ListUsers", "user")
    account = current_account(request)
    query = search_query(request.GET, 64)
    users = (
        User.objects.filter(account=account, kind=User.Kind.RAM)
        .annotate(
            access_key_count=Count("access_keys", distinct=True),
            group_count=Count("group_memberships", distinct=True),
        )
        .order_by("name")
    )
    if query:
        users = users.filter(Q(name__icontains=query) | Q(display_name__icontains=query))
    page = page_of(request, users)
    locked = security.locked_users(account.pk)
    for user in page:
        user.locked_until = locked.get(user.user_id)  # type: ignore[attr-defined]
    context = {
        "account": account,
        "page": page,
        "query": query,
        "create_denied": denial_reason(request, "ram:CreateUser", resource),
    }
    return fragment_or_page(
        request,
        "console/users/_user_table.html",
        "console/users/list.html",
        context,
        target="user-table",
    )


@require_http_methods(["GET", "POST"])
@submit_once
def user_create(request: ConsoleRequest) -> HttpResponse:
    require_account_action(request, "ram:CreateUser", "user")
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            # Creating the user and its login profile is one step in the console.
            with transaction.atomic():
                user = services.create_user(
                    console_actor(request),
                    current_account(request),
                    data["user_name"],
                    display_name=data["display_name"],
                    comments=data["comments"],
                )
                if data["password"]:
                    services.set_console_password(
                        console_actor(request), user, data["password"], create=True
                    )
        except ServiceError as error:
            add_service_error(form, error)
        else:
            return finish(request, reverse("console:user_detail", args=[user.name]))
    return render(request, "console/users/create.html", {"form": form})


# --- details ------------------------------------------------------------------------------------


def user_reasons(request: ConsoleRequest, user: User) -> dict[str, str]:
    """Why each action on the details page is denied ("" = allowed), for disabled buttons."""
    actions = {
        "update": "ram:UpdateUser",
        "delete": "ram:DeleteUser",
        "create_password": "ram:CreateLoginProfile",
        "update_password": "ram:UpdateLoginProfile",
        "delete_password": "ram:DeleteLoginProfile",
        "create_key": "ram:CreateAccessKey",
        "update_key": "ram:UpdateAccessKey",
        "delete_key": "ram:DeleteAccessKey",
    }
    reasons = {key: denial_reason(request, action, user.arn) for key, action in actions.items()}
    reasons["join_group"] = denial_reason(
        request, "ram:AddUserToGroup", account_resource(request, "group")
    )
    return reasons


def user_policies_context(request: ConsoleRequest, user: User) -> dict[str, Any]:
    return {
        "user": user,
        "attachments": PolicyAttachment.objects.filter(user=user).select_related("policy"),
        "detach_denied": denial_reason(request, "ram:DetachPolicyFromUser", user.arn),
        "authorize_denied": denial_reason(request, "ram:AttachPolicyToUser", user.arn),
    }


@require_GET
def user_detail(request: ConsoleRequest, user_name: str) -> HttpResponse:
    user = get_user_or_404(request, user_name, action="ram:GetUser")
    groups = [
        (group, denial_reason(request, "ram:RemoveUserFromGroup", group.arn))
        for group in Group.objects.filter(members=user).order_by("name")
    ]
    context = {
        **user_policies_context(request, user),
        "account": current_account(request),
        "reasons": user_reasons(request, user),
        "groups": groups,
        "access_keys": user.access_keys.order_by("created"),
        "locked_until": security.locked_until(user),
        **user_mfa_context(request, user),
    }
    return render(request, "console/users/detail.html", context)


@require_GET
def user_policies(request: ConsoleRequest, user_name: str) -> HttpResponse:
    """The attached-policies section alone; it reloads itself on ``policiesChanged``."""
    user = get_user_or_404(request, user_name, action="ram:GetUser")
    return render(request, "console/users/_policies.html", user_policies_context(request, user))


@require_POST
def user_status(request: ConsoleRequest, user_name: str) -> HttpResponse:
    """Enable or disable the user (``ram:UpdateUser``)."""
    user = get_user_or_404(request, user_name, action="ram:UpdateUser")
    form = ActiveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose to enable or disable the user.")
    else:
        try:
            services.update_user(
                console_actor(request), user, is_active=form.cleaned_data["active"]
            )
        except ServiceError as error:
            messages.error(request, error.plain)
    return finish(request, reverse("console:user_detail", args=[user.name]))


@require_POST
def user_unlock(request: ConsoleRequest, user_name: str) -> HttpResponse:
    """Lift a lockout after failed logons (``ram:UpdateUser``)."""
    user = get_user_or_404(request, user_name, action="ram:UpdateUser")
    if security.unlock_user(console_actor(request), user):
        messages.success(request, f"User {user.name} is unlocked and can log on again.")
    else:
        messages.info(request, f"User {user.name} was not locked.")
    return finish(request, reverse("console:user_detail", args=[user.name]))


@require_http_methods(["GET", "POST"])
@submit_once
def user_delete(request: ConsoleRequest, user_name: str) -> HttpResponse:
    user = get_user_or_404(request, user_name, action="ram:DeleteUser")
    detail_url = reverse("console:user_detail", args=[user.name])
    error = ""
    if request.method == "POST":
        try:
            services.delete_user(console_actor(request), user)
        except ServiceError as service_error:
            error = service_error.plain
        else:
            messages.success(request, f"User {user_name} deleted.")
            return finish(request, reverse("console:user_list"))
    return render_confirm(
        request,
        title=f"Delete user {user.name}",
        message=(
            "Deleting a user is permanent. Remove its console password, access keys, groups and "
            "policies first."
        ),
        action_url=reverse("console:user_delete", args=[user.name]),
        cancel_url=detail_url,
        button="Delete user",
        error=error,
    )


# --- console password ---------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@submit_once
def user_password(request: ConsoleRequest, user_name: str) -> HttpResponse:
    """Set (CreateLoginProfile) or reset (UpdateLoginProfile) the console password."""
    user = get_user_or_404(request, user_name, action="ram:GetUser")
    create = not user.has_console_password
    require(
        request.identity, "ram:CreateLoginProfile" if create else "ram:UpdateLoginProfile", user.arn
    )
    form = ConsolePasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.set_console_password(
                console_actor(request),
                user,
                form.cleaned_data["password"],
                password_reset_required=form.cleaned_data["password_reset_required"],
                create=create,
            )
        except ServiceError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "Console password saved.")
            return finish(request, reverse("console:user_detail", args=[user.name]))
    context = {"user": user, "form": form, "create": create}
    title = "Set console password" if create else "Reset console password"
    return render_dialog(request, "console/users/_password_form.html", context, title=title)


@require_http_methods(["GET", "POST"])
@submit_once
def user_password_delete(request: ConsoleRequest, user_name: str) -> HttpResponse:
    user = get_user_or_404(request, user_name, action="ram:DeleteLoginProfile")
    error = ""
    if request.method == "POST":
        try:
            services.delete_login_profile(console_actor(request), user)
        except ServiceError as service_error:
            error = service_error.plain
        else:
            messages.success(request, "Console password removed.")
            return finish(request, reverse("console:user_detail", args=[user.name]))
    return render_confirm(
        request,
        title=f"Remove the console password of {user.name}",
        message="The user will no longer be able to log on to the console.",
        action_url=reverse("console:user_password_delete", args=[user.name]),
        cancel_url=reverse("console:user_detail", args=[user.name]),
        button="Remove password",
        error=error,
    )


# --- groups -------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@submit_once
def user_group_add(request: ConsoleRequest, user_name: str) -> HttpResponse:
    user = get_user_or_404(request, user_name, action="ram:GetUser")
    choices = list(
        Group.objects.filter(account=current_account(request))
        .exclude(members=user)
        .order_by("name")
        .values_list("name", flat=True)
    )
    form = ChooseForm(request.POST or None, choices=choices, label="Group")
    if request.method == "POST" and form.is_valid():
        group = get_group_or_404(request, form.cleaned_data["name"], action="ram:AddUserToGroup")
        try:
            services.add_user_to_group(console_actor(request), group, user)
        except ServiceError as error:
            add_service_error(form, error)
        else:
            return finish(request, reverse("console:user_detail", args=[user.name]))
    context = {
        "user": user,
        "form": form,
        "action_url": reverse("console:user_group_add", args=[user.name]),
        "cancel_url": reverse("console:user_detail", args=[user.name]),
        "title": f"Add {user.name} to a group",
        "empty": "The user is already in every group of this account.",
    }
    return render_dialog(request, "console/users/_choose.html", context, title=context["title"])


@require_POST
def user_group_remove(request: ConsoleRequest, user_name: str, group_name: str) -> HttpResponse:
    user = get_user_or_404(request, user_name, action="ram:GetUser")
    group = get_group_or_404(request, group_name, action="ram:RemoveUserFromGroup")
    try:
        services.remove_user_from_group(console_actor(request), group, user)
    except ServiceError as error:
        messages.error(request, error.plain)
    return finish(request, reverse("console:user_detail", args=[user.name]))


# --- access keys --------------------------------------------------------------------------------
# What is done to a user's keys once the caller may do it, for these views and for one's own keys
# on Security credentials (``credentials``): only who is authorized and the page to go back to
# (``back_url``) differ.


def get_access_key_or_404(user: User, access_key_id: str) -> AccessKey:
    access_key = user.access_keys.filter(access_key_id=access_key_id).first()
    if access_key is None:
        raise Http404("No such access key.")
    return access_key


def create_key(request: ConsoleRequest, user: User, back_url: str) -> HttpResponse:
    """Create a key and show its secret in this one response; it is never retrievable again
    (except by a repeat of this very submission, see ``show_key_again``)."""
    try:
        new_key = services.create_access_key(console_actor(request), user)
    except ServiceError as error:
        messages.error(request, error.plain)
        return finish(request, back_url)
    remember(request, access_key_id=new_key.access_key.access_key_id)
    return key_created(request, new_key.access_key.access_key_id, new_key.secret, back_url)


def show_key_again(
    request: ConsoleRequest, user: User, outcome: dict[str, str], back_url: str
) -> HttpResponse:
    """Answer a repeated Create AccessKey (the same form token) with the key the first one made.

    The secret is shown again, on purpose. Without JavaScript, a double click makes the browser
    drop the first response, the only one with the secret, and display the second. If the second
    only said "created", nobody would ever see the secret: a key nobody could use, which is the
    defect the token is there to prevent. So the secret is decrypted from the key's own ciphertext
    and shown again, only to the logon session that sent the form, for that one submission, within
    the token's ten minutes, while the key still exists; the event is audited. The stored outcome
    holds the key's id only, never its secret.
    """
    access_key = user.access_keys.filter(access_key_id=outcome.get("access_key_id", "")).first()
    if access_key is None:
        messages.info(request, "The AccessKey this form created has been deleted since.")
        return finish(request, back_url)
    record(
        console_actor(request),
        "console:RepeatedCreateAccessKey",
        user.arn,
        account_id=user.account_id,
        details={"AccessKeyId": access_key.access_key_id},
    )
    secret = decrypt_secret(access_key.secret_ciphertext)
    return key_created(request, access_key.access_key_id, secret, back_url, repeated=True)


def key_created(
    request: ConsoleRequest,
    access_key_id: str,
    secret: str,
    back_url: str,
    *,
    repeated: bool = False,
) -> HttpResponse:
    context = {
        "access_key_id": access_key_id,
        "secret": secret,
        "csv": f"AccessKeyId,AccessKeySecret\r\n{access_key_id},{secret}\r\n",
        "detail_url": back_url,
        "repeated": repeated,
    }
    response = render_dialog(
        request, "console/users/_access_key_created.html", context, title="AccessKey created"
    )
    patch_cache_control(response, no_store=True, no_cache=True, private=True)
    return response


def set_key_status(request: ConsoleRequest, access_key: AccessKey, back_url: str) -> HttpResponse:
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            services.update_access_key_status(
                console_actor(request), access_key, form.cleaned_data["status"]
            )
        except ServiceError as error:
            messages.error(request, error.plain)
    else:
        messages.error(request, "Choose Active or Inactive.")
    return finish(request, back_url)


def delete_key(
    request: ConsoleRequest, access_key: AccessKey, *, action_url: str, back_url: str
) -> HttpResponse:
    """The dialog that asks first (GET, or a POST that failed), the deletion (POST)."""
    access_key_id = access_key.access_key_id  # the primary key, gone from the row once deleted
    error = ""
    if request.method == "POST":
        try:
            services.delete_access_key(console_actor(request), access_key)
        except ServiceError as service_error:
            error = service_error.plain
        else:
            messages.success(request, f"AccessKey {access_key_id} deleted.")
            return finish(request, back_url)
    return render_confirm(
        request,
        title=f"Delete AccessKey {access_key_id}",
        message="Programs that use this AccessKey will stop working at once.",
        action_url=action_url,
        cancel_url=back_url,
        button="Delete AccessKey",
        error=error,
    )


def show_access_key_again(
    request: ConsoleRequest, outcome: dict[str, str], user_name: str
) -> HttpResponse:
    user = get_user_or_404(request, user_name, action="ram:CreateAccessKey")
    return show_key_again(request, user, outcome, reverse("console:user_detail", args=[user.name]))


@require_POST
@submit_once(replay=show_access_key_again)
def access_key_create(request: ConsoleRequest, user_name: str) -> HttpResponse:
    user = get_user_or_404(request, user_name, action="ram:CreateAccessKey")
    return create_key(request, user, reverse("console:user_detail", args=[user.name]))


@require_POST
def access_key_status(request: ConsoleRequest, user_name: str, access_key_id: str) -> HttpResponse:
    user = get_user_or_404(request, user_name, action="ram:UpdateAccessKey")
    access_key = get_access_key_or_404(user, access_key_id)
    return set_key_status(request, access_key, reverse("console:user_detail", args=[user.name]))


@require_http_methods(["GET", "POST"])
@submit_once
def access_key_delete(request: ConsoleRequest, user_name: str, access_key_id: str) -> HttpResponse:
    user = get_user_or_404(request, user_name, action="ram:DeleteAccessKey")
    access_key = get_access_key_or_404(user, access_key_id)
    return delete_key(
        request,
        access_key,
        action_url=reverse("console:access_key_delete", args=[user.name, access_key.access_key_id]),
        back_url=reverse("console:user_detail", args=[user.name]),
    )


urlpatterns = [
    path("users/", user_list, name="user_list"),
    path("users/new/", user_create, name="user_create"),
    path("users/<str:user_name>/", user_detail, name="user_detail"),
    path("users/<str:user_name>/delete/", user_delete, name="user_delete"),
    path("users/<str:user_name>/status/", user_status, name="user_status"),
    path("users/<str:user_name>/unlock/", user_unlock, name="user_unlock"),
    path("users/<str:user_name>/password/", user_password, name="user_password"),
    path(
        "users/<str:user_name>/password/delete/",
        user_password_delete,
        name="user_password_delete",
    ),
    path("users/<str:user_name>/groups/add/", user_group_add, name="user_group_add"),
    path(
        "users/<str:user_name>/groups/<str:group_name>/remove/",
        user_group_remove,
        name="user_group_remove",
    ),
    path("users/<str:user_name>/policies/", user_policies, name="user_policies"),
    path("users/<str:user_name>/access-keys/", access_key_create, name="access_key_create"),
    path(
        "users/<str:user_name>/access-keys/<str:access_key_id>/status/",
        access_key_status,
        name="access_key_status",
    ),
    path(
        "users/<str:user_name>/access-keys/<str:access_key_id>/delete/",
        access_key_delete,
        name="access_key_delete",
    ),
]
