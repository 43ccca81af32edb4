"""Console: the account's security settings: its password policy and its security preference
(what RAM users may do to themselves, how long a console logon lasts, whether MFA is required).

Each form is read with ``ram:Get…`` and saved with ``ram:Set…`` on the account
(``acs:ram::<uid>:*``, as the account alias is); a form the identity may read but not save is
shown disabled with the reason. Every save is one ``iam.security`` call.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from console.actor import console_actor
from console.forms import add_service_error
from console.http import ConsoleRequest, current_account, denial_reason
from console.views.common import finish
from iam import arns, security
from iam.authz import require
from iam.errors import ServiceError
from iam.models import Account, PasswordPolicy, SecurityPreference

# --- forms --------------------------------------------------------------------------------------


class RangeField(forms.IntegerField):
    """A whole number in one of ``iam.security.RANGES``, checked by the service's own rule so
    every field's error shows on the first submit."""

    def __init__(self, *, range_of: str, **kwargs: Any) -> None:
        self.range_of = range_of
        rule = security.RANGES[range_of]
        super().__init__(min_value=None, max_value=None, **kwargs)
        self.widget.attrs.update({"min": rule.low, "max": rule.high})

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is not None:
            try:
                security.check_range(self.range_of, value)
            except ServiceError as error:
                raise ValidationError(error.plain) from error


class PasswordPolicyForm(forms.Form):
    minimum_length = RangeField(
        range_of="minimum_length",
        label=gettext_lazy("Minimum length"),
        help_text=gettext_lazy("8 to 32 characters."),
    )
    require_lowercase = forms.BooleanField(
        label=gettext_lazy("Require a lower-case letter"), required=False
    )
    require_uppercase = forms.BooleanField(
        label=gettext_lazy("Require an upper-case letter"), required=False
    )
    require_numbers = forms.BooleanField(label=gettext_lazy("Require a digit"), required=False)
    require_symbols = forms.BooleanField(label=gettext_lazy("Require a symbol"), required=False)
    max_password_age = RangeField(
        range_of="max_password_age",
        label=gettext_lazy("Password validity (days)"),
        help_text=gettext_lazy("0 to 1095; 0: passwords never expire."),
    )
    hard_expiry = forms.BooleanField(
        label=gettext_lazy("After a password expires, only an administrator can reset it"),
        required=False,
    )
    reuse_prevention = RangeField(
        range_of="reuse_prevention",
        label=gettext_lazy("Earlier passwords that may not be reused"),
        help_text=gettext_lazy("0 to 24."),
    )
    max_login_attempts = RangeField(
        range_of="max_login_attempts",
        label=gettext_lazy("Wrong passwords within an hour before a user is locked for an hour"),
        help_text=gettext_lazy("0 to 32; 0: users are never locked."),
    )


class SecurityPreferenceForm(forms.Form):
    allow_user_to_change_password = forms.BooleanField(
        label=gettext_lazy("Allow users to change their own passwords"), required=False
    )
    allow_user_to_manage_access_keys = forms.BooleanField(
        label=gettext_lazy("Allow users to manage their own AccessKeys"), required=False
    )
    allow_user_to_manage_mfa_devices = forms.BooleanField(
        label=gettext_lazy("Allow users to manage their own MFA devices"), required=False
    )
    require_mfa_for_logon = forms.BooleanField(
        label=gettext_lazy("Require MFA for console logon"), required=False
    )
    login_session_duration = RangeField(
        range_of="login_session_duration",
        label=gettext_lazy("Console logon session (hours)"),
        help_text=gettext_lazy("1 to 24; applies to logons from now on."),
    )
    login_network_masks = forms.CharField(
        label=gettext_lazy("Console logon only from these networks"),
        required=False,
        max_length=security.MAX_NETWORK_MASKS_LENGTH,
        help_text=gettext_lazy("Such as 192.168.0.0/16;10.0.0.0/8. Empty: from anywhere."),
    )

    def clean_login_network_masks(self) -> str:
        try:
            return security.check_network_masks(self.cleaned_data["login_network_masks"])
        except ServiceError as error:
            raise ValidationError(error.plain) from error


def policy_initial(policy: PasswordPolicy) -> dict[str, Any]:
    return {name: getattr(policy, name) for name in PasswordPolicyForm.base_fields}


def preference_initial(preference: SecurityPreference) -> dict[str, Any]:
    return {name: getattr(preference, name) for name in SecurityPreferenceForm.base_fields}


# --- the page -----------------------------------------------------------------------------------


def account_arn(account: Account) -> str:
    return arns.ram_arn(account.pk, arns.ANY)


def render_settings(
    request: ConsoleRequest,
    *,
    policy_form: PasswordPolicyForm | None = None,
    preference_form: SecurityPreferenceForm | None = None,
) -> HttpResponse:
    """The page with both forms: a bound one (re-shown with its errors) or the saved values.
    403 naming ``ram:GetPasswordPolicy`` when neither may be read."""
    account = current_account(request)
    resource = account_arn(account)
    read = {
        "policy": denial_reason(request, "ram:GetPasswordPolicy", resource),
        "preference": denial_reason(request, "ram:GetSecurityPreference", resource),
    }
    if read["policy"] and read["preference"]:
        require(request.identity, "ram:GetPasswordPolicy", resource)  # raises: 403
    if policy_form is None and not read["policy"]:
        policy_form = PasswordPolicyForm(
            initial=policy_initial(security.password_policy(account.pk))
        )
    if preference_form is None and not read["preference"]:
        preference = security.security_preference(account.pk)
        preference_form = SecurityPreferenceForm(initial=preference_initial(preference))
    context = {
        "account": account,
        "policy_form": policy_form,
        "preference_form": preference_form,
        "read_denied": read,
        "save_denied": {
            "policy": denial_reason(request, "ram:SetPasswordPolicy", resource),
            "preference": denial_reason(request, "ram:SetSecurityPreference", resource),
        },
        "address_limit": security.LOGON_ADDRESS_LIMIT,
    }
    return render(request, "console/security/settings.html", context)


@require_GET
def security_settings(request: ConsoleRequest) -> HttpResponse:
    return render_settings(request)


@require_POST
def security_settings_password(request: ConsoleRequest) -> HttpResponse:
    account = current_account(request)
    require(request.identity, "ram:SetPasswordPolicy", account_arn(account))
    form = PasswordPolicyForm(request.POST)
    if form.is_valid():
        try:
            security.set_password_policy(console_actor(request), account, **form.cleaned_data)
        except ServiceError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Password policy saved."))
            return finish(request, reverse("console:security_settings"))
    return render_settings(request, policy_form=form)


@require_POST
def security_settings_preference(request: ConsoleRequest) -> HttpResponse:
    account = current_account(request)
    require(request.identity, "ram:SetSecurityPreference", account_arn(account))
    form = SecurityPreferenceForm(request.POST)
    if form.is_valid():
        try:
            security.set_security_preference(console_actor(request), account, **form.cleaned_data)
        except ServiceError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Security preference saved."))
            return finish(request, reverse("console:security_settings"))
    return render_settings(request, preference_form=form)


urlpatterns = [
    path("security-settings/", security_settings, name="security_settings"),
    path(
        "security-settings/password-policy/",
        security_settings_password,
        name="security_settings_password",
    ),
    path(
        "security-settings/preference/",
        security_settings_preference,
        name="security_settings_preference",
    ),
]
