"""Console: a user's own security credentials, and the logon step that asks for a new password.

Security credentials
    The logon user, as itself (not while switched to a role or signed in through an identity
    provider), changes its console password and manages its own AccessKeys. A RAM user may when
    its policies allow the action on its own ARN, or when the account's security preference
    grants it to users over themselves (``iam.security.require_on_user``); a root identity
    always may.

Logon
    ``session.logon`` calls ``after_password`` once the password is right, before any further
    step: a password that expired for good (hard expiry) or a network the account does not allow
    refuses the logon; a password that must change (the administrator asked for it, or it
    expired) parks the user in the session, for ``PENDING_SECONDS``, and ``logon_password`` asks
    for a new one. The user then logs on with it, passing MFA if that applies.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console import pending
from console.actor import client_ip, console_actor, logon_actor
from console.forms import add_service_error
from console.http import ConsoleRequest
from console.once import submit_once
from console.views import users
from iam import security
from iam.audit import record
from iam.errors import ServiceError
from iam.identity import IdentityKind
from iam.models import AuditEvent, User

PENDING_KEY = "password_change_pending"
PENDING_SECONDS = 600

# --- forms --------------------------------------------------------------------------------------


class NewPasswordForm(forms.Form):
    """A new password, twice. The account's policy is the service's to check (it knows the
    user); its refusal lands on ``password``."""

    password = users.PasswordField(label=gettext_lazy("New password"), max_length=128)
    confirm = forms.CharField(
        label=gettext_lazy("New password again"),
        max_length=128,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("password") and data.get("confirm") and data["password"] != data["confirm"]:
            self.add_error("confirm", _("The two passwords differ."))
        return data


class ChangePasswordForm(NewPasswordForm):
    old_password = forms.CharField(
        label=gettext_lazy("Current password"),
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    field_order = ["old_password", "password", "confirm"]


# --- logon: a new password first ----------------------------------------------------------------


def logon_url(next_url: str) -> str:
    url = reverse("console:logon")
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def after_password(request: HttpRequest, user: User, next_url: str) -> HttpResponse | None:
    """Called by ``logon`` right after a correct password (the user's failed logons are forgotten
    only once the logon completes, MFA included: a right password does not reset the count of
    wrong codes); the logon is refused (a redirect to the logon page saying why), or held for a new
    password (a redirect to ``logon_password``), or None: go on. The session is given the
    account's login session duration here; logging on keeps it."""
    refusal = security.password_refusal(user, client_ip(request))
    if refusal is not None:
        record(
            logon_actor(request, user),
            "console:Logon",
            user.arn,
            account_id=user.account_id,
            result=AuditEvent.Result.FAILURE,
            error_code=refusal.code,
        )
        messages.error(request, refusal.message)
        return redirect(logon_url(next_url))
    request.session.set_expiry(security.session_seconds(user))
    if not security.password_change_required(user):
        return None
    pending.hold(request, PENDING_KEY, user, PENDING_SECONDS, next=next_url)
    return redirect("console:logon_password")


def pending_change(request: HttpRequest) -> tuple[User, dict[str, Any]] | None:
    """The logon held for a new password, while the user still has to choose one."""
    held = pending.held(request, PENDING_KEY)
    if held is not None and not security.password_change_required(held[0]):
        request.session.pop(PENDING_KEY, None)
        return None
    return held


@login_not_required
@require_http_methods(["GET", "POST"])
def logon_password(request: HttpRequest) -> HttpResponse:
    held = pending_change(request)
    if held is None:
        messages.info(request, _("Log on with your password first."))
        return redirect("console:logon")
    user, state = held
    form = NewPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            security.change_own_password(
                logon_actor(request, user), user, form.cleaned_data["password"], old_password=None
            )
        except ServiceError as error:
            add_service_error(form, error)
        else:
            request.session.pop(PENDING_KEY, None)
            messages.success(request, _("Your password is changed. Log on with the new password."))
            return redirect(logon_url(state["next"]))
    context = {
        "form": form,
        "pending_user": user,
        "expired": security.password_expired(user),
        "policy": security.password_policy(user.account_id),
    }
    return render(request, "console/credentials/logon_password.html", context)


# --- security credentials -----------------------------------------------------------------------


