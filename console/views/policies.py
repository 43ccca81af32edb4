"""Console: policies — system and custom lists, custom policy create/edit with a validating JSON
editor, versions, "attached to", delete."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console.actor import console_actor
from console.forms import add_service_error, check_name
from console.http import (
    ConsoleRequest,
    current_account,
    denial_reason,
    get_policy_or_404,
    require_account_action,
)
from console.once import submit_once
from console.policy_catalog import editor_catalog
from console.views.common import (
    finish,
    fragment_or_page,
    page_of,
    render_confirm,
    render_dialog,
    search_query,
)
from console.views.tags import tagged
from iam import services
from iam.errors import ServiceError, printable
from iam.models import Policy, PolicyAttachment
from iam.policy import PolicyError, PolicyWarning, parse_policy, policy_warnings

MAX_DOCUMENT_LENGTH = 6144

EXAMPLE_DOCUMENT = """{
  "Version": "1",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "ecs:Describe*",
      "Resource": "*"
    }
  ]
}"""


def document_problem(text: str) -> PolicyError | None:
    """The evaluator's objection to a permission policy document, or None when it is valid."""
    if len(text) > MAX_DOCUMENT_LENGTH:
        return PolicyError(
            "InvalidParameter.PolicyDocument.Length",
            _("The policy document is %(length)s characters; the limit is %(limit)s.")
            % {"length": len(text), "limit": MAX_DOCUMENT_LENGTH},
        )
    try:
        parse_policy(text, kind="permission")
    except PolicyError as error:
        return error
    return None


def document_warnings(text: str) -> list[PolicyWarning]:
    """Suspicious combinations in a valid document (none for an invalid one): notices that do not
    stop it from being saved."""
    if not text.strip() or document_problem(text) is not None:
        return []
    return policy_warnings(text)


def warn_saved(request: ConsoleRequest, document: str) -> None:
    for warning in document_warnings(document):
        messages.warning(
            request, _("Saved, but worth a second look: %(warning)s") % {"warning": warning.message}
        )


def describe(error: PolicyError) -> str:
    if error.line is not None:
        return _("%(message)s (line %(line)s, column %(column)s)") % {
            "message": error.message,
            "line": error.line,
            "column": error.column,
        }
    return error.message


class DocumentField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 18, "spellcheck": "false"})

    def validate(self, value: str) -> None:
        super().validate(value)
        problem = document_problem(value) if value else None
        if problem is not None:
            raise ValidationError(describe(problem))

    def to_python(self, value: Any) -> str:
        # Keep the text as typed (no strip) so line and column numbers match the editor.
        return "" if value in self.empty_values else str(value)


