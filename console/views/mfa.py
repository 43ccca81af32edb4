"""Console: virtual MFA devices, and the logon's second step.

Logon
    After a correct password, ``session.logon`` asks ``second_step``: a user with a bound device
    (or one who must bind a device first: the account requires MFA for console logon, or the
    login profile says MFABindRequired) is not logged in yet. The session keeps only the pending
    user's id, for ``PENDING_SECONDS``, and ``logon_mfa`` asks for a code, or for a new device's
    two consecutive codes. Each code is taken once (``iam.mfa.verify_code``); a wrong one is a
    failed logon, in the audit trail and for the lockout and throttle (``iam.security``), and
    after ``MAX_CODE_ATTEMPTS`` of them the password has to be given again; a user locked
    meanwhile is sent back to the logon page. A right one logs the user on with ``MFA_PRESENT_KEY`` set in the session,
    which the identity middleware turns into ``acs:MFAPresent``.

Binding a device from the console
    The seed is made when the QR code is shown and held, encrypted, by the browser's session
    (``ENROLLMENT_KEY``, for ``ENROLLMENT_SECONDS``); the device row is created and bound in one
    step when two consecutive codes from it come back (``iam.mfa.enable_virtual_mfa_device``),
    so an abandoned page leaves nothing behind. A RAM user binds their own ("My MFA device") when
    the account lets users manage their MFA devices; an administrator binds one for a user from
    the user's details page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from console import federated, pending
from console.actor import client_ip, console_actor, logon_actor
from console.forms import add_service_error
from console.http import ConsoleRequest, denial_reason, get_user_or_404
from console.once import submit_once
from console.views.common import finish, render_confirm, render_dialog
from iam import mfa, security
from iam.audit import Actor, record
from iam.authz import require
from iam.errors import ServiceError
from iam.models import AuditEvent, User, VirtualMFADevice

PENDING_KEY = "mfa_pending_logon"
ENROLLMENT_KEY = "mfa_enrollment"
MFA_PRESENT_KEY = "mfa_present"
PENDING_SECONDS = 300
ENROLLMENT_SECONDS = 600
MAX_CODE_ATTEMPTS = 5
WRONG_CODE = gettext_lazy(
    "The code is wrong, has expired or was used already. Enter the app's current code."
)


class CodeField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        attrs = {"autocomplete": "one-time-code", "inputmode": "numeric", "size": "8"}
        super().__init__(max_length=6, min_length=6, widget=forms.TextInput(attrs), **kwargs)

    def clean(self, value: Any) -> str:
        code = super().clean((value or "").strip())
        if not code.isdigit():
            raise forms.ValidationError(_("Enter the six digits the app shows."))
        return code


class CodeForm(forms.Form):
    code = CodeField(label=gettext_lazy("MFA code"))


class BindForm(forms.Form):
    code1 = CodeField(label=gettext_lazy("First code"))
    code2 = CodeField(
        label=gettext_lazy("Second code"),
        help_text=gettext_lazy("The next code the app shows, after 30 s."),
    )


@dataclass(frozen=True)
class Enrollment:
    """A seed shown to be put in an authenticator app, before any device exists."""

    seed: str
    uri: str

    @property
    def qr_svg(self) -> SafeString:
        # segno writes the SVG from the code's modules alone: nothing in it comes from input.
        qr = segno.make(self.uri, error="m")
        return mark_safe(qr.svg_inline(scale=4, border=4, light="#fff"))  # noqa: S308


def enrollment_for(request: HttpRequest, user: User, *, fresh: bool = False) -> Enrollment:
    """The seed this session shows for ``user`` (the same on every reload while it lasts)."""
    now = int(timezone.now().timestamp())
    state = request.session.get(ENROLLMENT_KEY)
    if not fresh and state and state["user_id"] == user.pk and state["expires"] > now:
        seed = mfa.decrypt_seed(state["seed"])
    else:
        seed = mfa.new_seed()
        request.session[ENROLLMENT_KEY] = {
            "user_id": user.pk,
            "seed": mfa.encrypt_seed(seed),
            "expires": now + ENROLLMENT_SECONDS,
        }
    return Enrollment(seed, mfa.otpauth_uri(seed, user.logon_name))


def enroll(
    request: HttpRequest, actor: Actor, user: User, form: BindForm
) -> VirtualMFADevice | None:
    """Create and bind the device of the session's seed with the form's codes; None (the error
    on the form) when they are wrong or the seed has expired."""
    now = int(timezone.now().timestamp())
    state = request.session.get(ENROLLMENT_KEY)
    if not state or state["user_id"] != user.pk or state["expires"] <= now:
        form.add_error(None, _("The QR code expired. Scan the new one and enter its codes."))
        return None
    data = form.cleaned_data
    seed = mfa.decrypt_seed(state["seed"])
    try:
        device = mfa.enable_virtual_mfa_device(actor, user, seed, data["code1"], data["code2"])
    except ServiceError as error:
        add_service_error(form, error)
        return None
    request.session.pop(ENROLLMENT_KEY, None)
    return device


# --- logon: the second step ---------------------------------------------------------------------


def second_step(request: HttpRequest, user: User, next_url: str) -> HttpResponse | None:
    """Called by ``logon`` after a correct password: the redirect to the code page when the user
    must pass MFA, or None to log them on at once (without MFA)."""
    if mfa.device_of(user) is None and not mfa.must_bind_at_logon(user):
        request.session.pop(MFA_PRESENT_KEY, None)
        return None
    pending.hold(request, PENDING_KEY, user, PENDING_SECONDS, next=next_url, attempts=0)
    return redirect("console:logon_mfa")


@login_not_required
@require_http_methods(["GET", "POST"])
def logon_mfa(request: HttpRequest) -> HttpResponse:
    held = pending.held(request, PENDING_KEY)
    if held is None:
        messages.info(request, _("Log on with your password first."))
        return redirect("console:logon")
    user, state = held
    refusal = security.logon_refusal(user, client_ip(request))
    if refusal is not None:  # locked meanwhile (wrong codes count), or the address throttled
        return refused(request, user, refusal)
    if mfa.device_of(user) is None:
        return logon_bind(request, user, state)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if mfa.verify_code(user, form.cleaned_data["code"]):
            return complete_logon(request, user, state["next"])
        form.add_error("code", WRONG_CODE)
        return wrong_code(request, user, state) or render_logon_step(request, user, form)
    return render_logon_step(request, user, form)


def logon_bind(request: HttpRequest, user: User, state: dict) -> HttpResponse:
    """The second step of a user who must bind a device before the console lets them in."""
    if not mfa.must_bind_at_logon(user):  # no longer required since the password was given
        request.session.pop(PENDING_KEY, None)
        messages.info(request, _("Log on again."))
        return redirect("console:logon")
    form = BindForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if enroll(request, logon_actor(request, user), user, form) is not None:
            return complete_logon(request, user, state["next"])
        refused = wrong_code(request, user, state)
        if refused is not None:
            return refused
    context = {"form": form, "pending_user": user, "enrollment": enrollment_for(request, user)}
    return render(request, "console/mfa/logon_bind.html", context)


def render_logon_step(request: HttpRequest, user: User, form: CodeForm) -> HttpResponse:
    return render(request, "console/mfa/logon_code.html", {"form": form, "pending_user": user})


def wrong_code(request: HttpRequest, user: User, state: dict) -> HttpResponse | None:
    """A wrong code is a failed logon, audited and counted for the lockout and the address
    throttle as a wrong password is; after ``MAX_CODE_ATTEMPTS``, back to the password."""
    record_logon(request, user, success=False)
    security.record_failure(user, client_ip(request))
    state["attempts"] += 1
    if state["attempts"] >= MAX_CODE_ATTEMPTS:
        request.session.pop(PENDING_KEY, None)
        request.session.pop(ENROLLMENT_KEY, None)
        messages.error(request, _("Too many wrong codes. Log on again."))
        return redirect("console:logon")
    request.session[PENDING_KEY] = state
    return None


def refused(request: HttpRequest, user: User, refusal: security.Refusal) -> HttpResponse:
    for key in (PENDING_KEY, ENROLLMENT_KEY):
        request.session.pop(key, None)
    record_logon(request, user, success=False, error_code=refusal.code)
    messages.error(request, refusal.message)
    return redirect("console:logon")


def complete_logon(request: HttpRequest, user: User, next_url: str) -> HttpResponse:
    """What ``logon`` does after a correct password, once MFA has passed."""
    security.record_success(user)
    federated.end(request, f"signed in as {user.arn}")
    for key in (federated.SESSION_KEY, PENDING_KEY, ENROLLMENT_KEY):
        request.session.pop(key, None)
    login(request, user, backend="iam.auth.LogonNameBackend")
    request.session[MFA_PRESENT_KEY] = True
    User.objects.filter(pk=user.pk).update(last_login_date=timezone.now())
    request.identity = None  # type: ignore[attr-defined]
    record_logon(request, user, success=True)
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        next_url = ""
    return redirect(next_url or "console:overview")


def record_logon(
    request: HttpRequest, user: User, *, success: bool, error_code: str = "InvalidMFACode"
) -> None:
    """The logon's ``console:Logon`` event, as ``session.record_logon`` writes it, saying MFA
    was asked for (and, for a failure, why: a wrong code unless ``error_code`` says otherwise)."""
    record(
        logon_actor(request, user),
        "console:Logon",
        user.arn,
        account_id=user.account_id,
        result=AuditEvent.Result.SUCCESS if success else AuditEvent.Result.FAILURE,
        error_code="" if success else error_code,
        details={"MFA": True},
    )


# --- My MFA device ------------------------------------------------------------------------------


def own_user(request: ConsoleRequest) -> User | None:
    """The logon user, when they may manage their own device (root always; RAM users when the
    account's security preference lets them)."""
    user = request.logon_identity.user
    if user is None or user.is_root:
        return user
    preference = security.security_preference(user.account_id)
    return user if preference.allow_user_to_manage_mfa_devices else None


def own_actor(request: ConsoleRequest) -> Actor:
    """A change to the logon user's own device is the logon user's, even while switched."""
    logon = request.logon_identity
    return console_actor(request).with_request(effective_arn=logon.arn, account_id=logon.account_id)


@require_http_methods(["GET", "POST"])
@submit_once
def my_mfa(request: ConsoleRequest) -> HttpResponse:
    user = own_user(request)
    if user is None:
        return render(request, "console/mfa/not_allowed.html", status=403)
    device = mfa.device_of(user)
    if device is not None:
        return render_mine(request, user, device, CodeForm())
    form = BindForm(request.POST or None)
    submitted = request.method == "POST" and form.is_valid()
    if submitted and enroll(request, own_actor(request), user, form) is not None:
        messages.success(request, _("Your virtual MFA device is bound."))
        return redirect("console:my_mfa")
    return render_mine(request, user, None, form)


def render_mine(
    request: ConsoleRequest, user: User, device: VirtualMFADevice | None, form: forms.Form
) -> HttpResponse:
    context: dict[str, Any] = {"device": device, "form": form, "own": user}
    if device is None:
        context["enrollment"] = enrollment_for(request, user)
    return render(request, "console/mfa/mine.html", context)


@require_POST
def my_mfa_unbind(request: ConsoleRequest) -> HttpResponse:
    """Unbinding one's own device takes a current code from it."""
    user = own_user(request)
    if user is None:
        return render(request, "console/mfa/not_allowed.html", status=403)
    device = mfa.device_of(user)
    form = CodeForm(request.POST)
    if device is not None and form.is_valid() and mfa.verify_code(user, form.cleaned_data["code"]):
        mfa.disable_virtual_mfa_device(own_actor(request), user)
        messages.success(request, _("Your virtual MFA device is unbound and deleted."))
        return redirect("console:my_mfa")
    if device is None:
        return redirect("console:my_mfa")
    if form.is_valid():
        form.add_error("code", WRONG_CODE)
    return render_mine(request, user, device, form)


# --- a user's MFA device, for administrators ----------------------------------------------------


def user_mfa_context(request: ConsoleRequest, user: User) -> dict[str, Any]:
    """The MFA section of the user's details page: the device, and why binding or unbinding is
    denied ("" when allowed)."""
    device = mfa.device_of(user)
    bind = denial_reason(request, "ram:BindMFADevice", user.arn) or denial_reason(
        request, "ram:CreateVirtualMFADevice", mfa.device_arn(user.account_id, user.name)
    )
    unbind = denial_reason(request, "ram:UnbindMFADevice", user.arn)
    if device is not None and not unbind:
        unbind = denial_reason(request, "ram:DeleteVirtualMFADevice", device.serial_number)
    return {
        "mfa_device": device,
        "mfa_info_denied": denial_reason(request, "ram:GetUserMFAInfo", user.arn),
        "mfa_reasons": {"bind": bind, "unbind": unbind},
    }


@require_http_methods(["GET", "POST"])
@submit_once
def user_mfa_bind(request: ConsoleRequest, user_name: str) -> HttpResponse:
    """Bind a new virtual MFA device for the user (its QR code is scanned with the user's app)."""
    user = get_user_or_404(request, user_name, action="ram:BindMFADevice")
    require(
        request.identity,
        "ram:CreateVirtualMFADevice",
        mfa.device_arn(user.account_id, user.name),
    )
    detail_url = reverse("console:user_detail", args=[user.name])
    if mfa.device_of(user) is not None:  # the details page shows it, with Unbind
        return finish(request, detail_url)
    form = BindForm(request.POST or None)
    submitted = request.method == "POST" and form.is_valid()
    if submitted and enroll(request, console_actor(request), user, form) is not None:
        messages.success(
            request, _("A virtual MFA device is bound to %(name)s.") % {"name": user.name}
        )
        return finish(request, detail_url)
    context = {"user": user, "form": form, "enrollment": enrollment_for(request, user)}
    title = _("Bind a virtual MFA device to %(name)s") % {"name": user.name}
    return render_dialog(request, "console/mfa/_bind_dialog.html", context, title=title)


@require_http_methods(["GET", "POST"])
@submit_once
def user_mfa_unbind(request: ConsoleRequest, user_name: str) -> HttpResponse:
    user = get_user_or_404(request, user_name, action="ram:UnbindMFADevice")
    device = mfa.device_of(user)
    if device is None:
        raise Http404(_("The user has no MFA device."))
    require(request.identity, "ram:DeleteVirtualMFADevice", device.serial_number)
    detail_url = reverse("console:user_detail", args=[user.name])
    error = ""
    if request.method == "POST":
        try:
            mfa.disable_virtual_mfa_device(console_actor(request), user)
        except ServiceError as service_error:
            error = service_error.plain
        else:
            messages.success(
                request,
                _("The MFA device of %(name)s is unbound and deleted.") % {"name": user.name},
            )
            return finish(request, detail_url)
    return render_confirm(
        request,
        title=_("Unbind the MFA device of %(name)s") % {"name": user.name},
        message=_(
            "The device is unbound and deleted. The user logs on with a password alone until a "
            "new device is bound (or must bind one at the next logon, if the account requires "
            "MFA)."
        ),
        action_url=reverse("console:user_mfa_unbind", args=[user.name]),
        cancel_url=detail_url,
        button=_("Unbind"),
        error=error,
    )


urlpatterns = [
    path("logon/mfa/", logon_mfa, name="logon_mfa"),
    path("mfa/", my_mfa, name="my_mfa"),
    path("mfa/unbind/", my_mfa_unbind, name="my_mfa_unbind"),
    path("users/<str:user_name>/mfa/", user_mfa_bind, name="user_mfa_bind"),
    path("users/<str:user_name>/mfa/unbind/", user_mfa_unbind, name="user_mfa_unbind"),
]
