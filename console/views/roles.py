"""Console: roles. The Role Management list, the create-role wizard, role details and delete.

Every view authorizes first (``get_role_or_404`` / ``require_account_action``), validates the
form's shape, makes one service call and responds: the fragment to htmx, the page otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from django.contrib import messages
from django.db.models import Count
from django.db.models.functions import Lower
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from console import trust_words
from console.actor import console_actor
from console.http import (
    ConsoleRequest,
    account_resource,
    current_account,
    denial_reason,
    get_role_or_404,
    require_account_action,
)
from console.once import remember, submit_once
from console.views import authorize
from console.views.common import (
    PAGE_SIZE,
    finish,
    fragment_or_page,
    page_number,
    search_query,
    without_nul,
)
from console.views.providers import KINDS, ProviderKind
from console.views.role_tabs import TAB_BY_SLUG, render_role_tab, tab_url
from console.views.tags import remember_tags, tagged
from iam import services
from iam.auth import resolve_account
from iam.errors import ServiceError
from iam.models import Account, OIDCProvider, PolicyAttachment, Role, SAMLProvider, Service
from iam.policy import PolicyError, parse_policy, policy_warnings
from sts import saml

MAX_QUERY_LENGTH = 64

# --- helpers ------------------------------------------------------------------------------------


def role_detail_url(role: Role) -> str:
    return reverse("console:role_detail", args=[role.name])


# --- Role Management ----------------------------------------------------------------------------


@dataclass
class RoleRow:
    role: Role
    role_type: str
    service_role: bool
    trusted: list[str]
    attach_reason: str
    delete_reason: str


def role_rows(
    request: ConsoleRequest, roles: list[Role], reason: Callable[[str, str], str]
) -> list[RoleRow]:
    """Rows of the list: trust in words with every trusted account's alias found in ONE query."""
    account_id = current_account(request).pk
    actors = {role.pk: trust_words.trusted_actors(role.trust_policy) for role in roles}
    aliases = trust_words.account_aliases(
        account_id for found in actors.values() for account_id in trust_words.account_ids(found)
    )
    return [
        RoleRow(
            role=role,
            role_type=trust_words.role_type(actors[role.pk]),
            service_role=trust_words.is_service_role(actors[role.pk]),
            trusted=[
                trust_words.actor_words(actor, account_id, aliases)
                for actor in actors[role.pk]
                if not actor.denied
            ],
            attach_reason=reason("ram:AttachPolicyToRole", role.arn),
            delete_reason=reason("ram:DeleteRole", role.arn),
        )
        for role in roles
    ]


@require_http_methods(["GET"])
def role_list(request: ConsoleRequest) -> HttpResponse:
    resource = require_account_action(request, "ram:ListRoles", "role")
    query = search_query(request.GET, MAX_QUERY_LENGTH)
    page = page_number(request.GET.get("page"))
    roles = Role.objects.filter(account=current_account(request))
    if query:
        roles = roles.filter(name__icontains=query)
    roles, tag_filter = tagged(request, roles)
    offset = (page - 1) * PAGE_SIZE
    found = list(
        roles.annotate(policy_count=Count("attachments")).order_by(Lower("name"))[
            offset : offset + PAGE_SIZE + 1
        ]
    )
    remember_tags(request, found[:PAGE_SIZE])

    def reason(action: str, resource: str) -> str:
        return denial_reason(request, action, resource)

    context = {
        "rows": role_rows(request, found[:PAGE_SIZE], reason),
        "query": query,
        "tag_filter": tag_filter,
        "page": page,
        "previous_page": page - 1 if page > 1 else None,
        "next_page": page + 1 if len(found) > PAGE_SIZE else None,
        "create_reason": reason("ram:CreateRole", resource),
    }
    return fragment_or_page(
        request,
        "console/roles/_table.html",
        "console/roles/list.html",
        context,
        target="role-table",
    )


