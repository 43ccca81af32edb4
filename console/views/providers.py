"""Console: identity providers (Alibaba Cloud's SSO Management → Role-based SSO). The account's
SAML and OIDC providers: list, create, details (with our service provider's facts for the IdP's
administrator and the roles that trust the provider), edit and delete.

Every view authorizes first (``get_provider_or_404`` / ``require_account_action``) on the
provider's ARN (``acs:ram::<uid>:saml-provider/<name>``), validates the form's shape, makes one
``iam.providers`` call and responds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from console import trust_words
from console.actor import console_actor
from console.http import (
    ConsoleRequest,
    account_resource,
    current_account,
    denial_reason,
    require_account_action,
)
from console.once import submit_once
from console.provider_forms import (
    OIDCProviderCreateForm,
    OIDCSettingsForm,
    SAMLProviderCreateForm,
    SAMLProviderEditForm,
    add_provider_error,
)
from console.views.common import finish, render_confirm
from iam import arns, providers
from iam.audit import Actor
from iam.authz import require
from iam.errors import ServiceError
from iam.models import Account, OIDCProvider, Role, SAMLProvider
from sts import saml

Provider = SAMLProvider | OIDCProvider
EXPIRY_WARNING = timedelta(days=30)
MISSING = "No such identity provider in this account."

# --- the two kinds ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderKind:
    slug: str  # in URLs: "saml" or "oidc"
    label: str  # "SAML" or "OIDC"
    model: type[SAMLProvider] | type[OIDCProvider]
    resource: str  # the ARN's resource type: "saml-provider" or "oidc-provider"
    noun: str  # in action names: "SAMLProvider" or "OIDCProvider"

    def action(self, verb: str) -> str:
        """``ram:GetSAMLProvider``; ``action("List")`` is ``ram:ListSAMLProviders``."""
        return f"ram:{verb}{self.noun}{'s' if verb == 'List' else ''}"


SAML = ProviderKind("saml", "SAML", SAMLProvider, arns.SAML_PROVIDER, "SAMLProvider")
OIDC = ProviderKind("oidc", "OIDC", OIDCProvider, arns.OIDC_PROVIDER, "OIDCProvider")
KINDS = {SAML.slug: SAML, OIDC.slug: OIDC}


def kind_of(provider: Provider) -> ProviderKind:
    return SAML if isinstance(provider, SAMLProvider) else OIDC


def detail_url(provider: Provider) -> str:
    return reverse("console:provider_detail", args=[kind_of(provider).slug, provider.name])


def get_provider_or_404(
    request: ConsoleRequest, provider_type: str, provider_name: str, *, verb: str
) -> Provider:
    """The current account's provider of that kind and name (in any case): 404 when it has none,
    ``AccessDenied`` when ``ram:<verb><Kind>`` on it is denied."""
    kind = KINDS.get(provider_type)
    if kind is None:
        raise Http404(MISSING)
    found = kind.model.objects.filter(
        account=current_account(request), name__iexact=provider_name
    ).first()
    if found is None:
        raise Http404(MISSING)
    require(request.identity, kind.action(verb), found.arn)
    return found


# --- certificates -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    subject: str
    expires: datetime
    status: str  # "expired", "expiring" (within EXPIRY_WARNING) or ""


def expiry_status(moment: datetime, now: datetime) -> str:
    if moment <= now:
        return "expired"
    return "expiring" if moment - now <= EXPIRY_WARNING else ""


def signing_certificates(provider: SAMLProvider, now: datetime) -> list[Certificate]:
    """The provider's signing certificates (stored as PEM by ``iam.providers``), earliest
    expiry first."""
    found = []
    for pem in provider.certificates:
        try:
            certificate = x509.load_pem_x509_certificate(pem.encode("ascii"))
        except ValueError:
            continue
        expires = certificate.not_valid_after_utc
        found.append(
            Certificate(certificate.subject.rfc4514_string(), expires, expiry_status(expires, now))
        )
    return sorted(found, key=lambda certificate: certificate.expires)


# --- list ---------------------------------------------------------------------------------------


@dataclass
class ProviderRow:
    kind: ProviderKind
    provider: Provider
    identifier: str  # a SAML provider's entity id, an OIDC provider's issuer URL
    expiry: Certificate | None = None  # the SAML certificate that expires first


def provider_rows(kind: ProviderKind, account: Account, now: datetime) -> list[ProviderRow]:
    """All of the account's providers of one kind (at most ``providers.MAX_PROVIDERS``: no pages)."""
    rows = []
    for provider in kind.model.objects.filter(account=account).order_by("name"):
        if isinstance(provider, SAMLProvider):
            certificates = signing_certificates(provider, now)
            expiry = certificates[0] if certificates else None
            rows.append(ProviderRow(kind, provider, provider.entity_id, expiry))
        else:
            rows.append(ProviderRow(kind, provider, provider.issuer_url))
    return rows