def own_user(request: ConsoleRequest, *, action: str = "") -> User:
    """The logon user acting as itself, when it may do ``action`` to itself (403 naming it
    otherwise); not found while it acts as a role."""
    identity = request.identity
    if identity.kind not in (IdentityKind.USER, IdentityKind.ROOT) or identity.user is None:
        raise Http404(_("Switch back to your logon identity to manage your own credentials."))
    if action:
        security.require_on_user(identity, action, identity.user)
    return identity.user


def denial(request: ConsoleRequest, action: str, user: User) -> str:
    """Why ``action`` on the user itself is denied ("" when allowed), for disabled buttons."""
    denied = security.denial_on_user(request.identity, action, user)
    return denied.explanation if denied is not None else ""


@require_GET
def my_credentials(request: ConsoleRequest) -> HttpResponse:
    user = own_user(request)
    reasons = {
        "password": denial(request, "ram:ChangePassword", user),
        "list_keys": denial(request, "ram:ListAccessKeys", user),
        "create_key": denial(request, "ram:CreateAccessKey", user),
        "update_key": denial(request, "ram:UpdateAccessKey", user),
        "delete_key": denial(request, "ram:DeleteAccessKey", user),
    }
    access_keys = [] if reasons["list_keys"] else list(user.access_keys.order_by("created"))
    key_count = user.access_keys.count() if reasons["list_keys"] else len(access_keys)
    context = {
        "own": user,
        "reasons": reasons,
        "access_keys": access_keys,
        "key_limit": users.key_limit_reason(key_count),
        "password_expires": security.password_expires(user),
    }
    return render(request, "console/credentials/page.html", context)


@require_http_methods(["GET", "POST"])
def my_password(request: ConsoleRequest) -> HttpResponse:
    user = own_user(request, action="ram:ChangePassword")
    form = ChangePasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            security.change_own_password(
                console_actor(request), user, data["password"], old_password=data["old_password"]
            )
        except ServiceError as error:
            add_service_error(form, error)
        else:
            update_session_auth_hash(request, user)  # this logon stays; others end
            messages.success(request, _("Your console password is changed."))
            return redirect("console:my_credentials")
    context = {"form": form, "own": user, "policy": security.password_policy(user.account_id)}
    return render(request, "console/credentials/password.html", context)


# One's own AccessKeys: the administrator's steps (``users``), authorized on oneself.


def show_own_key_again(request: ConsoleRequest, outcome: dict[str, str]) -> HttpResponse:
    user = own_user(request, action="ram:CreateAccessKey")
    return users.show_key_again(request, user, outcome, reverse("console:my_credentials"))


@require_POST
@submit_once(replay=show_own_key_again)
def my_access_key_create(request: ConsoleRequest) -> HttpResponse:
    user = own_user(request, action="ram:CreateAccessKey")
    return users.create_key(request, user, reverse("console:my_credentials"))


@require_POST
def my_access_key_status(request: ConsoleRequest, access_key_id: str) -> HttpResponse:
    user = own_user(request, action="ram:UpdateAccessKey")
    access_key = users.get_access_key_or_404(user, access_key_id)
    return users.set_key_status(request, access_key, reverse("console:my_credentials"))


@require_http_methods(["GET", "POST"])
@submit_once
def my_access_key_delete(request: ConsoleRequest, access_key_id: str) -> HttpResponse:
    user = own_user(request, action="ram:DeleteAccessKey")
    access_key = users.get_access_key_or_404(user, access_key_id)
    return users.delete_key(
        request,
        access_key,
        action_url=reverse("console:my_access_key_delete", args=[access_key.access_key_id]),
        back_url=reverse("console:my_credentials"),
    )


urlpatterns = [
    path("logon/password/", logon_password, name="logon_password"),
    path("security-credentials/", my_credentials, name="my_credentials"),
    path("security-credentials/password/", my_password, name="my_password"),
    path("security-credentials/access-keys/", my_access_key_create, name="my_access_key_create"),
    path(
        "security-credentials/access-keys/<str:access_key_id>/status/",
        my_access_key_status,
        name="my_access_key_status",
    ),
    path(
        "security-credentials/access-keys/<str:access_key_id>/delete/",
        my_access_key_delete,
        name="my_access_key_delete",
    ),
]