# --- delete -------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def role_delete(request: ConsoleRequest, role_name: str) -> HttpResponse:
    role = get_role_or_404(request, role_name, action="ram:DeleteRole")
    policy_count = role.attachments.count()
    error = ""
    if request.method == "POST":
        try:
            services.delete_role(console_actor(request), role)
        except ServiceError as service_error:
            error = service_error.plain
        else:
            messages.success(request, _("Role %(name)s deleted.") % {"name": role_name})
            return finish(request, reverse("console:role_list"))
    context = {"role": role, "policy_count": policy_count, "error": error}
    return fragment_or_page(
        request, "console/roles/_delete_dialog.html", "console/roles/delete.html", context
    )


# --- the create-role wizard ---------------------------------------------------------------------

WIZARD_STEPS = [
    gettext_lazy("Select role type"),
    gettext_lazy("Select trusted actors"),
    gettext_lazy("Configure role"),
    gettext_lazy("Finish"),
]


@dataclass
class WizardState:
    """What the wizard has been told so far; every step carries it in hidden fields."""

    role_type: str = ""  # "user", "service" or "idp" (the users of an identity provider)
    trust_kind: str = "current"  # "current" or "other"
    trusted_account: str = ""
    service: str = ""
    idp_type: str = "saml"  # "saml" or "oidc"
    idp_name: str = ""
    oidc_aud: str = ""
    oidc_sub: str = ""
    trust_policy: str = ""
    generated_policy: str = ""
    role_name: str = ""
    description: str = ""
    max_session_duration: str = "3600"

    @classmethod
    def from_post(cls, data: Any) -> WizardState:
        defaults = cls()
        return cls(
            **{
                f.name: without_nul(data.get(f.name, getattr(defaults, f.name)))
                for f in fields(cls)
            }
        )


STEP_FIELDS = {
    1: {"role_type"},
    2: {
        "trust_kind",
        "trusted_account",
        "service",
        "idp_type",
        "idp_name",
        "oidc_aud",
        "oidc_sub",
        "trust_policy",
        "generated_policy",
    },
    3: {"role_name", "description", "max_session_duration"},
}


@dataclass
class TrustChoice:
    """The trust policy the wizard will save, or the errors that prevent it.

    ``generated`` is what the choices of step 2 (role type, current or other account, the account
    typed, the service) give. ``document`` is what will be saved: ``generated`` until the person
    edits the JSON, their text from then on (``edited``), whatever the choices say.
    """

    document: str = ""
    generated: str = ""
    edited: bool = False
    account_words: str = ""  # the other account chosen, in words: "Account company2 (1234…)"
    errors: dict[str, str] = field(default_factory=dict)


def resolve_trusted_account(value: str) -> tuple[str, str]:
    """The account id and its words, for an id or an alias; raises ValueError with the reason."""
    value = without_nul(value).strip()
    if not value:
        raise ValueError(_("Enter the trusted account's 16-digit ID or its enterprise alias."))
    if value.isdigit() and len(value) != 16:
        raise ValueError(_("An account ID has 16 digits."))
    account = resolve_account(value) if len(value) <= 64 else None
    if account is not None:
        return account.pk, _("Account %(alias)s (%(id)s)") % {
            "alias": account.alias,
            "id": account.pk,
        }
    if value.isdigit():
        return value, _("Account %(id)s (not hosted here)") % {"id": value}
    raise ValueError(
        _("No account has the alias “%(alias)s”. Enter its 16-digit account ID instead.")
        % {"alias": value[:64]}
    )


def wizard_trust(state: WizardState, account: Account) -> TrustChoice:
    choice = generated_trust(state, account)
    if edited_trust_policy(state):
        problem = trust_policy_problem(state.trust_policy)
        choice.document = state.trust_policy
        choice.edited = True
        choice.errors = {"trust_policy": problem} if problem else {}
    return choice


