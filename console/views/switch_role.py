"""Console: Switch Role, Switch Back to Logon Identity, and the Recent roles history."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from console.actor import client_ip, console_actor
from console.http import ConsoleRequest, denial_reason, get_role_or_404
from console.models import RecentRole
from console.switching import SESSION_KEY, remember_switch, return_to_logon_identity
from console.views.common import ask_first, search_query
from console.views.role_tabs import render_role_tab, tab_url
from iam.arns import role_arn
from iam.audit import record
from iam.auth import resolve_account
from iam.authz import explain_decision
from iam.errors import ServiceError
from iam.identity import Identity, IdentityKind
from iam.models import Role
from iam.services import revoke_role_session, revoke_role_sessions
from sts.assume import AssumeRoleDenied, AssumeRoleInput, assume_role
from sts.models import RoleSession
from sts.sessions import listed_standings

COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}\Z")
SESSIONS_LISTED = 50
ROLE_NAME_RE = re.compile(r"^[A-Za-z0-9.-]{1,64}\Z")


class ColorField(forms.CharField):
    """A colour for the identity banner, ``#7b3fe4``, or nothing."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=7, required=False, **kwargs)

    def clean(self, value: Any) -> str:
        color = super().clean(value)
        if color and not COLOR_RE.match(color):
            raise forms.ValidationError(_("Use a colour like #7b3fe4."))
        return color


class SwitchRoleForm(forms.Form):
    account = forms.CharField(
        label=gettext_lazy("Account"),
        max_length=32,
        help_text=gettext_lazy("Enterprise alias or 16-digit account ID"),
    )
    role_name = forms.CharField(label=gettext_lazy("Role name"), max_length=64)
    display_name = forms.CharField(
        label=gettext_lazy("Display name"), max_length=64, required=False
    )
    color = ColorField(label=gettext_lazy("Color"))

    def clean_role_name(self) -> str:
        value = self.cleaned_data["role_name"].strip()
        if not ROLE_NAME_RE.match(value):
            raise forms.ValidationError(_("Role names are letters, digits, dots and hyphens."))
        return value


def explained_again(error: ServiceError, logon: Identity | None) -> str:
    """The identity check's explanation in the page's language (the trail keeps it in English)."""
    decision = getattr(error, "decision", None)
    if decision is None or logon is None:
        return getattr(error, "explanation", "")
    return explain_decision(logon, decision, "sts:AssumeRole", getattr(error, "resource", ""))


def refusal_message(
    error: ServiceError, account_label: str, role_name: str, logon: Identity | None = None
) -> str:
    reason = getattr(error, "reason", "")
    named = {"name": role_name, "account": account_label}
    if reason == "root":
        return _(
            "Root identities cannot switch roles. Log on as a RAM user that holds "
            "sts:AssumeRole to switch."
        )
    if reason == "identity":
        refusal = _(
            "Your own policies do not allow sts:AssumeRole on role %(name)s of account %(account)s."
        )
        return f"{refusal % named} {explained_again(error, logon)}"
    if reason in ("not_found", "trust"):
        # The same words for both, so a refusal does not reveal whether the role exists.
        return (
            _("Role %(name)s of account %(account)s does not exist or does not trust you.") % named
        )
    return error.message