@require_GET
def provider_list(request: ConsoleRequest) -> HttpResponse:
    account, now = current_account(request), timezone.now()
    rows: list[ProviderRow] = []
    hidden: dict[str, str] = {}
    for kind in KINDS.values():
        reason = denial_reason(
            request, kind.action("List"), account_resource(request, kind.resource)
        )
        if reason:
            hidden[kind.label] = reason
        else:
            rows += provider_rows(kind, account, now)
    if len(hidden) == len(KINDS):
        require_account_action(request, SAML.action("List"), SAML.resource)  # raises: 403
    context = {
        "rows": rows,
        "hidden": hidden,
        "create_reasons": {
            kind.slug: denial_reason(
                request, kind.action("Create"), account_resource(request, kind.resource)
            )
            for kind in KINDS.values()
        },
    }
    return render(request, "console/providers/list.html", context)


# --- create -------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@submit_once
def saml_provider_create(request: ConsoleRequest) -> HttpResponse:
    require_account_action(request, SAML.action("Create"), SAML.resource)
    form = SAMLProviderCreateForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            provider = providers.create_saml_provider(
                console_actor(request),
                current_account(request),
                form.cleaned_data["name"],
                metadata=form.cleaned_data["metadata"],
                description=form.cleaned_data["description"],
            )
        except ServiceError as error:
            add_provider_error(form, error)
        else:
            messages.success(
                request, _("SAML identity provider %(name)s created.") % {"name": provider.name}
            )
            return finish(request, detail_url(provider))
    return render(request, "console/providers/create.html", {"form": form, "kind": SAML})


@require_http_methods(["GET", "POST"])
@submit_once
def oidc_provider_create(request: ConsoleRequest) -> HttpResponse:
    require_account_action(request, OIDC.action("Create"), OIDC.resource)
    form = OIDCProviderCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            provider = providers.create_oidc_provider(
                console_actor(request),
                current_account(request),
                data["name"],
                issuer_url=data["issuer_url"],
                client_ids=data["client_ids"],
                fingerprints=data["fingerprints"],
                issuance_limit_hours=data["issuance_limit_hours"],
                description=data["description"],
            )
        except ServiceError as error:
            add_provider_error(form, error)
        else:
            messages.success(
                request, _("OIDC identity provider %(name)s created.") % {"name": provider.name}
            )
            return finish(request, detail_url(provider))
    return render(request, "console/providers/create.html", {"form": form, "kind": OIDC})


# --- details ------------------------------------------------------------------------------------


def trusting_roles(provider: Provider) -> list[Role]:
    """The account's roles whose trust policy allows the provider's users (``Principal.Federated``
    names it in an Allow statement)."""
    kind = kind_of(provider)
    # Provider names hold no character JSON escapes, so the name is in the stored text as is.
    candidates = Role.objects.filter(
        account_id=provider.account_id, trust_policy__icontains=provider.name
    ).order_by("name")
    return [
        role
        for role in candidates
        if any(
            actor.kind == "federated"
            and not actor.denied
            and actor.provider_type == kind.label
            and actor.account_id == provider.account_id
            and actor.name.lower() == provider.name.lower()
            for actor in trust_words.trusted_actors(role.trust_policy)
        )
    ]


@require_GET
def provider_detail(
    request: ConsoleRequest, provider_type: str, provider_name: str
) -> HttpResponse:
    provider = get_provider_or_404(request, provider_type, provider_name, verb="Get")
    kind = kind_of(provider)
    roles_denied = denial_reason(request, "ram:ListRoles", account_resource(request, "role"))
    context = {
        "provider": provider,
        "kind": kind,
        "certificates": (
            signing_certificates(provider, timezone.now())
            if isinstance(provider, SAMLProvider)
            else []
        ),
        "sp": {
            "entity_id": saml.sp_entity_id(),
            "acs_url": saml.acs_url(),
            "metadata_url": saml.METADATA_PATH,
        },
        "roles": [] if roles_denied else trusting_roles(provider),
        "roles_denied": roles_denied,
        "update_reason": denial_reason(request, kind.action("Update"), provider.arn),
        "delete_reason": denial_reason(request, kind.action("Delete"), provider.arn),
    }
    return render(request, "console/providers/detail.html", context)