def generated_trust(state: WizardState, account: Account) -> TrustChoice:
    """The trust policy the choices give: one service, an identity provider's users, another
    account's root or this one's."""
    if state.role_type == "idp":
        return federated_trust(state, account)
    if state.role_type == "service":
        if not Service.objects.filter(name=state.service).exists():
            return TrustChoice(
                errors={"service": _("Choose the service that will assume this role.")}
            )
        document = trust_words.trust_policy_document(service=state.service)
        return TrustChoice(document=document, generated=document)
    if state.trust_kind != "other":
        document = trust_words.trust_policy_document(account_id=account.pk)
        return TrustChoice(document=document, generated=document)
    try:
        account_id, words = resolve_trusted_account(state.trusted_account)
    except ValueError as error:
        return TrustChoice(errors={"trusted_account": str(error)})
    document = trust_words.trust_policy_document(account_id=account_id)
    return TrustChoice(document=document, generated=document, account_words=words)


MAX_OIDC_SUBJECT_LENGTH = 255


def provider_kind(state: WizardState) -> ProviderKind:
    return KINDS.get(state.idp_type) or KINDS["saml"]


def wizard_provider(state: WizardState, account: Account) -> SAMLProvider | OIDCProvider | None:
    """The identity provider chosen in step 2, if it is one of this account's."""
    return provider_kind(state).model.objects.filter(account=account, name=state.idp_name).first()


def federated_trust(state: WizardState, account: Account) -> TrustChoice:
    """The users of one of the account's identity providers: SAML assertions addressed to our
    ACS URL; OIDC tokens issued to one of the provider's client IDs, for one subject if given."""
    provider = wizard_provider(state, account)
    if provider is None:
        return TrustChoice(errors={"idp_name": _("Choose an identity provider of this account.")})
    if isinstance(provider, SAMLProvider):
        conditions = {"saml:recipient": saml.acs_url()}
    elif state.oidc_aud not in provider.client_ids:
        return TrustChoice(
            errors={"oidc_aud": _("Choose one of %(name)s's client IDs.") % {"name": provider.name}}
        )
    else:
        conditions = {"oidc:aud": state.oidc_aud}
        subject = state.oidc_sub.strip()
        if len(subject) > MAX_OIDC_SUBJECT_LENGTH:
            too_long = _("A subject has at most %(count)s characters.") % {
                "count": MAX_OIDC_SUBJECT_LENGTH
            }
            return TrustChoice(errors={"oidc_sub": too_long})
        if subject:
            conditions["oidc:sub"] = subject
    document = trust_words.trust_policy_document(federated=provider.arn, conditions=conditions)
    return TrustChoice(document=document, generated=document)


def edited_trust_policy(state: WizardState) -> bool:
    """Did the person change the generated document? (If not, regenerate it from the choices.)"""
    return bool(state.trust_policy.strip()) and normalized(state.trust_policy) != normalized(
        state.generated_policy
    )


def normalized(text: str) -> str:
    return "".join(text.split())


def trust_policy_problem(text: str) -> str:
    """The PolicyError message (with line and column for JSON syntax errors), or ""."""
    try:
        parse_policy(text, kind="trust")
    except PolicyError as error:
        return error.message
    return ""


def wizard_errors(state: WizardState, account: Account, target: int) -> tuple[int, dict[str, str]]:
    """Validate every step before ``target``; the first step with errors and those errors."""
    if target >= 2 and state.role_type not in ("user", "service", "idp"):
        return 1, {"role_type": _("Choose User role or Service role.")}
    if target >= 3:
        trust = wizard_trust(state, account)
        if trust.errors:
            return 2, trust.errors
    return target, {}


def trust_context(document: str, account: Account, *, edited: bool = False) -> dict[str, Any]:
    """The trust policy a role gets (step 3) or got (finish): who it trusts and the document."""
    return {
        "trust_sentences": trust_words.trust_sentences(document, account.pk),
        "trust_document": trust_words.pretty_document(document),
        "trust_edited": edited,
    }


