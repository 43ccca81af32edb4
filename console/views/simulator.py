"""Console: the policy simulator — what would be decided for a principal, and why.

Read-only: both forms submit with GET (so a 403 page can link here prefilled), and every decision
comes from the real authorizer through ``sts.simulate``. Open to anyone who may read the
account's policies (``ram:GetPolicy`` on ``policy/*``), so read-only auditors can use it. Nothing
is changed, but every simulation is one event of the account's audit trail
(``ram:SimulatePolicy``, ``ram:SimulateAssumeRole``): what was asked and what it answered.
Principals are this account's; a user of another account is simulated only as named, against this
account's roles, and a user of an identity provider with one of this account's providers, as the
claims of its assertion or token would present it (``sts.simulate``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from console.actor import console_actor
from console.http import ConsoleRequest, current_account, require_account_action
from console.views.common import fragment_or_page
from iam.arns import ROLE_ARN_RE
from iam.audit import record
from iam.models import Account, AuditEvent, Group, OIDCProvider, Role, SAMLProvider, User
from sts import saml
from sts.simulate import (
    ActionResult,
    AssumeRoleSimulation,
    OtherAccountUser,
    ProviderUser,
    SimulationError,
    find_caller,
    load_principal,
    provider_user,
    simulate,
    simulate_assume_role,
    split_actions,
)

TRI_STATE = [("", _("Not set")), ("true", _("Yes")), ("false", _("No"))]


def principal_choices(account: Account) -> list[tuple[str, Any]]:
    users = User.objects.filter(account=account, kind=User.Kind.RAM).order_by("name")
    groups = Group.objects.filter(account=account).order_by("name")
    roles = Role.objects.filter(account=account).order_by("name")
    return [
        ("", _("Choose…")),
        (_("Users"), [(f"user:{user.name}", user.name) for user in users]),
        (_("Groups"), [(f"group:{group.name}", group.name) for group in groups]),
        (
            _("Roles (a session, with the session policy below if any)"),
            [(f"role:{role.name}", role.name) for role in roles],
        ),
    ]


class SimulatorForm(forms.Form):
    principal = forms.ChoiceField(label=_("Principal"))
    session_policy = forms.CharField(
        label=_("Session policy"),
        required=False,
        max_length=4096,
        widget=forms.Textarea(attrs={"rows": 5, "class": "short"}),
        help_text=_("Roles only: simulate a role session narrowed by this session policy."),
    )
    action = forms.CharField(
        label=_("Action"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3, "class": "short"}),
        help_text=_("One or more actions, separated by commas or new lines (ram:CreateRole)."),
    )
    resource = forms.CharField(label=_("Resource"), max_length=400, required=False)
    source_ip = forms.GenericIPAddressField(label=_("Source IP"), required=False)
    current_time = forms.DateTimeField(
        label=_("Current time"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    mfa = forms.ChoiceField(label=_("MFA present"), choices=TRI_STATE, required=False)
    secure_transport = forms.ChoiceField(
        label=_("Secure transport"), choices=TRI_STATE, required=False
    )
    external_id = forms.CharField(label=_("ExternalId"), max_length=1224, required=False)

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["principal"].choices = principal_choices(account)

    def request_context(self) -> dict[str, Any]:
        data = self.cleaned_data
        context: dict[str, Any] = {}
        if data["source_ip"]:
            context["acs:SourceIp"] = data["source_ip"]
        moment = data["current_time"]
        if moment:
            context["acs:CurrentTime"] = (
                moment if timezone.is_aware(moment) else timezone.make_aware(moment)
            )
        if data["mfa"]:
            context["acs:MFAPresent"] = data["mfa"] == "true"
        if data["secure_transport"]:
            context["acs:SecureTransport"] = data["secure_transport"] == "true"
        if data["external_id"]:
            context["sts:ExternalId"] = data["external_id"]
        return context


RAM_USER = "user"
PROVIDER_USER = "federated"
CALLER_KINDS = [
    (RAM_USER, _("A RAM user")),
    (PROVIDER_USER, _("A user of an identity provider")),
]


def provider_choices(account: Account) -> list[tuple[str, Any]]:
    saml_providers = SAMLProvider.objects.filter(account=account).order_by("name")
    oidc_providers = OIDCProvider.objects.filter(account=account).order_by("name")
    return [
        ("", _("Choose…")),
        ("SAML", [(provider.arn, provider.name) for provider in saml_providers]),
        ("OIDC", [(provider.arn, provider.name) for provider in oidc_providers]),
    ]


class AssumeRoleForm(forms.Form):
    caller_kind = forms.ChoiceField(
        label=_("Caller is"),
        choices=CALLER_KINDS,
        required=False,
        initial=RAM_USER,
        widget=forms.RadioSelect,
    )
    caller = forms.CharField(
        label=_("Caller"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"list": "simulator-users"}),
        help_text=_(
            "A user of this account (alice), or a user of another account as alice@company2 or "
            "<account id>/alice: that account decides what its users may do, so they are "
            "simulated as named, against this account's roles."
        ),
    )
    provider = forms.ChoiceField(
        label=_("Identity provider"),
        required=False,
        help_text=_(
            "A user of an identity provider: one of this account's SAML or OIDC providers."
        ),
    )
    subject = forms.CharField(
        label=_("Subject"),
        max_length=256,
        required=False,
        help_text=_(
            "Who the provider vouches for: the assertion's NameID (saml:sub) or the token's sub "
            "(oidc:sub)."
        ),
    )
    audience = forms.CharField(
        label=_("Audience (OIDC)"),
        max_length=128,
        required=False,
        help_text=_("oidc:aud: one of the provider's client ids; the first if empty."),
    )
    recipient = forms.CharField(
        label=_("Recipient (SAML)"),
        max_length=1024,
        required=False,
        help_text=_("saml:recipient; our ACS URL if empty."),
    )
    role_arn = forms.CharField(
        label=_("Role ARN"),
        max_length=200,
        widget=forms.TextInput(attrs={"list": "simulator-roles"}),
    )
    external_id = forms.CharField(label=_("ExternalId"), max_length=1224, required=False)
    source_ip = forms.GenericIPAddressField(label=_("Source IP"), required=False)
    duration = forms.CharField(label=_("Duration (seconds)"), max_length=12, required=False)
    session_policy = forms.CharField(
        label=_("Session policy"),
        required=False,
        max_length=4096,
        widget=forms.Textarea(attrs={"rows": 4, "class": "short"}),
    )

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = provider_choices(account)
        self.fields["recipient"].widget.attrs["placeholder"] = saml.acs_url()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        data["caller_kind"] = data.get("caller_kind") or RAM_USER
        if data["caller_kind"] == RAM_USER:
            if not (data.get("caller") or "").strip():
                self.add_error("caller", gettext("Name the RAM user who calls AssumeRole."))
            return data
        if not data.get("provider") and "provider" not in self.errors:
            self.add_error("provider", gettext("Choose one of this account's identity providers."))
        if not (data.get("subject") or "").strip():
            self.add_error(
                "subject", gettext("Name the subject the identity provider vouches for.")
            )
        if data.get("external_id"):
            self.add_error(
                "external_id",
                gettext("AssumeRoleWithSAML and AssumeRoleWithOIDC take no ExternalId."),
            )
        return data


def run_permissions(
    request: ConsoleRequest, form: SimulatorForm, account: Account
) -> list[ActionResult]:
    data = form.cleaned_data
    context = form.request_context()
    resource = data["resource"].strip() or "*"
    actions = split_actions(data["action"])
    details: dict[str, Any] = {
        "Principal": data["principal"],
        "Actions": actions,
        "Resource": resource,
        "Context": {key: str(value) for key, value in context.items()},
    }
    try:
        principal = load_principal(account, data["principal"], data["session_policy"])
    except SimulationError as error:
        form.add_error("session_policy" if data["session_policy"] else "principal", str(error))
        audit_simulation(request, "ram:SimulatePolicy", "", details, error=str(error))
        return []
    results = simulate(principal, actions, resource, context)
    details["Verdicts"] = {result.action: result.verdict for result in results}
    audit_simulation(request, "ram:SimulatePolicy", principal.arn, details)
    return results


def simulated_caller(
    form: AssumeRoleForm, account: Account, details: dict[str, Any]
) -> User | OtherAccountUser | ProviderUser:
    """The caller the form names, its words added to the audit ``details``; a SimulationError
    is added to the form field it concerns."""
    data = form.cleaned_data
    if data["caller_kind"] == RAM_USER:
        details["Caller"] = data["caller"].strip()
        try:
            return find_caller(account, data["caller"])
        except SimulationError as error:
            form.add_error("caller", str(error))
            raise
    details.update(Provider=data["provider"], Subject=data["subject"].strip())
    try:
        caller = provider_user(
            account,
            data["provider"],
            data["subject"],
            audience=data["audience"],
            recipient=data["recipient"],
        )
    except SimulationError as error:
        form.add_error(error.field or "provider", str(error))
        raise
    details["Claims"] = caller.claims
    return caller


def run_assume_role(
    request: ConsoleRequest, form: AssumeRoleForm, account: Account
) -> AssumeRoleSimulation | None:
    data = form.cleaned_data
    role_arn = data["role_arn"].strip()
    match = ROLE_ARN_RE.match(role_arn)
    details: dict[str, Any] = {"RoleArn": role_arn}
    resource = role_arn if match else ""
    try:
        caller = simulated_caller(form, account, details)
    except SimulationError as error:
        audit_simulation(request, "ram:SimulateAssumeRole", resource, details, error=str(error))
        return None
    if isinstance(caller, OtherAccountUser | ProviderUser) and (
        match is None or match.group(1) != account.pk
    ):
        # Another account's users are only simulated against this account's roles: the
        # simulator must not tell one tenant about another tenant's permissions elsewhere. An
        # identity provider vouches only for its own account's roles.
        problem = (
            gettext("For a caller of another account, choose a role of this one.")
            if isinstance(caller, OtherAccountUser)
            else gettext(
                "An identity provider vouches only for roles of its own account: choose one."
            )
        )
        form.add_error("role_arn", problem)
        audit_simulation(request, "ram:SimulateAssumeRole", resource, details, error=problem)
        return None
    simulation = simulate_assume_role(
        account,
        caller,
        role_arn,
        external_id=data["external_id"],
        source_ip=data["source_ip"] or "",
        duration=data["duration"],
        session_policy=data["session_policy"],
    )
    failed = simulation.failed_check
    details["Verdict"] = simulation.verdict
    if failed is not None:
        details["FailedCheck"] = failed.name
    audit_simulation(request, "ram:SimulateAssumeRole", resource, details)
    return simulation


def audit_simulation(
    request: ConsoleRequest, action: str, resource: str, details: dict[str, Any], error: str = ""
) -> None:
    """One event in the current account's trail; a simulation whose input was unusable ends as
    a failure with the reason."""
    if error:
        details["Error"] = error
    record(
        console_actor(request),
        action,
        resource,
        account_id=current_account(request).pk,
        result=AuditEvent.Result.FAILURE if error else AuditEvent.Result.SUCCESS,
        error_code="InvalidParameter" if error else "",
        details=details,
    )


@require_GET
def simulator(request: ConsoleRequest) -> HttpResponse:
    require_account_action(request, "ram:GetPolicy", "policy")
    account = current_account(request)
    mode = "assume" if request.GET.get("mode") == "assume" else "permissions"
    bound = mode == "permissions" and ("principal" in request.GET or "action" in request.GET)
    form = SimulatorForm(request.GET if bound else None, account=account)
    assume_bound = mode == "assume" and any(
        f"assume-{name}" in request.GET for name in ("caller", "caller_kind", "provider")
    )
    assume_form = AssumeRoleForm(
        request.GET if assume_bound else None, prefix="assume", account=account
    )
    results: list[ActionResult] = []
    assume_result = None
    if bound and form.is_valid():
        results = run_permissions(request, form, account)
    if assume_bound and assume_form.is_valid():
        assume_result = run_assume_role(request, assume_form, account)
    context = {
        "form": form,
        "assume_form": assume_form,
        "mode": mode,
        "results": results,
        "assume_result": assume_result,
        "users": User.objects.filter(account=account, kind=User.Kind.RAM).order_by("name"),
        "roles": Role.objects.filter(account=account).order_by("name"),
    }
    fragment = "_assume.html" if mode == "assume" else "_permissions.html"
    return fragment_or_page(
        request, f"console/simulator/{fragment}", "console/simulator/page.html", context
    )


urlpatterns = [
    path("simulator/", simulator, name="simulator"),
]
