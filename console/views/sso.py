"""Role-based single sign-on into the console: SAML (our ACS) and OIDC (authorization code with
PKCE), and our SAML service provider's metadata.

Both end the same way: the identity provider's proof is verified (``sts.saml`` / ``sts.oidc``),
the user picks a role when several are offered, and the role session is issued through
AssumeRole's code path (``sts.federation``) as a console session (``console.federated``).
Whatever goes wrong is shown on the sign-in error page with the reason, with status 401 or 400;
nothing the identity provider or the browser sends produces a 500.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from csp.decorators import csp_update
from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from lxml import etree

from console import federated
from console.actor import anonymous_actor
from iam import errors
from iam.arns import ROLE_ARN_RE
from iam.identity import FederatedInfo
from iam.models import Account, OIDCProvider, Role, SAMLProvider
from iam.policy import PolicyError, parse_policy
from sts import oidc, saml
from sts.federation import (
    assume_role_with_oidc,
    assume_role_with_saml,
    audit_refusal,
    spend_assertion,
    verified_assertion,
)
from sts.models import RoleSession

PENDING_KEY = "sso_pending"
OIDC_KEY = "oidc_authorization"
CALLBACK_PATH = "/sso/oidc/callback"


def failed(request: HttpRequest, reason: str, status: int = 401) -> HttpResponse:
    return render(request, "console/sso/failed.html", {"reason": reason}, status=status)


def request_context(request: HttpRequest) -> dict:
    return {
        "acs:SourceIp": request.META.get("REMOTE_ADDR", ""),
        "acs:SecureTransport": request.is_secure(),
        "acs:CurrentTime": timezone.now(),
    }


# --- SAML ---------------------------------------------------------------------------------------


@login_not_required
@require_GET
def saml_metadata(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(saml.sp_metadata(), content_type="application/samlmetadata+xml")
    response["Content-Disposition"] = 'attachment; filename="ram-console-sp-metadata.xml"'
    return response


def claimed_provider_arns(root: etree._Element) -> list[str]:
    """The provider ARNs a response's Role attribute names (read before verifying, only to know
    whose certificates to verify it with; each provider then verifies it on its own)."""
    arns = set()
    for value in root.iter(f"{{{saml.SAML}}}AttributeValue"):
        claim = saml.read_role(saml.text_of(value))
        if claim.provider_arn:
            arns.add(claim.provider_arn.lower())
    return sorted(arns)


def registered_providers(arns: list[str]) -> list[SAMLProvider]:
    found = []
    for arn in arns:
        account_id, _, name = arn.removeprefix("acs:ram::").partition(":saml-provider/")
        provider = SAMLProvider.objects.filter(account_id=account_id, name__iexact=name).first()
        if provider is not None:
            found.append(provider)
    return found


@csrf_exempt  # the identity provider posts here from its own site; the assertion is the proof
@login_not_required
@require_POST
def saml_acs(request: HttpRequest) -> HttpResponse:
    encoded = request.POST.get("SAMLResponse", "")
    if not encoded:
        return failed(request, _("No SAML response was posted."), 400)
    try:
        _document, root = saml.check_document(encoded)
    except errors.ServiceError as error:
        return failed(request, error.message)
    claimed = claimed_provider_arns(root)
    if not claimed:
        return failed(request, _("The SAML response names no role of an identity provider."))
    candidates = registered_providers(claimed)
    if not candidates:
        # Answered as a provider that did not sign it (as AssumeRoleWithSAML answers): whether
        # another account registered a provider of that name is not for a browser to learn.
        return failed(request, saml.not_signed_by_provider().message)
    actor = anonymous_actor(request)
    offers: list[Offer] = []
    problem = ""
    for provider in candidates:
        try:
            assertion = verified_assertion(provider, encoded, actor=actor)
            spend_assertion(provider, assertion)
        except errors.ServiceError as error:
            problem = error.message
            continue
        offers.extend(saml_offers(provider, assertion))
    if not offers:
        return failed(request, problem or _("The SAML response names no role you can use."))
    return offer_roles(request, offers)


def saml_offers(provider: SAMLProvider, assertion: saml.VerifiedAssertion) -> list[Offer]:
    offers = []
    for claim in assertion.roles:
        if claim.provider_arn.lower() != provider.arn.lower():
            continue
        match = ROLE_ARN_RE.match(claim.role_arn)
        if match is None or match.group(1) != provider.account_id:
            continue
        offers.append(
            Offer(
                kind="saml",
                provider_id=provider.pk,
                role_arn=claim.role_arn,
                role_name=match.group(2),
                account_id=provider.account_id,
                assertion=saml_state(assertion),
            )
        )
    return offers


def saml_state(assertion: saml.VerifiedAssertion) -> dict:
    return {
        "assertion_id": assertion.assertion_id,
        "issuer": assertion.issuer,
        "subject": assertion.subject,
        "subject_type": assertion.subject_type,
        "recipient": assertion.recipient,
        "audience": assertion.audience,
        "roles": [[claim.role_arn, claim.provider_arn] for claim in assertion.roles],
        "session_name": assertion.session_name,
        "session_duration": assertion.session_duration,
        "not_on_or_after": assertion.not_on_or_after.isoformat(),
    }


def saml_assertion(state: dict) -> saml.VerifiedAssertion:
    return saml.VerifiedAssertion(
        assertion_id=state["assertion_id"],
        issuer=state["issuer"],
        subject=state["subject"],
        subject_type=state["subject_type"],
        recipient=state["recipient"],
        audience=state["audience"],
        roles=tuple(saml.RoleClaim(role, provider) for role, provider in state["roles"]),
        session_name=state["session_name"],
        session_duration=state["session_duration"],
        not_on_or_after=datetime.fromisoformat(state["not_on_or_after"]),
    )


# --- picking a role -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    """A role a verified sign-in may use: kept in the session until the user picks one."""

    kind: str  # "saml" or "oidc"
    provider_id: int
    role_arn: str
    role_name: str
    account_id: str
    assertion: dict | None = None  # SAML: what the verified assertion said
    token: dict | None = None  # OIDC: the verified ID token's claims


def offer_roles(request: HttpRequest, offers: list[Offer]) -> HttpResponse:
    if len(offers) == 1:
        return sign_in(request, offers[0])
    request.session[PENDING_KEY] = [offer.__dict__ for offer in offers]
    return redirect("console:sso_pick")


class PickForm(forms.Form):
    choice = forms.IntegerField(min_value=0)


@login_not_required
def pick_role(request: HttpRequest) -> HttpResponse:
    pending = request.session.get(PENDING_KEY) or []
    offers = [Offer(**entry) for entry in pending]
    if not offers:
        return redirect("console:logon")
    form = PickForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and form.cleaned_data["choice"] < len(offers):
        request.session.pop(PENDING_KEY, None)
        return sign_in(request, offers[form.cleaned_data["choice"]])
    aliases = dict(
        Account.objects.filter(pk__in={offer.account_id for offer in offers}).values_list(
            "pk", "alias"
        )
    )
    choices = [
        (index, offer, aliases.get(offer.account_id, "")) for index, offer in enumerate(offers)
    ]
    return render(request, "console/sso/pick.html", {"choices": choices})


def sign_in(request: HttpRequest, offer: Offer) -> HttpResponse:
    try:
        if offer.kind == "saml":
            provider = SAMLProvider.objects.get(pk=offer.provider_id)
            assert offer.assertion is not None
            if timezone.now() >= datetime.fromisoformat(offer.assertion["not_on_or_after"]):
                return failed(
                    request, _("Your sign-in at the identity provider expired; sign in again.")
                )
            signed_in = assume_role_with_saml(
                provider_arn=provider.arn,
                role_arn=offer.role_arn,
                encoded_response="",
                actor=anonymous_actor(request),
                context=request_context(request),
                channel=RoleSession.Channel.CONSOLE,
                provider=provider,
                assertion=saml_assertion(offer.assertion),
            )
            issued, subject = signed_in.issued, signed_in.assertion.subject
        else:
            provider = OIDCProvider.objects.get(pk=offer.provider_id)
            assert offer.token is not None
            verified = oidc_token(offer.token)
            signed_in_oidc = assume_role_with_oidc(
                provider_arn=provider.arn,
                role_arn=offer.role_arn,
                token="",
                actor=anonymous_actor(request),
                context=request_context(request),
                channel=RoleSession.Channel.CONSOLE,
                provider=provider,
                verified=verified,
            )
            issued, subject = signed_in_oidc.issued, verified.subject
    except (SAMLProvider.DoesNotExist, OIDCProvider.DoesNotExist):
        return failed(request, _("The identity provider was deleted while you signed in."))
    except errors.ServiceError as error:
        reason = _("You cannot use role %(name)s: %(reason)s") % {
            "name": offer.role_name,
            "reason": error.message,
        }
        return failed(request, reason, 403)
    federated.start(
        request, issued, FederatedInfo(provider.arn, offer.kind, provider.name, subject)
    )
    return redirect("console:overview")


# --- OIDC -----------------------------------------------------------------------------------------


class OidcSignInForm(forms.Form):
    account = forms.CharField(label=gettext_lazy("Enterprise alias or account ID"), max_length=64)
    provider = forms.CharField(label=gettext_lazy("Identity provider name"), max_length=128)


# Chromium holds every redirect a form submission is sent through to the form's page's
# form-action: this form's answer leads on to the provider's issuer, pinned to HTTPS, on a host
# nobody may learn before naming the provider.
@csp_update({"form-action": "https:"})
@login_not_required
def oidc_sign_in(request: HttpRequest) -> HttpResponse:
    """Where a federated user names the account and its OIDC provider."""
    form = OidcSignInForm(request.GET if "account" in request.GET else None)
    if form.is_bound and form.is_valid():
        provider = find_oidc_provider(form.cleaned_data["account"], form.cleaned_data["provider"])
        if provider is not None:
            return redirect("console:oidc_start", provider.account_id, provider.name)
        form.add_error(None, _("No such identity provider in that account."))
    return render(request, "console/sso/oidc_sign_in.html", {"form": form})


def find_oidc_provider(account: str, name: str) -> OIDCProvider | None:
    providers = OIDCProvider.objects.filter(name__iexact=name)
    if account.isdigit():
        return providers.filter(account_id=account).first()
    return providers.filter(account__alias=account.lower()).first()


def callback_url() -> str:
    return f"{settings.SITE_URL}{CALLBACK_PATH}"


@login_not_required
@require_GET
def oidc_start(request: HttpRequest, account_id: str, provider_name: str) -> HttpResponse:
    provider = OIDCProvider.objects.filter(
        account_id=account_id, name__iexact=provider_name
    ).first()
    if provider is None:
        raise Http404(_("No such identity provider."))
    client_id = provider.client_ids[0]
    try:
        authorization = oidc.start_authorization(
            provider, client_id=client_id, redirect_uri=callback_url()
        )
    except errors.ServiceError as error:
        return failed(request, error.message, 502)
    request.session[OIDC_KEY] = {
        "provider_id": provider.pk,
        "state": authorization.state,
        "nonce": authorization.nonce,
        "verifier": authorization.verifier,
        "client_id": client_id,
    }
    return redirect(authorization.url)


@login_not_required
@require_GET
def oidc_callback(request: HttpRequest) -> HttpResponse:
    started = request.session.pop(OIDC_KEY, None)
    if not started or request.GET.get("state") != started["state"]:
        return failed(request, _("This sign-in was not started here, or it was used already."), 400)
    if request.GET.get("error"):
        refusal = request.GET["error"][:200]
        return failed(request, _("The identity provider refused: %(error)s.") % {"error": refusal})
    provider = OIDCProvider.objects.filter(pk=started["provider_id"]).first()
    if provider is None:
        return failed(request, _("The identity provider was deleted while you signed in."))
    actor = anonymous_actor(request)
    try:
        token = oidc.exchange_code(
            provider,
            code=request.GET.get("code", ""),
            redirect_uri=callback_url(),
            client_id=started["client_id"],
            verifier=started["verifier"],
        )
        verified = oidc.verify_token(token, provider, now=timezone.now())
        if verified.claims.get("nonce") != started["nonce"]:
            raise oidc.refused("Invalid", "The ID token was not issued for this sign-in (nonce).")
    except errors.ServiceError as error:
        audit_refusal(actor, "sts:AssumeRoleWithOIDC", provider, error)
        return failed(request, error.message)
    offers = oidc_offers(provider, verified)
    if not offers:
        return failed(
            request, _("No role of this account can be used through this identity provider."), 403
        )
    return offer_roles(request, offers)


def oidc_token_state(verified: oidc.VerifiedToken) -> dict:
    return {
        "issuer": verified.issuer,
        "subject": verified.subject,
        "audience": verified.audience,
        "issued_at": verified.issued_at.isoformat(),
        "expires_at": verified.expires_at.isoformat(),
        "claims": verified.claims,
    }


def oidc_token(state: dict) -> oidc.VerifiedToken:
    return oidc.VerifiedToken(
        issuer=state["issuer"],
        subject=state["subject"],
        audience=state["audience"],
        issued_at=datetime.fromisoformat(state["issued_at"]),
        expires_at=datetime.fromisoformat(state["expires_at"]),
        claims=state["claims"],
    )


def oidc_offers(provider: OIDCProvider, verified: oidc.VerifiedToken) -> list[Offer]:
    """The role the token's role claim names (``OIDC_ROLE_CLAIM``: a role ARN or name), or else
    every role of the provider's account whose trust policy names the provider."""
    state = oidc_token_state(verified)
    roles = Role.objects.filter(account_id=provider.account_id).order_by("name")
    claimed = verified.claims.get(settings.OIDC_ROLE_CLAIM)
    if isinstance(claimed, str) and claimed:
        match = ROLE_ARN_RE.match(claimed)
        name = match.group(2) if match and match.group(1) == provider.account_id else claimed
        roles = roles.filter(name__iexact=name)
    else:
        roles = [role for role in roles if names_provider(role, provider.arn)]
    return [
        Offer("oidc", provider.pk, role.arn, role.name, role.account_id, token=state)
        for role in roles
    ]


def names_provider(role: Role, provider_arn: str) -> bool:
    try:
        parsed = parse_policy(role.trust_policy, kind="trust")
    except PolicyError:
        return False
    wanted = provider_arn.casefold()
    return any(
        wanted in (name.casefold() for name in statement.principals.federated)
        for statement in parsed.statements
        if statement.principals is not None
    )


urlpatterns = [
    path("sso/saml/metadata", saml_metadata, name="saml_metadata"),
    path("sso/saml/acs", saml_acs, name="saml_acs"),
    path("sso/roles/", pick_role, name="sso_pick"),
    path("sso/oidc/", oidc_sign_in, name="oidc_sign_in"),
    path("sso/oidc/callback", oidc_callback, name="oidc_callback"),
    path("sso/oidc/<str:account_id>/<str:provider_name>/", oidc_start, name="oidc_start"),
]
