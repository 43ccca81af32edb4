"""Console: RAM users — list, create, details, console password, groups, policies, access keys."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Count, Q
from django.db.models.functions import Lower
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
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
from console.views.groups import removed_from_group
from console.views.mfa import user_mfa_context
from console.views.tags import tagged
from iam import security, services
from iam.audit import record
from iam.authz import require
from iam.crypto import decrypt_secret
from iam.errors import ServiceError
from iam.models import AccessKey, Account, Group, PolicyAttachment, User

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


# At most this many users a submission: each console password is hashed (Argon2, about 0.3 s)
# inside the one transaction that creates the batch, which holds the account's audit chain head
# (and, on SQLite, the database's write lock) until it ends.
MAX_NEW_USERS = 20


class ConsoleAccess(models.TextChoices):
    NONE = "none", gettext_lazy("No console access")
    SET = "set", gettext_lazy("Console access with this password")
    GENERATE = "generate", gettext_lazy("Console access with a generated password for each user")


@dataclass(frozen=True)
class UserLine:
    """One line of the Create user form: a user to create."""

    number: int
    name: str
    display_name: str


def parse_user_lines(text: str) -> list[UserLine]:
    """The users ``text`` asks for, one a line; every line's problem at once, by line number."""
    lines: list[UserLine] = []
    problems: list[str] = []
    first_line: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        name, _comma, display_name = (part.strip() for part in raw.partition(","))
        if not name and not display_name:
            continue
        try:
            check_name(name, "UserName", services.USER_NAME_RE, 64)
        except ValidationError as error:
            problems.append(line_problem(number, name or _("no name"), error.messages[0]))
            continue
        if len(display_name) > 128:
            problems.append(
                line_problem(number, name, _("Use at most 128 characters for the display name."))
            )
        elif name.lower() in first_line:
            again = _("%(name)s is on line %(line)s too.")
            problems.append(
                line_problem(number, name, again % {"name": name, "line": first_line[name.lower()]})
            )
        else:
            first_line[name.lower()] = number
            lines.append(UserLine(number, name, display_name))
    if len(lines) + len(problems) > MAX_NEW_USERS:
        problems.insert(0, _("Enter at most %(most)s users at a time.") % {"most": MAX_NEW_USERS})
    if problems:
        raise ValidationError(problems)
    return lines


def line_problem(number: int, name: str, problem: str) -> str:
    """A problem of the Create users form's line ``number``, which names ``name``."""
    return _("Line %(number)s (%(name)s): %(problem)s") % {
        "number": number,
        "name": name,
        "problem": problem,
    }


RESET_LABEL = gettext_lazy("Require a password reset at the next logon")


class UserCreateForm(forms.Form):
    """Several users at once; a single line is one user. Every line is checked before any user
    is created, and a line's name that the account already has is an error too."""

    user_name = forms.CharField(
        label=gettext_lazy("Users"),
        max_length=MAX_NEW_USERS * 200,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false", "autocomplete": "off"}),
        error_messages={"required": gettext_lazy("Enter at least one logon name.")},
    )
    comments = forms.CharField(
        label=gettext_lazy("Comments"),
        max_length=128,
        required=False,
        help_text=gettext_lazy("The same for every user."),
    )
    console_access = forms.ChoiceField(
        label=gettext_lazy("Console access"),
        choices=ConsoleAccess.choices,
        initial=ConsoleAccess.NONE,
        required=False,
        widget=forms.RadioSelect,
    )
    password = PasswordField(
        label=gettext_lazy("Console password"),
        max_length=128,
        required=False,
        help_text=gettext_lazy(
            "With “this password”, every user gets the same one; typing one chooses it."
        ),
    )
    password_reset_required = forms.BooleanField(label=RESET_LABEL, required=False)

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = account

    def clean_user_name(self) -> list[UserLine]:
        lines = parse_user_lines(self.cleaned_data["user_name"])
        if not lines:
            raise ValidationError(_("Enter at least one logon name."))
        taken = existing_names(self.account, [line.name for line in lines])
        if taken:
            exists = _("A user with this name already exists.")
            raise ValidationError(
                [
                    line_problem(line.number, line.name, exists)
                    for line in lines
                    if line.name.lower() in taken
                ]
            )
        return lines

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        access = data.get("console_access") or ConsoleAccess.NONE
        if access == ConsoleAccess.NONE and data.get("password"):
            access = ConsoleAccess.SET
        if access == ConsoleAccess.SET and "password" not in self.errors:
            self.check_shared_password(data.get("password", ""))
        data["console_access"] = access
        return data

    def check_shared_password(self, password: str) -> None:
        if not password:
            self.add_error("password", _("Enter the password, or choose to generate them."))
            return
        try:
            security.check_password(self.account, password)
        except ServiceError as error:
            self.add_error("password", error.plain)


