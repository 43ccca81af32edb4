"""Logon security over the API (``iam.security_api``) with the official RAM SDK
(``alibabacloud_ram20150501``) against a live server: the password policy and the security
preference round trip in Alibaba's shapes, bad values are refused with Alibaba's codes, a user
without rights gets NoPermission, another account is unaffected; what the security preference
lets a user do to itself (its own AccessKeys, ChangePassword)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from alibabacloud_ram20150501.client import Client as RamClient
from alibabacloud_tea_openapi.exceptions import ClientException

from iam import security, services
from iam.audit import SYSTEM_ACTOR
from iam.models import AuditEvent, User
from tests.api.conftest import Key, World
from tests.api.sdk import assume, ram, ram_models, sts

DEFAULT_POLICY = {
    "MinimumPasswordLength": 8,
    "RequireLowercaseCharacters": False,
    "RequireUppercaseCharacters": False,
    "RequireNumbers": False,
    "RequireSymbols": False,
    "HardExpiry": False,
    "MaxPasswordAge": 0,
    "PasswordReusePrevention": 0,
    "MaxLoginAttemps": 5,
}
NEW_POLICY = {
    "MinimumPasswordLength": 12,
    "RequireLowercaseCharacters": True,
    "RequireUppercaseCharacters": True,
    "RequireNumbers": True,
    "RequireSymbols": False,
    "HardExpiry": True,
    "MaxPasswordAge": 90,
    "PasswordReusePrevention": 3,
    "MaxLoginAttemps": 3,
}


def client(world: World, key: Key, token: str | None = None) -> RamClient:
    return ram(world.endpoint, key.access_key_id, key.secret, token)


def error_of(call: Callable[[], Any]) -> tuple[int, str]:
    with pytest.raises(ClientException) as caught:
        call()
    return caught.value.status_code, caught.value.code


def set_policy(ram_client: RamClient, **values: Any) -> Any:
    request = ram_models.SetPasswordPolicyRequest(**values)
    return ram_client.set_password_policy(request).body.password_policy


def set_preference(ram_client: RamClient, **values: Any) -> Any:
    request = ram_models.SetSecurityPreferenceRequest(**values)
    return ram_client.set_security_preference(request).body.security_preference


# --- password policy ----------------------------------------------------------------------------


def test_get_password_policy_answers_the_defaults_in_alibabas_shape(world: World) -> None:
    found = client(world, world.admin_a_key).get_password_policy().body.password_policy
    assert found.to_map() == DEFAULT_POLICY  # every field the SDK reads, none it would drop
    assert (found.minimum_password_length, found.max_login_attemps) == (8, 5)


def test_set_password_policy_round_trips(world: World) -> None:
    admin = client(world, world.admin_a_key)
    answered = set_policy(
        admin,
        minimum_password_length=12,
        require_lowercase_characters=True,
        require_uppercase_characters=True,
        require_numbers=True,
        require_symbols=False,
        hard_expiry=True,
        max_password_age=90,
        password_reuse_prevention=3,
        max_login_attemps=3,
    )
    assert answered.to_map() == NEW_POLICY
    assert admin.get_password_policy().body.password_policy.to_map() == NEW_POLICY


def test_parameters_left_out_keep_their_values(world: World) -> None:
    admin = client(world, world.admin_a_key)
    set_policy(admin, minimum_password_length=14)
    answered = set_policy(admin, max_login_attemps=0)
    assert (answered.minimum_password_length, answered.max_login_attemps) == (14, 0)


@pytest.mark.parametrize(
    ("values", "code"),
    [
        ({"minimum_password_length": 7}, "InvalidParameter.MinimumPasswordLength"),
        ({"minimum_password_length": 33}, "InvalidParameter.MinimumPasswordLength"),
        ({"max_password_age": 1096}, "InvalidParameter.MaxPasswordAge"),
        ({"password_reuse_prevention": 25}, "InvalidParameter.PasswordReusePrevention"),
        ({"max_login_attemps": 33}, "InvalidParameter.MaxLoginAttemps"),
    ],
)
def test_bad_policy_values_are_refused(world: World, values: dict[str, int], code: str) -> None:
    admin = client(world, world.admin_a_key)
    assert error_of(lambda: set_policy(admin, **values)) == (400, code)
    assert security.password_policy(world.company_a.pk)._state.adding  # nothing saved


def test_a_user_without_rights_gets_no_permission(world: World) -> None:
    bob = client(world, world.bob_key)
    assert error_of(bob.get_password_policy) == (403, "NoPermission")
    assert error_of(lambda: set_policy(bob, minimum_password_length=12)) == (403, "NoPermission")
    assert error_of(bob.get_security_preference) == (403, "NoPermission")


def test_another_account_is_unaffected(world: World) -> None:
    set_policy(client(world, world.admin_a_key), minimum_password_length=20)
    other = client(world, world.root_b_key).get_password_policy().body.password_policy
    assert other.minimum_password_length == 8


def test_a_role_session_sets_its_roles_accounts_policy(world: World) -> None:
    issued = assume(
        sts(world.endpoint, world.alice_key.access_key_id, world.alice_key.secret), world.role.arn
    )
    credentials = issued.credentials
    session = ram(
        world.endpoint,
        credentials.access_key_id,
        credentials.access_key_secret,
        credentials.security_token,
    )
    set_policy(session, minimum_password_length=16)
    assert security.password_policy(world.company_a.pk).minimum_length == 16
    assert security.password_policy(world.company_b.pk)._state.adding


def test_setting_the_policy_is_audited_as_the_caller(world: World) -> None:
    set_policy(client(world, world.admin_a_key), max_login_attemps=4)
    event = AuditEvent.objects.get(action="ram:SetPasswordPolicy")
    assert (event.channel, event.account_id) == ("api", world.company_a.pk)
    assert event.effective_identity.endswith(":user/admin")


def test_create_login_profile_follows_the_policy(world: World) -> None:
    admin = client(world, world.admin_a_key)
    set_policy(admin, require_symbols=True)
    services.create_user(SYSTEM_ACTOR, world.company_a, "carol")
    request = ram_models.CreateLoginProfileRequest(user_name="carol", password="Plainpass123")
    assert error_of(lambda: admin.create_login_profile(request)) == (
        400,
        "InvalidParameter.Password.Policy",
    )


# --- security preference ------------------------------------------------------------------------


def test_get_security_preference_answers_the_nested_shape(world: World) -> None:
    found = client(world, world.admin_a_key).get_security_preference().body.security_preference
    assert found.to_map() == {
        "LoginProfilePreference": {
            "AllowUserToChangePassword": True,
            "EnableSaveMFATicket": False,
            "LoginNetworkMasks": "",
            "LoginSessionDuration": 6,
        },
        "AccessKeyPreference": {"AllowUserToManageAccessKeys": False},
        "MFAPreference": {"AllowUserToManageMFADevices": True},
        "PublicKeyPreference": {"AllowUserToManagePublicKeys": False},
    }


def test_set_security_preference_round_trips(world: World) -> None:
    admin = client(world, world.admin_a_key)
    answered = set_preference(
        admin,
        allow_user_to_change_password=False,
        allow_user_to_manage_access_keys=True,
        allow_user_to_manage_mfadevices=False,
        enable_save_mfaticket=True,
        login_network_masks="10.0.0.0/8;192.168.0.0/16",
        login_session_duration=12,
    )
    found = admin.get_security_preference().body.security_preference
    assert found.to_map() == answered.to_map()
    profile = found.login_profile_preference
    assert (profile.allow_user_to_change_password, profile.login_session_duration) == (False, 12)
    assert found.access_key_preference.allow_user_to_manage_access_keys is True


@pytest.mark.parametrize(
    ("values", "code"),
    [
        ({"login_session_duration": 0}, "InvalidParameter.LoginSessionDuration"),
        ({"login_session_duration": 25}, "InvalidParameter.LoginSessionDuration"),
        ({"login_network_masks": "10.0.0.0/40"}, "InvalidParameter.LoginNetworkMasks"),
        (
            {"allow_user_to_manage_public_keys": True},
            "InvalidParameter.AllowUserToManagePublicKeys",
        ),
    ],
)
def test_bad_preference_values_are_refused(world: World, values: dict[str, Any], code: str) -> None:
    admin = client(world, world.admin_a_key)
    assert error_of(lambda: set_preference(admin, **values)) == (400, code)


# --- what users may do to themselves ------------------------------------------------------------


def test_a_user_manages_its_own_keys_only_when_the_account_lets_it(world: World) -> None:
    bob = client(world, world.bob_key)
    create = lambda: bob.create_access_key(ram_models.CreateAccessKeyRequest())  # noqa: E731
    assert error_of(create) == (403, "NoPermission")
    set_preference(client(world, world.root_b_key), allow_user_to_manage_access_keys=True)
    created = create().body.access_key
    listed = bob.list_access_keys(ram_models.ListAccessKeysRequest()).body.access_keys.access_key
    assert created.access_key_id in {key.access_key_id for key in listed}


def test_the_preference_grants_nothing_over_another_user(world: World) -> None:
    set_preference(client(world, world.root_b_key), allow_user_to_manage_access_keys=True)
    bob = client(world, world.bob_key)
    request = ram_models.CreateAccessKeyRequest(user_name="alice")
    assert error_of(lambda: bob.create_access_key(request)) == (403, "NoPermission")


def give_password(user: User, password: str = "Bob-pass-123") -> None:
    services.set_console_password(SYSTEM_ACTOR, user, password, create=True)


def change(ram_client: RamClient, old: str, new: str) -> Any:
    request = ram_models.ChangePasswordRequest(old_password=old, new_password=new)
    return ram_client.change_password(request)


def test_a_user_changes_its_own_password(world: World) -> None:
    give_password(world.bob)
    change(client(world, world.bob_key), "Bob-pass-123", "New-pass-456")
    assert User.objects.get(pk=world.bob.pk).check_password("New-pass-456")


def test_change_password_needs_the_current_one(world: World) -> None:
    give_password(world.bob)
    bob = client(world, world.bob_key)
    assert error_of(lambda: change(bob, "wrong", "New-pass-456")) == (
        400,
        "InvalidParameter.OldPassword",
    )


def test_change_password_follows_the_policy(world: World) -> None:
    give_password(world.bob)
    set_policy(client(world, world.root_b_key), minimum_password_length=16)
    bob = client(world, world.bob_key)
    assert error_of(lambda: change(bob, "Bob-pass-123", "New-pass-456")) == (
        400,
        "InvalidParameter.Password.Length",
    )


def test_change_password_is_refused_when_the_account_forbids_it(world: World) -> None:
    give_password(world.bob)
    set_preference(client(world, world.root_b_key), allow_user_to_change_password=False)
    bob = client(world, world.bob_key)
    assert error_of(lambda: change(bob, "Bob-pass-123", "New-pass-456")) == (403, "NoPermission")
    assert User.objects.get(pk=world.bob.pk).check_password("Bob-pass-123")
