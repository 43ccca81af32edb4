"""Logon security over the RPC API (RAM 2015-05-01), in the shapes of the official SDK's models:
SetPasswordPolicy, GetPasswordPolicy, SetSecurityPreference, GetSecurityPreference and
ChangePassword.

The account-level actions authorize ``ram:<Action>`` on the account (``acs:ram::<uid>:*``, as
GetAccountAlias does) as the effective identity, then call one service (``iam.security``).
ChangePassword is a user's own: it authorizes on the caller's ARN, where the account's security
preference may grant it (``iam.security.require_on_user``). Parameters left out of a Set action
keep their current values.
"""

from __future__ import annotations

from typing import Any

from iam import errors, security
from iam.api import RAM_VERSION, authorize_on_account
from iam.identity import IdentityKind
from iam.models import PasswordPolicy, SecurityPreference, User
from iam.rpc import Call, action


def optional_flag(call: Call, name: str) -> bool | None:
    """A boolean parameter, or None when the call leaves it out."""
    return call.flag(name) if call.param(name) not in (None, "") else None


def optional_integer(call: Call, name: str) -> str | None:
    """An integer parameter as sent (the service checks its range), or None when left out."""
    value = call.param(name)
    return value if value not in (None, "") else None


# --- password policy ----------------------------------------------------------------------------


def password_policy_body(policy: PasswordPolicy) -> dict[str, Any]:
    return {"PasswordPolicy": security.password_policy_values(policy)}


@action(RAM_VERSION, "GetPasswordPolicy")
def get_password_policy(call: Call) -> dict[str, Any]:
    account = authorize_on_account(call)
    return password_policy_body(security.password_policy(account.pk))


@action(RAM_VERSION, "SetPasswordPolicy")
def set_password_policy(call: Call) -> dict[str, Any]:
    account = authorize_on_account(call)
    policy = security.set_password_policy(
        call.actor,
        account,
        minimum_length=optional_integer(call, "MinimumPasswordLength"),
        require_lowercase=optional_flag(call, "RequireLowercaseCharacters"),
        require_uppercase=optional_flag(call, "RequireUppercaseCharacters"),
        require_numbers=optional_flag(call, "RequireNumbers"),
        require_symbols=optional_flag(call, "RequireSymbols"),
        max_password_age=optional_integer(call, "MaxPasswordAge"),
        hard_expiry=optional_flag(call, "HardExpiry"),
        reuse_prevention=optional_integer(call, "PasswordReusePrevention"),
        max_login_attempts=optional_integer(call, "MaxLoginAttemps"),
    )
    return password_policy_body(policy)


# --- security preference ------------------------------------------------------------------------


def security_preference_body(preference: SecurityPreference) -> dict[str, Any]:
    """GetSecurityPreference's nested shape. Requiring MFA at console logon has no place in
    RAM's 2015-05-01 API (IMS calls it EnforceMFAForLogin); it is set in the console."""
    return {
        "SecurityPreference": {
            "LoginProfilePreference": {
                "AllowUserToChangePassword": preference.allow_user_to_change_password,
                "EnableSaveMFATicket": preference.enable_save_mfa_ticket,
                "LoginNetworkMasks": preference.login_network_masks,
                "LoginSessionDuration": preference.login_session_duration,
            },
            "AccessKeyPreference": {
                "AllowUserToManageAccessKeys": preference.allow_user_to_manage_access_keys,
            },
            "MFAPreference": {
                "AllowUserToManageMFADevices": preference.allow_user_to_manage_mfa_devices,
            },
            "PublicKeyPreference": {"AllowUserToManagePublicKeys": False},
        }
    }


@action(RAM_VERSION, "GetSecurityPreference")
def get_security_preference(call: Call) -> dict[str, Any]:
    account = authorize_on_account(call)
    return security_preference_body(security.security_preference(account.pk))


@action(RAM_VERSION, "SetSecurityPreference")
def set_security_preference(call: Call) -> dict[str, Any]:
    account = authorize_on_account(call)
    if optional_flag(call, "AllowUserToManagePublicKeys"):
        raise errors.InvalidParameter(
            "InvalidParameter.AllowUserToManagePublicKeys",
            'The parameter - "AllowUserToManagePublicKeys" is not supported: there are no '
            "public keys here.",
        )
    preference = security.set_security_preference(
        call.actor,
        account,
        allow_user_to_change_password=optional_flag(call, "AllowUserToChangePassword"),
        allow_user_to_manage_access_keys=optional_flag(call, "AllowUserToManageAccessKeys"),
        allow_user_to_manage_mfa_devices=optional_flag(call, "AllowUserToManageMFADevices"),
        enable_save_mfa_ticket=optional_flag(call, "EnableSaveMFATicket"),
        login_session_duration=optional_integer(call, "LoginSessionDuration"),
        login_network_masks=call.param("LoginNetworkMasks"),
    )
    return security_preference_body(preference)


# --- a user's own password ----------------------------------------------------------------------


@action(RAM_VERSION, "ChangePassword")
def change_password(call: Call) -> dict[str, Any]:
    """The caller's own console password, given the current one (a RAM user or a root
    identity; a role session has none)."""
    identity = call.identity
    if identity is None or identity.user is None or identity.kind is IdentityKind.ROLE_SESSION:
        raise errors.NoPermission(
            "NoPermission", "Only a RAM user or a root identity has a password to change."
        )
    security.require_on_user(identity, "ram:ChangePassword", identity.user, call.context)
    # A row of its own to change: the identity's may be shared with other requests.
    user = User.objects.select_related("account").get(pk=identity.user.pk)
    security.change_own_password(
        call.actor,
        user,
        call.param("NewPassword", required=True) or "",
        old_password=call.param("OldPassword", required=True) or "",
    )
    return {}