# --- edit and delete ----------------------------------------------------------------------------


def save_settings(actor: Actor, provider: Provider, data: dict) -> None:
    if isinstance(provider, SAMLProvider):
        providers.update_saml_provider(
            actor, provider, metadata=data["metadata"], description=data["description"]
        )
    else:
        providers.update_oidc_provider(
            actor,
            provider,
            client_ids=data["client_ids"],
            fingerprints=data["fingerprints"],
            issuance_limit_hours=data["issuance_limit_hours"],
            description=data["description"],
        )


def settings_form(
    provider: Provider, request: ConsoleRequest
) -> SAMLProviderEditForm | OIDCSettingsForm:
    data = request.POST if request.method == "POST" else None
    if isinstance(provider, SAMLProvider):
        return SAMLProviderEditForm(
            data, request.FILES or None, initial={"description": provider.description}
        )
    initial = {
        "client_ids": "\n".join(provider.client_ids),
        "fingerprints": "\n".join(provider.fingerprints),
        "issuance_limit_hours": provider.issuance_limit_hours,
        "description": provider.description,
    }
    return OIDCSettingsForm(data, initial=initial)


@require_http_methods(["GET", "POST"])
def provider_edit(request: ConsoleRequest, provider_type: str, provider_name: str) -> HttpResponse:
    provider = get_provider_or_404(request, provider_type, provider_name, verb="Update")
    form = settings_form(provider, request)
    if request.method == "POST" and form.is_valid():
        try:
            save_settings(console_actor(request), provider, form.cleaned_data)
        except ServiceError as error:
            provider.refresh_from_db()  # the service may have read new metadata into it
            add_provider_error(form, error)
        else:
            messages.success(
                request, _("Identity provider %(name)s saved.") % {"name": provider.name}
            )
            return finish(request, detail_url(provider))
    context = {"form": form, "provider": provider, "kind": kind_of(provider)}
    return render(request, "console/providers/edit.html", context)


@require_http_methods(["GET", "POST"])
@submit_once
def provider_delete(
    request: ConsoleRequest, provider_type: str, provider_name: str
) -> HttpResponse:
    provider = get_provider_or_404(request, provider_type, provider_name, verb="Delete")
    error = ""
    if request.method == "POST":
        try:
            if isinstance(provider, SAMLProvider):
                providers.delete_saml_provider(console_actor(request), provider)
            else:
                providers.delete_oidc_provider(console_actor(request), provider)
        except ServiceError as service_error:
            error = service_error.plain
        else:
            messages.success(
                request, _("Identity provider %(name)s deleted.") % {"name": provider_name}
            )
            return finish(request, reverse("console:provider_list"))
    return render_confirm(
        request,
        title=_("Delete identity provider %(name)s") % {"name": provider.name},
        message=_(
            "Its users can no longer sign in to roles that trust it; the roles themselves stay. "
            "This cannot be undone."
        ),
        action_url=reverse("console:provider_delete", args=[kind_of(provider).slug, provider.name]),
        cancel_url=detail_url(provider),
        button=_("Delete identity provider"),
        error=error,
    )


urlpatterns = [
    path("identity-providers/", provider_list, name="provider_list"),
    # "new" is no provider type, so no provider's page is shadowed by these.
    path("identity-providers/new/saml/", saml_provider_create, name="saml_provider_create"),
    path("identity-providers/new/oidc/", oidc_provider_create, name="oidc_provider_create"),
    path(
        "identity-providers/<str:provider_type>/<str:provider_name>/",
        provider_detail,
        name="provider_detail",
    ),
    path(
        "identity-providers/<str:provider_type>/<str:provider_name>/edit/",
        provider_edit,
        name="provider_edit",
    ),
    path(
        "identity-providers/<str:provider_type>/<str:provider_name>/delete/",
        provider_delete,
        name="provider_delete",
    ),
]