def render_wizard(
    request: ConsoleRequest,
    state: WizardState,
    step: int,
    errors: dict[str, str] | None = None,
    created: Role | None = None,
    status: int = 200,
) -> HttpResponse:
    account = current_account(request)
    provider_choices = wizard_providers(request, state, account, step)
    trust = wizard_trust(state, account) if step >= 2 and state.role_type else TrustChoice()
    if step >= 2 and not trust.edited:
        # An unedited editor follows the choices: show, and remember, what they give now.
        state.trust_policy = state.generated_policy = trust.generated
    visible = STEP_FIELDS.get(step, set())
    context = {
        "step": step,
        "steps": WIZARD_STEPS,
        "state": state,
        "errors": errors or {},
        "hidden": [
            (f.name, getattr(state, f.name)) for f in fields(state) if f.name not in visible
        ],
        "services": Service.objects.all(),
        **provider_choices,
        "account_words": trust.account_words,
        "account": account,
        "created": created,
    }
    if step == 3:
        context.update(trust_context(trust.document, account, edited=trust.edited))
    if created is not None:
        context.update(trust_context(created.trust_policy, account))
        context["attach_reason"] = denial_reason(request, "ram:AttachPolicyToRole", created.arn)
        context["created_policies"] = list(
            PolicyAttachment.objects.filter(role=created).select_related("policy")
        )
        context["created_policy_names"] = ", ".join(
            attachment.policy.name for attachment in context["created_policies"]
        )
    return fragment_or_page(
        request, "console/roles/_wizard.html", "console/roles/new.html", context, status=status
    )


def wizard_providers(
    request: ConsoleRequest, state: WizardState, account: Account, step: int
) -> dict[str, Any]:
    """Step 1 says whether the account has an identity provider to trust. Step 2 offers those of
    the chosen type (when the person may list them) and settles the choice on one of them and,
    for OIDC, on one of its client IDs."""
    if step == 1:
        return {
            "has_providers": any(
                kind.model.objects.filter(account=account).exists() for kind in KINDS.values()
            )
        }
    if step != 2 or state.role_type != "idp":
        return {}
    kind = provider_kind(state)
    denied = denial_reason(request, kind.action("List"), account_resource(request, kind.resource))
    found = [] if denied else list(kind.model.objects.filter(account=account).order_by("name"))
    if found and state.idp_name not in [provider.name for provider in found]:
        state.idp_name = found[0].name
    chosen = next((provider for provider in found if provider.name == state.idp_name), None)
    client_ids = chosen.client_ids if isinstance(chosen, OIDCProvider) else []
    if client_ids and state.oidc_aud not in client_ids:
        state.oidc_aud = client_ids[0]
    return {
        "idp_kind": kind,
        "idp_providers": found,
        "idp_list_denied": denied,
        "idp_client_ids": client_ids,
        "acs_url": saml.acs_url(),
    }


@require_http_methods(["GET", "POST"])
@submit_once
def role_create(request: ConsoleRequest) -> HttpResponse:
    require_account_action(request, "ram:CreateRole", "role")
    account = current_account(request)
    if request.method == "GET":
        created = Role.objects.filter(
            account=account, name__iexact=request.GET.get("created", "")[:64]
        ).first()
        return render_wizard(request, WizardState(), 4 if created else 1, created=created)
    state = WizardState.from_post(request.POST)
    target = page_number(request.POST.get("step"))
    step, errors = wizard_errors(state, account, min(target, 4))
    if errors or step < 4:
        return render_wizard(request, state, step, errors)
    try:
        role = services.create_role(
            console_actor(request),
            account,
            state.role_name.strip(),
            trust_policy=wizard_trust(state, account).document,
            description=state.description,
            max_session_duration=state.max_session_duration,
        )
    except ServiceError as error:
        name = error.field or "form"
        return render_wizard(
            request, state, 2 if name == "trust_policy" else 3, {name: error.plain}
        )
    finished = f"{reverse('console:role_create')}?created={role.name}"
    if request.htmx:
        remember(request, url=finished)  # the htmx answer is a page, not a redirect to remember
        return render_wizard(request, state, 4, created=role)
    return HttpResponseRedirect(finished)


@require_POST
def role_check_account(request: ConsoleRequest) -> HttpResponse:
    """As-you-type words for the Trusted account ID field."""
    require_account_action(request, "ram:CreateRole", "role")
    try:
        _account_id, words = resolve_trusted_account(request.POST.get("trusted_account", ""))
    except ValueError as error:
        return render(request, "console/roles/_check.html", {"error": str(error)})
    return render(request, "console/roles/_check.html", {"ok": words})