def for_ram_users(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Switch Role and its history belong to a RAM user who logged on; a browser signed in
    through single sign-on is already a role session, with no logon user to switch from."""

    @wraps(view)
    def checked(request: ConsoleRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.logon_identity.user is None:
            return render(request, "console/switch_role/federated.html", status=403)
        return view(request, *args, **kwargs)

    return checked


@for_ram_users
def switch_role(request: ConsoleRequest) -> HttpResponse:
    form = SwitchRoleForm(request.POST or None, initial=request.GET or None)
    if request.method == "POST" and form.is_valid():
        error = perform_switch(request, form.cleaned_data)
        if error is None:
            return redirect("console:overview")
        form.add_error(None, error)
    return render(
        request, "console/switch_role/page.html", {"form": form, "recent": recent_roles(request)}
    )


def perform_switch(request: ConsoleRequest, data: dict) -> str | None:
    """Switch, or return the refusal in words."""
    logon = request.logon_identity
    account_text = data["account"].strip().lower()
    account = resolve_account(account_text)
    account_id = (
        account.pk
        if account
        else (account_text if account_text.isdigit() and len(account_text) == 16 else "0" * 16)
    )
    account_label = account.alias if account else account_text
    if logon.kind is IdentityKind.ROOT:
        return refusal_message(
            AssumeRoleDenied("NoPermission", "", reason="root"), account_label, data["role_name"]
        )
    assert logon.user is not None
    session_name = logon.user.name if len(logon.user.name) >= 2 else f"{logon.user.name}-console"
    logon_left = int((request.session.get_expiry_date() - timezone.now()).total_seconds())
    if logon_left < 900:
        return _("Your logon session ends in less than 15 minutes; log on again to switch roles.")
    actor = console_actor(request).with_request(
        effective_arn=logon.arn, account_id=logon.account_id
    )
    try:
        issued = assume_role(
            logon,
            AssumeRoleInput(
                role_arn=role_arn(account_id, data["role_name"]), session_name=session_name
            ),
            actor=actor,
            context={
                "acs:SourceIp": client_ip(request),
                "acs:SecureTransport": request.is_secure(),
                "acs:CurrentTime": timezone.now(),
            },
            channel=RoleSession.Channel.CONSOLE,
            max_duration=logon_left,
        )
    except ServiceError as error:
        return refusal_message(error, account_label, data["role_name"], logon)
    role = issued.role
    remember_switch(
        request,
        {
            "session_id": issued.session.session_id,
            "session_name": session_name,
            "expires_at": int(issued.expiration.timestamp()),
            "role_name": role.name,
            "role_arn": role.arn,
            "session_arn": issued.session.arn,
            "account_id": role.account_id,
            "display_name": data.get("display_name", ""),
            "color": data.get("color", ""),
        },
    )
    record(
        actor.with_request(effective_arn=issued.session.arn),
        "console:SwitchRole",
        role.arn,
        account_id=role.account_id,
        details={
            "RoleSessionName": session_name,
            "SessionId": issued.session.session_id,
            "Expiration": issued.expiration.isoformat(),
        },
    )
    RecentRole.objects.update_or_create(
        user=logon.user,
        account_id=role.account_id,
        role_name__iexact=role.name,
        defaults={
            "role_name": role.name,
            "account_label": role.account.alias,
            "display_name": data.get("display_name", "") or "",
            "color": data.get("color", "") or "",
            "last_switched": timezone.now(),
        },
    )
    messages.success(
        request,
        _("You are now working as role %(name)s of account %(account)s.")
        % {"name": role.name, "account": role.account.alias},
    )
    return None


def recent_roles(request: ConsoleRequest) -> list[RecentRole]:
    user = request.logon_identity.user
    if user is None:
        return []
    entries = RecentRole.objects.filter(user=user)
    query = search_query(request.GET, 64)
    if query:
        entries = entries.filter(
            Q(role_name__icontains=query)
            | Q(display_name__icontains=query)
            | Q(account_label__icontains=query)
        )
    return list(entries)


@require_POST
def switch_back(request: ConsoleRequest) -> HttpResponse:
    if request.session.get(SESSION_KEY):
        return_to_logon_identity(
            request,
            "console:SwitchBack",
            _("You are back to your logon identity."),
            end_reason="switched back",
        )
    return redirect("console:overview")


def get_recent_role_or_404(request: ConsoleRequest, entry_id: int) -> RecentRole:
    """An entry of the logon user's own Recent roles; anyone else's is not found."""
    return get_object_or_404(RecentRole, pk=entry_id, user=request.logon_identity.user)


@require_POST
@for_ram_users
def switch_again(request: ConsoleRequest, entry_id: int) -> HttpResponse:
    entry = get_recent_role_or_404(request, entry_id)
    error = perform_switch(
        request,
        {
            "account": entry.account_id,
            "role_name": entry.role_name,
            "display_name": entry.display_name,
            "color": entry.color,
        },
    )
    if error:
        messages.error(request, error)
        return redirect("console:switch_role")
    return redirect("console:overview")


class RenameForm(forms.Form):
    display_name = forms.CharField(max_length=64, required=False)
    color = ColorField()


@require_POST
@for_ram_users
def rename_recent(request: ConsoleRequest, entry_id: int) -> HttpResponse:
    entry = get_recent_role_or_404(request, entry_id)
    form = RenameForm(request.POST)
    if form.is_valid():
        entry.display_name = form.cleaned_data["display_name"]
        entry.color = form.cleaned_data["color"]
        entry.save(update_fields=["display_name", "color"])
    else:
        messages.error(request, "; ".join(e for errors in form.errors.values() for e in errors))
    return redirect("console:switch_role")


@require_POST
@for_ram_users
def remove_recent(request: ConsoleRequest, entry_id: int) -> HttpResponse:
    entry = get_recent_role_or_404(request, entry_id)
    entry.delete()
    return redirect("console:switch_role")


# --- role sessions on role details: list and revoke ---------------------------------------------


@require_GET
def role_sessions(request: ConsoleRequest, role_name: str) -> HttpResponse:
    """The role's Sessions tab."""
    role = get_role_or_404(request, role_name, action="ram:GetRole")
    return render_role_tab(request, role, "sessions", sessions_context(request, role))


def sessions_context(request: ConsoleRequest, role: Role) -> dict[str, Any]:
    recent = RoleSession.objects.filter(role=role).select_related("caller_user__account")
    sessions = listed_standings(list(recent.order_by("-issued")[:SESSIONS_LISTED]), role)
    return {
        "role": role,
        "sessions": sessions,
        "active_count": sum(standing.active for _, standing in sessions),
        "revoke_denied": denial_reason(request, "ram:RevokeRoleSessions", role.arn),
    }


@require_POST
def revoke_sessions(request: ConsoleRequest, role_name: str) -> HttpResponse:
    role = get_role_or_404(request, role_name, action="ram:RevokeRoleSessions")
    question = ask_first(
        request,
        question=_(
            "Revoke every active session of role %(name)s? Whoever uses one is refused from their "
            "next request and has to switch to or assume the role again."
        )
        % {"name": role.name},
        button=_("Revoke active sessions"),
        cancel_url=tab_url(role, "sessions"),
    )
    if question:
        return question
    revoke_role_sessions(console_actor(request), role)
    messages.success(
        request, _("Every active session of role %(name)s was revoked.") % {"name": role.name}
    )
    return redirect("console:role_sessions", role_name=role.name)


@require_POST
def revoke_session(request: ConsoleRequest, role_name: str, session_id: str) -> HttpResponse:
    role = get_role_or_404(request, role_name, action="ram:RevokeRoleSessions")
    session = get_object_or_404(RoleSession, pk=session_id, role=role)
    question = ask_first(
        request,
        question=_("Revoke session %(session_name)s of role %(name)s?")
        % {"session_name": session.session_name, "name": role.name},
        button=_("Revoke session"),
        cancel_url=tab_url(role, "sessions"),
    )
    if question:
        return question
    standing = session.standing(timezone.now(), role.sessions_revoked_before)
    if not standing.active:
        messages.info(
            request,
            _("Session %(session_name)s is no longer active.")
            % {"session_name": session.session_name},
        )
    else:
        revoke_role_session(console_actor(request), session)
        messages.success(
            request,
            _("Session %(session_name)s was revoked.") % {"session_name": session.session_name},
        )
    return redirect("console:role_sessions", role_name=role.name)


urlpatterns = [
    path("switch-role/", switch_role, name="switch_role"),
    path("switch-back/", switch_back, name="switch_back"),
    path("switch-role/recent/<int:entry_id>/switch/", switch_again, name="switch_again"),
    path("switch-role/recent/<int:entry_id>/rename/", rename_recent, name="rename_recent"),
    path("switch-role/recent/<int:entry_id>/remove/", remove_recent, name="remove_recent"),
    path("roles/<str:role_name>/sessions/", role_sessions, name="role_sessions"),
    path("roles/<str:role_name>/revoke-sessions/", revoke_sessions, name="revoke_sessions"),
    path(
        "roles/<str:role_name>/sessions/<str:session_id>/revoke/",
        revoke_session,
        name="revoke_session",
    ),
]