class PolicyCreateForm(forms.Form):
    policy_name = forms.CharField(label=gettext_lazy("Policy name"), max_length=128)
    description = forms.CharField(
        label=gettext_lazy("Description"),
        max_length=1024,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    document = DocumentField(label=gettext_lazy("Policy document"), initial=EXAMPLE_DOCUMENT)

    def clean_policy_name(self) -> str:
        return check_name(
            self.cleaned_data["policy_name"], "PolicyName", services.POLICY_NAME_RE, 128
        )


class DescriptionForm(forms.Form):
    description = forms.CharField(
        label=gettext_lazy("Description"),
        max_length=1024,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class VersionCreateForm(forms.Form):
    """A new version and the explicit choice of whether it is in force at once. The API's
    SetAsDefault defaults to false, so a form sent without the choice keeps the default version;
    the page itself starts with "set as default" chosen, as Alibaba's console saves edits."""

    document = DocumentField(label=gettext_lazy("Policy document"))
    set_as_default = forms.BooleanField(
        label=gettext_lazy("Default version"),
        required=False,
        initial=True,
        widget=forms.RadioSelect,
    )

    def default_chosen(self) -> bool:
        """The choice to show: what was sent, or the initial choice."""
        if not self.is_bound:
            return bool(self.fields["set_as_default"].initial)
        return self.fields["set_as_default"].to_python(self["set_as_default"].data)


def pretty(document: str) -> str:
    try:
        return printable(json.dumps(json.loads(document), indent=2, ensure_ascii=False))
    except ValueError:
        return document


# --- list, create, validate ---------------------------------------------------------------------


@require_GET
def policy_list(request: ConsoleRequest) -> HttpResponse:
    resource = require_account_action(request, "ram:ListPolicies", "policy")
    account = current_account(request)
    policy_type = request.GET.get("type", "")
    if policy_type not in Policy.Type.values:
        policy_type = ""
    query = search_query(request.GET, 128)
    policies = Policy.objects.filter(Q(account__isnull=True) | Q(account=account))
    if policy_type:
        policies = policies.filter(policy_type=policy_type)
    if query:
        policies = policies.filter(Q(name__icontains=query) | Q(description__icontains=query))
    policies = policies.annotate(
        attachment_count=Count(
            "attachments",
            filter=Q(attachments__user__account=account)
            | Q(attachments__group__account=account)
            | Q(attachments__role__account=account),
        )
    ).order_by("policy_type", "name")
    policies, tag_filter = tagged(request, policies)
    context = {
        "page": page_of(request, policies),
        "query": query,
        "tag_filter": tag_filter,
        "policy_type": policy_type,
        "tabs": [("", _("All")), *Policy.Type.choices],
        "create_denied": denial_reason(request, "ram:CreatePolicy", resource),
    }
    return fragment_or_page(
        request,
        "console/policies/_policy_table.html",
        "console/policies/list.html",
        context,
        target="policy-table",
    )


@require_http_methods(["GET", "POST"])
@submit_once
def policy_create(request: ConsoleRequest) -> HttpResponse:
    require_account_action(request, "ram:CreatePolicy", "policy")
    form = PolicyCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            policy = services.create_policy(
                console_actor(request),
                current_account(request),
                form.cleaned_data["policy_name"],
                document=form.cleaned_data["document"],
                description=form.cleaned_data["description"],
            )
        except ServiceError as error:
            add_service_error(form, error)
        else:
            warn_saved(request, form.cleaned_data["document"])
            return finish(
                request, reverse("console:policy_detail", args=[policy.policy_type, policy.name])
            )
    context = {"form": form, **editor_context(request, form)}
    return render(request, "console/policies/create.html", context)


def editor_context(request: ConsoleRequest, form: forms.Form) -> dict[str, Any]:
    """What the visual editor needs beside the JSON: the catalog of the services we know, and the
    warnings about the document shown (a field error stands instead of them)."""
    text = form["document"].value() or ""
    return {
        "catalog": editor_catalog(current_account(request).pk),
        "warnings": [] if form["document"].errors else document_warnings(text),
    }


@require_POST
def policy_validate(request: ConsoleRequest) -> HttpResponse:
    """The editor's live check: the evaluator's own error, with line and column when known."""
    text = request.POST.get("document", "")
    problem = document_problem(text) if text.strip() else None
    context = {
        "problem": problem,
        "empty": not text.strip(),
        "warnings": document_warnings(text) if problem is None else [],
    }
    return render(request, "console/policies/_validation.html", context)


# --- details ------------------------------------------------------------------------------------


def attached_to(request: ConsoleRequest, policy: Policy) -> list[PolicyAttachment]:
    """This account's principals the policy is attached to (a system policy is shared)."""
    account = current_account(request)
    return list(
        PolicyAttachment.objects.filter(policy=policy)
        .filter(Q(user__account=account) | Q(group__account=account) | Q(role__account=account))
        .select_related("user", "group", "role")
    )


def policy_reasons(request: ConsoleRequest, policy: Policy) -> dict[str, str]:
    if policy.is_system:
        fixed = _("System policies cannot be changed.")
        return dict.fromkeys(
            ["delete", "edit", "create_version", "set_default", "delete_version"], fixed
        )
    arn = policy.arn_for(current_account(request).pk)
    actions = {
        "delete": "ram:DeletePolicy",
        "edit": "ram:UpdatePolicyDescription",
        "create_version": "ram:CreatePolicyVersion",
        "set_default": "ram:SetDefaultPolicyVersion",
        "delete_version": "ram:DeletePolicyVersion",
    }
    return {key: denial_reason(request, action, arn) for key, action in actions.items()}


@require_GET
def policy_detail(request: ConsoleRequest, policy_type: str, policy_name: str) -> HttpResponse:
    policy = get_policy_or_404(request, policy_type, policy_name, action="ram:GetPolicy")
    versions = list(policy.versions.order_by("created", "id"))
    shown_id = request.GET.get("version") or policy.default_version
    shown = next((v for v in versions if v.version_id == shown_id), None)
    if shown is None:
        shown = next((v for v in versions if v.version_id == policy.default_version), None)
    context = {
        "policy": policy,
        "arn": policy.arn_for(current_account(request).pk),
        "versions": versions,
        "shown": shown,
        "document": pretty(shown.document) if shown else "",
        "attachments": attached_to(request, policy),
        "reasons": policy_reasons(request, policy),
    }
    return render(request, "console/policies/detail.html", context)


@require_http_methods(["GET", "POST"])
def policy_edit(request: ConsoleRequest, policy_type: str, policy_name: str) -> HttpResponse:
    """Edit the description (the document changes through new versions)."""
    policy = get_policy_or_404(
        request, policy_type, policy_name, action="ram:UpdatePolicyDescription"
    )
    form = DescriptionForm(request.POST or None, initial={"description": policy.description})
    if request.method == "POST" and form.is_valid():
        try:
            services.update_policy_description(
                console_actor(request), policy, form.cleaned_data["description"]
            )
        except ServiceError as error:
            add_service_error(form, error)
        else:
            return finish(request, detail_url(policy))
    context = {"policy": policy, "form": form, "cancel_url": detail_url(policy)}
    return render_dialog(
        request,
        "console/policies/_edit.html",
        context,
        title=_("Edit %(name)s") % {"name": policy.name},
    )


def detail_url(policy: Policy) -> str:
    return reverse("console:policy_detail", args=[policy.policy_type, policy.name])


@require_http_methods(["GET", "POST"])
@submit_once
def policy_delete(request: ConsoleRequest, policy_type: str, policy_name: str) -> HttpResponse:
    policy = get_policy_or_404(request, policy_type, policy_name, action="ram:DeletePolicy")
    error = ""
    if request.method == "POST":
        try:
            services.delete_policy(console_actor(request), policy)
        except ServiceError as service_error:
            error = service_error.plain
        else:
            messages.success(request, _("Policy %(name)s deleted.") % {"name": policy_name})
            return finish(request, reverse("console:policy_list"))
    return render_confirm(
        request,
        title=_("Delete policy %(name)s") % {"name": policy.name},
        message=_(
            "Deleting a policy is permanent. Detach it and delete its non-default versions first."
        ),
        action_url=reverse("console:policy_delete", args=[policy.policy_type, policy.name]),
        cancel_url=detail_url(policy),
        button=_("Delete policy"),
        error=error,
    )


# --- versions -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@submit_once
def policy_version_create(
    request: ConsoleRequest, policy_type: str, policy_name: str
) -> HttpResponse:
    policy = get_policy_or_404(request, policy_type, policy_name, action="ram:CreatePolicyVersion")
    current = policy.versions.filter(version_id=policy.default_version).first()
    form = VersionCreateForm(
        request.POST or None,
        initial={"document": pretty(current.document) if current else EXAMPLE_DOCUMENT},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.create_policy_version(
                console_actor(request),
                policy,
                document=form.cleaned_data["document"],
                set_as_default=form.cleaned_data["set_as_default"],
            )
        except ServiceError as error:
            add_service_error(form, error)
        else:
            warn_saved(request, form.cleaned_data["document"])
            return finish(request, detail_url(policy))
    context = {"policy": policy, "form": form, **editor_context(request, form)}
    return render(request, "console/policies/version_create.html", context)


@require_POST
def policy_version_default(
    request: ConsoleRequest, policy_type: str, policy_name: str, version_id: str
) -> HttpResponse:
    policy = get_policy_or_404(
        request, policy_type, policy_name, action="ram:SetDefaultPolicyVersion"
    )
    if not policy.versions.filter(version_id=version_id).exists():
        raise Http404(_("No such policy version."))
    try:
        services.set_default_policy_version(console_actor(request), policy, version_id)
    except ServiceError as error:
        messages.error(request, error.plain)
    return finish(request, detail_url(policy))


@require_http_methods(["GET", "POST"])
@submit_once
def policy_version_delete(
    request: ConsoleRequest, policy_type: str, policy_name: str, version_id: str
) -> HttpResponse:
    policy = get_policy_or_404(request, policy_type, policy_name, action="ram:DeletePolicyVersion")
    if not policy.versions.filter(version_id=version_id).exists():
        raise Http404(_("No such policy version."))
    error = ""
    if request.method == "POST":
        try:
            services.delete_policy_version(console_actor(request), policy, version_id)
        except ServiceError as service_error:
            error = service_error.plain
        else:
            messages.success(request, _("Version %(version)s deleted.") % {"version": version_id})
            return finish(request, detail_url(policy))
    return render_confirm(
        request,
        title=_("Delete version %(version)s of %(name)s")
        % {"version": version_id, "name": policy.name},
        message=_("The version's document is deleted permanently."),
        action_url=reverse(
            "console:policy_version_delete", args=[policy.policy_type, policy.name, version_id]
        ),
        cancel_url=detail_url(policy),
        button=_("Delete version"),
        error=error,
    )


urlpatterns = [
    path("policies/", policy_list, name="policy_list"),
    path("policies/new/", policy_create, name="policy_create"),
    path("policies/validate/", policy_validate, name="policy_validate"),
    path("policies/<str:policy_type>/<str:policy_name>/", policy_detail, name="policy_detail"),
    path("policies/<str:policy_type>/<str:policy_name>/edit/", policy_edit, name="policy_edit"),
    path(
        "policies/<str:policy_type>/<str:policy_name>/delete/",
        policy_delete,
        name="policy_delete",
    ),
    path(
        "policies/<str:policy_type>/<str:policy_name>/versions/new/",
        policy_version_create,
        name="policy_version_create",
    ),
    path(
        "policies/<str:policy_type>/<str:policy_name>/versions/<str:version_id>/default/",
        policy_version_default,
        name="policy_version_default",
    ),
    path(
        "policies/<str:policy_type>/<str:policy_name>/versions/<str:version_id>/delete/",
        policy_version_delete,
        name="policy_version_delete",
    ),
]