@require_POST
def role_check_name(request: ConsoleRequest) -> HttpResponse:
    """As-you-type check of the role name: the naming rules, then whether it is taken."""
    require_account_action(request, "ram:CreateRole", "role")
    name = request.POST.get("role_name", "").strip()
    try:
        services.check_name(name, "RoleName", services.ROLE_NAME_RE, 64)
    except ServiceError as error:
        return render(request, "console/roles/_check.html", {"error": error.plain})
    taken = Role.objects.filter(account=current_account(request), name__iexact=name).exists()
    if taken:
        taken_error = _("This role name is taken.")
        return render(request, "console/roles/_check.html", {"error": taken_error})
    return render(request, "console/roles/_check.html", {"ok": _("Available.")})


@require_POST
def role_check_trust(request: ConsoleRequest) -> HttpResponse:
    """As-you-type check of a trust policy document. Reads nothing but the posted text."""
    text = request.POST.get("trust_policy", "")
    problem = trust_policy_problem(text)
    warnings = [] if problem else policy_warnings(text, kind="trust")
    context = {"error": problem, "warnings": warnings}
    return render(request, "console/roles/_trust_check.html", context)


@require_POST
def role_wizard_trust(request: ConsoleRequest) -> HttpResponse:
    """Step 2's JSON editor again after a change of the choices, showing what they now give.
    An edited editor is left alone (204, which htmx does not swap): the person's text wins."""
    require_account_action(request, "ram:CreateRole", "role")
    state = WizardState.from_post(request.POST)
    trust = wizard_trust(state, current_account(request))
    if trust.edited:
        return HttpResponse(status=204)
    editor = WizardState(trust_policy=trust.generated, generated_policy=trust.generated)
    return render(request, "console/roles/_trust_editor.html", {"state": editor, "errors": {}})


# --- role details -------------------------------------------------------------------------------


def basic_context(request: ConsoleRequest, role: Role, **extra: Any) -> dict[str, Any]:
    actors = trust_words.trusted_actors(role.trust_policy)
    return {
        "role_type": trust_words.role_type(actors),
        "update_reason": denial_reason(request, "ram:UpdateRole", role.arn),
        "errors": {},
        "settings_form": {
            "description": role.description,
            "max_session_duration": role.max_session_duration,
        },
        **extra,
    }


def permissions_context(request: ConsoleRequest, role: Role, **extra: Any) -> dict[str, Any]:
    return {
        "attachments": list(PolicyAttachment.objects.filter(role=role).select_related("policy")),
        "attach_reason": denial_reason(request, "ram:AttachPolicyToRole", role.arn),
        "detach_reason": denial_reason(request, "ram:DetachPolicyFromRole", role.arn),
        **extra,
    }


def trust_context_for(request: ConsoleRequest, role: Role, **extra: Any) -> dict[str, Any]:
    account_id = current_account(request).pk
    actors = trust_words.trusted_actors(role.trust_policy)
    aliases = trust_words.account_aliases(trust_words.account_ids(actors))
    return {
        "trust_sentences": [
            trust_words.actor_sentence(actor, account_id, aliases) for actor in actors
        ],
        "trust_document": trust_words.pretty_document(role.trust_policy),
        "trust_text": trust_words.pretty_document(role.trust_policy),
        "update_reason": denial_reason(request, "ram:UpdateRole", role.arn),
        "errors": {},
        **extra,
    }


TAB_CONTEXTS: dict[str, Callable[..., dict[str, Any]]] = {
    "basic": basic_context,
    "permissions": permissions_context,
    "trust": trust_context_for,
}


@require_http_methods(["GET"])
def role_detail(request: ConsoleRequest, role_name: str) -> HttpResponse:
    """The Basic information tab (the role's page)."""
    role = get_role_or_404(request, role_name, action="ram:GetRole")
    editing = request.GET.get("edit") == "basic"
    return render_role_tab(
        request, role, "basic", basic_context(request, role, editing_basic=editing)
    )


