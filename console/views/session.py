"""Logon, log off, the overview page, health, and the one entry point at ``/``."""

from __future__ import annotations

from django import forms
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from console import federated
from console.actor import anonymous_actor, client_ip, console_actor, logon_actor
from console.http import ConsoleRequest, current_account
from console.once import forget_session
from console.switching import end_switched_role
from console.views.credentials import after_password
from console.views.mfa import second_step
from iam import security
from iam.audit import record
from iam.auth import find_identity
from iam.models import Account, AuditEvent, Group, Policy, Role, User


class LogonForm(forms.Form):
    logon_name = forms.CharField(label=gettext_lazy("Logon name"), max_length=200)
    password = forms.CharField(
        label=gettext_lazy("Password"), widget=forms.PasswordInput, max_length=128
    )


@csrf_exempt
@login_not_required
def root(request: HttpRequest) -> HttpResponse:
    """``/``: an RPC API call when it carries ``Action`` or ``x-acs-action``, else the console."""
    from iam.rpc import is_api_request
    from sts.front_door import api_entry

    if is_api_request(request):
        return api_entry(request)
    if getattr(request, "identity", None) is None:
        return redirect("console:logon")
    return overview(request)  # type: ignore[arg-type]


def overview(request: ConsoleRequest) -> HttpResponse:
    account = current_account(request)
    counts = {
        "users": User.objects.filter(account=account, kind=User.Kind.RAM).count(),
        "groups": Group.objects.filter(account=account).count(),
        "roles": Role.objects.filter(account=account).count(),
        "policies": Policy.objects.filter(account=account).count(),
    }
    return render(request, "console/overview.html", {"account": account, "counts": counts})


@login_not_required
def logon(request: HttpRequest) -> HttpResponse:
    next_url = request.GET.get("next") or request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        next_url = ""
    form = LogonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        name = form.cleaned_data["logon_name"]
        named = find_identity(name)
        # Lockout and throttle (iam.security): refused before the password is looked at.
        refusal = security.logon_refusal(named, client_ip(request))
        if refusal is not None:
            record_logon(request, named, success=False, attempted=name, error_code=refusal.code)
            form.add_error(None, refusal.message)
            return render(request, "console/logon.html", {"form": form, "next": next_url})
        user = authenticate(request, username=name, password=form.cleaned_data["password"])
        if user is not None:
            held = after_password(request, user, next_url)  # expiry, networks, a new password
            if held is not None:
                return held
            mfa_step = second_step(request, user, next_url)  # a code first, when MFA applies
            if mfa_step is not None:
                return mfa_step
            security.record_success(user)
            federated.end(request, f"signed in as {user.arn}")
            request.session.pop(federated.SESSION_KEY, None)
            login(request, user)
            User.objects.filter(pk=user.pk).update(last_login_date=timezone.now())
            request.identity = None  # type: ignore[attr-defined]
            record_logon(request, user, success=True)
            return redirect(next_url or "console:overview")
        security.record_failure(named, client_ip(request))  # lockout, throttle
        record_logon(request, named, success=False, attempted=name)
        form.add_error(None, _("The logon name or password is incorrect."))
    return render(request, "console/logon.html", {"form": form, "next": next_url})


def record_logon(
    request: HttpRequest,
    user: User | None,
    *,
    success: bool,
    attempted: str = "",
    error_code: str = "InvalidLogon",
) -> None:
    record(
        logon_actor(request, user) if user is not None else anonymous_actor(request),
        "console:Logon",
        user.arn if user is not None else "",
        account_id=user.account_id if user is not None else "",
        result=AuditEvent.Result.SUCCESS if success else AuditEvent.Result.FAILURE,
        error_code="" if success else error_code,
        details={} if success else {"LogonName": attempted[:200]},
    )


@require_POST
def logoff(request: ConsoleRequest) -> HttpResponse:
    end_switched_role(request, "logged off")
    federated.end(request, "logged off")
    forget_session(request)
    record(
        console_actor(request),
        "console:Logoff",
        request.logon_identity.arn,
        account_id=request.logon_identity.account_id,
    )
    logout(request)
    return redirect("console:logon")


@login_not_required
def health(request: HttpRequest) -> HttpResponse:
    """Liveness plus one indexed read, so a load balancer notices a lost database."""
    Account.objects.filter(pk="0").exists()
    return JsonResponse({"status": "ok"})
