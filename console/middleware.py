"""Console middleware: attach the effective identity, and turn denials into 403 pages (each one
audited as a refusal)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.template.response import TemplateResponse
from django.utils import translation
from django.utils.translation import gettext as _

from console.actor import console_actor
from console.views.mfa import MFA_PRESENT_KEY
from iam.arns import resource_account
from iam.audit import record
from iam.authz import AccessDenied, explain_decision
from iam.errors import database_busy
from iam.identity import identity_for_user
from iam.models import AuditEvent
from iam.rpc import is_api_request


class ClientAddressMiddleware:
    """Behind ``TRUSTED_PROXIES`` proxies, the client's address is the one the outermost of them
    appended to ``X-Forwarded-For`` (counting from the right: entries further left are whatever
    the client sent). ``REMOTE_ADDR`` then holds it, for the audit trail, ``acs:SourceIp`` and the
    logon throttle alike. With no proxy configured the header is ignored."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.proxies = settings.TRUSTED_PROXIES

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.proxies:
            forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
            hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
            if len(hops) >= self.proxies:
                try:
                    client = ipaddress.ip_address(hops[-self.proxies])
                except ValueError:
                    client = None
                if client is not None:
                    request.META["REMOTE_ADDR"] = str(client)
        return self.get_response(request)


class ConsoleLanguage(LocaleMiddleware):
    """The console's language: the one the logged-on user picked (``console.views.language``),
    else Django's choice (the language cookie, then the browser's Accept-Language). The API at
    ``/`` speaks English whatever it is asked, and skips the choosing (it is on every call's
    path: no session, no header parsing)."""

    def process_request(self, request: HttpRequest) -> None:
        if request.path == "/" and is_api_request(request):
            translation.activate(settings.LANGUAGE_CODE)
            request.LANGUAGE_CODE = settings.LANGUAGE_CODE
            return
        super().process_request(request)
        user = getattr(request, "user", None)
        language = getattr(user, "language", "") if user is not None else ""
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if request.path == "/" and response.has_header("Content-Language"):
            return response  # an API answer (sts.front_door)
        return super().process_response(request, response)


class IdentityMiddleware:
    """Sets ``request.identity``: the logged-on user's identity, or None when anonymous.

    While a RAM user has switched to a role, the switch-role layer replaces it with the role
    session (see ``console.switching``). A browser signed in through single sign-on has no user:
    its identity is its federated role session (``console.federated``).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.identity = None  # type: ignore[attr-defined]
        request.logon_identity = None  # type: ignore[attr-defined]
        request.federated = None  # type: ignore[attr-defined]
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            # acs:MFAPresent: this logon passed MFA (``console.views.mfa``).
            mfa_present = bool(request.session.get(MFA_PRESENT_KEY))
            identity = identity_for_user(user, mfa_present=mfa_present)
            request.logon_identity = identity  # type: ignore[attr-defined]
            request.identity = identity  # type: ignore[attr-defined]
            from console.switching import apply_switched_role

            response = apply_switched_role(request)
            if response is not None:
                return response
        elif hasattr(request, "session"):
            from console import federated

            response = federated.apply(request)
            if response is not None:
                return response
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, AccessDenied):
            return access_denied_response(request, exception)
        if database_busy(exception):
            return busy_response(request)
        return None


class SignedInRequired(LoginRequiredMiddleware):
    """Django's ``LoginRequiredMiddleware``, for which a federated console session (no user, an
    identity all the same) is signed in too. It runs after ``IdentityMiddleware`` has set the
    identity (view middleware follows every middleware's request phase)."""

    def process_view(self, request, view_func, view_args, view_kwargs):  # type: ignore[no-untyped-def]
        if getattr(request, "identity", None) is not None:
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


def access_denied_response(request: HttpRequest, denied: AccessDenied) -> HttpResponse:
    audit_denial(request, denied)
    response = TemplateResponse(
        request,
        "console/403.html",
        {"denied": denied, "action": denied.action, "resource": denied.resource},
        status=403,
    )
    return response.render()


def audit_denial(request: HttpRequest, denied: AccessDenied) -> None:
    """A console 403 goes to the trail as the API's refusals do (``sts.front_door``): Failure,
    NoPermission, the action and resource, in the trail of the resource's account (the current
    account's for a resource of no account, such as a system policy)."""
    owner = resource_account(denied.resource) or ""
    record(
        console_actor(request),
        denied.action,
        denied.resource,
        account_id=owner if owner.isdigit() else "",
        result=AuditEvent.Result.FAILURE,
        error_code="NoPermission",
        # Not the page's path: it holds whatever the caller typed (another tenant's names too),
        # which the trail would then show to this account's auditors.
        details={
            "Method": request.method or "",
            "explanation": english_explanation(request, denied),
        },
    )


def english_explanation(request: HttpRequest, denied: AccessDenied) -> str:
    """The trail keeps one language whoever reads it: the explanation as the API words it."""
    identity = getattr(request, "identity", None)
    if identity is None:
        return denied.explanation
    with translation.override("en"):
        return explain_decision(identity, denied.decision, denied.action, denied.resource)


def busy_response(request: HttpRequest) -> HttpResponse:
    """A 503 for a write that lost a race for a database lock: it changed nothing, so the page
    asks for another try (htmx shows the message above the page instead of swapping it in)."""
    # The console's words for iam.errors.BUSY_MESSAGE (the API keeps it in English).
    message = _("The service is busy with other changes; nothing was changed. Please try again.")
    context = {"message": message}
    if getattr(request, "htmx", False):
        response = TemplateResponse(request, "console/_busy.html", context, status=503)
        response["HX-Retarget"] = "#notices"
        response["HX-Reswap"] = "innerHTML"
    else:
        response = TemplateResponse(request, "console/503.html", context, status=503)
    response["Retry-After"] = "1"
    return response.render()