@require_http_methods(["GET"])
def role_permissions(request: ConsoleRequest, role_name: str) -> HttpResponse:
    role = get_role_or_404(request, role_name, action="ram:GetRole")
    return render_role_tab(request, role, "permissions", permissions_context(request, role))


@require_http_methods(["GET"])
def role_trust(request: ConsoleRequest, role_name: str) -> HttpResponse:
    role = get_role_or_404(request, role_name, action="ram:GetRole")
    return render_role_tab(request, role, "trust", trust_context_for(request, role))


@require_POST
def role_update(request: ConsoleRequest, role_name: str) -> HttpResponse:
    """Basic information: description and maximum session duration."""
    role = get_role_or_404(request, role_name, action="ram:UpdateRole")
    form = {
        "description": without_nul(request.POST.get("description", "")),
        "max_session_duration": request.POST.get("max_session_duration", "").strip()[:32],
    }
    errors = {}
    if not form["max_session_duration"]:
        errors["max_session_duration"] = _("Enter a number of seconds from 3600 to 43200.")
    else:
        try:
            services.update_role(
                console_actor(request),
                role,
                description=form["description"],
                max_session_duration=form["max_session_duration"],
            )
        except ServiceError as error:
            role.refresh_from_db()
            field_name = {"new_description": "description"}.get(error.field or "", error.field)
            errors[field_name or "form"] = error.plain
    if errors:
        return render_detail_part(
            request, role, "basic", errors=errors, settings_form=form, editing_basic=True
        )
    return updated_response(request, role, "basic", _("Basic information saved."))


@require_POST
def role_update_trust(request: ConsoleRequest, role_name: str) -> HttpResponse:
    role = get_role_or_404(request, role_name, action="ram:UpdateRole")
    text = without_nul(request.POST.get("trust_policy", ""))
    problem = trust_policy_problem(text)
    if not problem:
        try:
            services.update_role(console_actor(request), role, trust_policy=text)
        except ServiceError as error:
            problem = error.plain
    if problem:
        role.refresh_from_db()
        errors = {"trust_policy": problem}
        return render_detail_part(request, role, "trust", errors=errors, trust_text=text)
    response = updated_response(request, role, "trust", _("Trust policy saved."))
    return trigger_client_event(response, "trustChanged", {"role": role.arn})


def render_detail_part(
    request: ConsoleRequest, role: Role, slug: str, **extra: Any
) -> HttpResponse:
    """Re-render after a form error (status 200): the card to htmx, the tab's page otherwise."""
    context = TAB_CONTEXTS[slug](request, role, **extra)
    if request.htmx:
        return render(request, TAB_BY_SLUG[slug].template, {"role": role, **context})
    return render_role_tab(request, role, slug, context)


def updated_response(request: ConsoleRequest, role: Role, slug: str, notice: str) -> HttpResponse:
    if request.htmx:
        context = TAB_CONTEXTS[slug](request, role, saved=notice)
        return render(request, TAB_BY_SLUG[slug].template, {"role": role, **context})
    messages.success(request, notice)
    return HttpResponseRedirect(tab_url(role, slug))


urlpatterns = [
    path("roles/", role_list, name="role_list"),
    # "_" cannot occur in a role name, so no role's details page is shadowed by the wizard.
    path("roles/_new/", role_create, name="role_create"),
    path("roles/_new/check-account/", role_check_account, name="role_check_account"),
    path("roles/_new/check-name/", role_check_name, name="role_check_name"),
    path("roles/_new/check-trust/", role_check_trust, name="role_check_trust"),
    path("roles/_new/trust-policy/", role_wizard_trust, name="role_wizard_trust"),
    path("roles/<str:role_name>/", role_detail, name="role_detail"),
    path("roles/<str:role_name>/permissions/", role_permissions, name="role_permissions"),
    path("roles/<str:role_name>/trust-policy/", role_trust, name="role_trust"),
    path("roles/<str:role_name>/settings/", role_update, name="role_update"),
    path("roles/<str:role_name>/trust/", role_update_trust, name="role_update_trust"),
    path("roles/<str:role_name>/delete/", role_delete, name="role_delete"),
    *authorize.urlpatterns,
]