def existing_names(account: Account, names: list[str]) -> set[str]:
    """Which of ``names`` the account's RAM users already have, in lower case (names are unique
    whatever their case)."""
    lowered = [name.lower() for name in names]
    users = User.objects.filter(account=account, kind=User.Kind.RAM)
    found = users.annotate(lower_name=Lower("name")).filter(lower_name__in=lowered)
    return set(found.values_list("lower_name", flat=True))


class ConsolePasswordForm(forms.Form):
    password = PasswordField(label=gettext_lazy("New console password"), max_length=128)
    password_reset_required = forms.BooleanField(label=RESET_LABEL, required=False)


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=AccessKey.Status.choices)


class ActiveForm(forms.Form):
    active = forms.TypedChoiceField(
        choices=[("true", gettext_lazy("Enabled")), ("false", gettext_lazy("Disabled"))],
        coerce=lambda value: value == "true",
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
    users, tag_filter = tagged(request, users)
    page = page_of(request, users)
    locked = security.locked_users(account.pk)
    for user in page:
        user.locked_until = locked.get(user.user_id)  # type: ignore[attr-defined]
    context = {
        "account": account,
        "page": page,
        "query": query,
        "tag_filter": tag_filter,
        "create_denied": denial_reason(request, "ram:CreateUser", resource),
    }
    return fragment_or_page(
        request,
        "console/users/_user_table.html",
        "console/users/list.html",
        context,
        target="user-table",
    )


def show_created_again(request: ConsoleRequest, outcome: dict[str, str]) -> HttpResponse:
    """A repeated Create user (the same form token) whose first submission generated passwords:
    the users it created, without their passwords, which were shown once and are not kept."""
    require_account_action(request, "ram:CreateUser", "user")
    account = current_account(request)
    names = outcome.get("users", "").split(",")
    users = User.objects.filter(account=account, kind=User.Kind.RAM, name__in=names)
    rows = [(user, "") for user in users.order_by("name")]
    return render_created(request, account, rows, repeated=True)


@require_http_methods(["GET", "POST"])
@submit_once(replay=show_created_again)
def user_create(request: ConsoleRequest) -> HttpResponse:
    require_account_action(request, "ram:CreateUser", "user")
    account = current_account(request)
    form = UserCreateForm(request.POST or None, account=account)
    if request.method == "POST" and form.is_valid():
        try:
            created = create_users(request, account, form.cleaned_data)
        except ServiceError as error:
            add_service_error(form, error)
        else:
            return users_created(request, account, created)
    context = {"form": form, "max_users": MAX_NEW_USERS}
    return render(request, "console/users/create.html", context)


def create_users(
    request: ConsoleRequest, account: Account, data: dict[str, Any]
) -> list[tuple[User, str]]:
    """Create the form's users, with their console passwords, all or none (creating a user and
    its login profile is one step in the console); each user comes back with the password
    generated for it, or "" when none was."""
    actor = console_actor(request)
    lines: list[UserLine] = data["user_name"]
    access = data["console_access"]
    policy = security.password_policy(account.pk)
    created = []
    with transaction.atomic():
        for line in lines:
            user = services.create_user(
                actor,
                account,
                line.name,
                display_name=line.display_name,
                comments=data["comments"],
            )
            generated = ""
            if access == ConsoleAccess.GENERATE:
                generated = security.generate_password(policy, avoid=user.name)
            if access != ConsoleAccess.NONE:
                try:
                    services.set_console_password(
                        actor,
                        user,
                        generated or data["password"],
                        password_reset_required=data["password_reset_required"],
                        create=True,
                    )
                except ServiceError as error:
                    if len(lines) > 1:
                        error.plain = _("For %(name)s: %(problem)s") % {
                            "name": user.name,
                            "problem": error.plain,
                        }
                    raise
            created.append((user, generated))
    return created


def users_created(
    request: ConsoleRequest, account: Account, created: list[tuple[User, str]]
) -> HttpResponse:
    """Generated passwords are shown in this one response; otherwise on to the new user, or to
    the list when there are several."""
    if any(password for _, password in created):
        remember(request, users=",".join(user.name for user, _ in created))
        return render_created(request, account, created)
    if len(created) == 1:
        return finish(request, reverse("console:user_detail", args=[created[0][0].name]))
    messages.success(request, _("%(count)s users created.") % {"count": len(created)})
    return finish(request, reverse("console:user_list"))


def render_created(
    request: ConsoleRequest,
    account: Account,
    rows: list[tuple[User, str]],
    *,
    repeated: bool = False,
) -> HttpResponse:
    """The page that shows generated passwords once; never cached, never shown again."""
    credentials = [(f"{user.name}@{account.alias}", user, password) for user, password in rows]
    context = {
        "credentials": credentials,
        "csv": credentials_csv(credentials),
        "copy_text": "\n".join(f"{logon} {password}" for logon, _, password in credentials),
        "repeated": repeated,
    }
    response = render(request, "console/users/created.html", context)
    patch_cache_control(response, no_store=True, no_cache=True, private=True)
    return response


def credentials_csv(credentials: list[tuple[str, User, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_("UserPrincipalName"), _("DisplayName"), _("Password")])
    for logon_name, user, password in credentials:
        writer.writerow([logon_name, spreadsheet_text(user.display_name), password])
    return buffer.getvalue()


def spreadsheet_text(value: str) -> str:
    """A CSV cell a spreadsheet shows as text, not as a formula to run."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


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
    access_keys = list(user.access_keys.order_by("created"))
    context = {
        **user_policies_context(request, user),
        "account": current_account(request),
        "reasons": user_reasons(request, user),
        "groups": groups,
        "access_keys": access_keys,
        "key_limit": key_limit_reason(len(access_keys)),
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
        messages.error(request, _("Choose to enable or disable the user."))
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
        messages.success(
            request, _("User %(name)s is unlocked and can log on again.") % {"name": user.name}
        )
    else:
        messages.info(request, _("User %(name)s was not locked.") % {"name": user.name})
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
            messages.success(request, _("User %(name)s deleted.") % {"name": user_name})
            return finish(request, reverse("console:user_list"))
    return render_confirm(
        request,
        title=_("Delete user %(name)s") % {"name": user.name},
        message=_(
            "Deleting a user is permanent. Remove its console password, access keys, groups and "
            "policies first."
        ),
        action_url=reverse("console:user_delete", args=[user.name]),
        cancel_url=detail_url,
        button=_("Delete user"),
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
            messages.success(request, _("Console password saved."))
            return finish(request, reverse("console:user_detail", args=[user.name]))
    context = {"user": user, "form": form, "create": create}
    title = _("Set console password") if create else _("Reset console password")
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
            messages.success(request, _("Console password removed."))
            return finish(request, reverse("console:user_detail", args=[user.name]))
    return render_confirm(
        request,
        title=_("Remove the console password of %(name)s") % {"name": user.name},
        message=_("The user will no longer be able to log on to the console."),
        action_url=reverse("console:user_password_delete", args=[user.name]),
        cancel_url=reverse("console:user_detail", args=[user.name]),
        button=_("Remove password"),
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
    form = ChooseForm(request.POST or None, choices=choices, label=_("Group"))
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
        "title": _("Add %(name)s to a group") % {"name": user.name},
        "empty": _("The user is already in every group of this account."),
    }
    return render_dialog(request, "console/users/_choose.html", context, title=context["title"])


@require_POST
def user_group_remove(request: ConsoleRequest, user_name: str, group_name: str) -> HttpResponse:
    user = get_user_or_404(request, user_name, action="ram:GetUser")
    group = get_group_or_404(request, group_name, action="ram:RemoveUserFromGroup")
    return removed_from_group(
        request, group, user, reverse("console:user_detail", args=[user.name])
    )


# --- access keys --------------------------------------------------------------------------------
# What is done to a user's keys once the caller may do it, for these views and for one's own keys
# on Security credentials (``credentials``): only who is authorized and the page to go back to
# (``back_url``) differ.


def key_limit_reason(key_count: int) -> str:
    """Why Create AccessKey is unavailable ("" while the user has fewer keys than the limit)."""
    most = services.limit("access_keys_per_user")
    if key_count < most:
        return ""
    return _("A user has at most %(most)s AccessKeys. Delete one to create another.") % {
        "most": most
    }


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
        messages.info(request, _("The AccessKey this form created has been deleted since."))
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
        request, "console/users/_access_key_created.html", context, title=_("AccessKey created")
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
        messages.error(request, _("Choose Active or Inactive."))
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
            messages.success(request, _("AccessKey %(id)s deleted.") % {"id": access_key_id})
            return finish(request, back_url)
    return render_confirm(
        request,
        title=_("Delete AccessKey %(id)s") % {"id": access_key_id},
        message=_("Programs that use this AccessKey will stop working at once."),
        action_url=action_url,
        cancel_url=back_url,
        button=_("Delete AccessKey"),
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
