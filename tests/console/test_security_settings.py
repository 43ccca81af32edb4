"""Security settings in the console: the password policy and security preference page (the
permission matrix, field errors, the auditor read-only); the logon's lockout, address throttle,
expiry, new-password step and session duration; unlocking a user; a user's own security
credentials (its password and AccessKeys, as the security preference allows)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from console.views.credentials import PENDING_KEY
from iam import mfa, security, services
from iam.audit import SYSTEM_ACTOR
from iam.models import AccessKey, AuditEvent, User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ADDRESS = "198.51.100.20"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def frozen() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def url(name: str, *args: str) -> str:
    return reverse(f"console:{name}", args=args)


def log_on(client, logon_name: str, password: str = PASSWORD, address: str = ADDRESS):  # type: ignore[no-untyped-def]
    return client.post(
        url("logon"), {"logon_name": logon_name, "password": password}, REMOTE_ADDR=address
    )


def alert(page: str) -> str:
    """The logon form's error."""
    found = re.search(r'role="alert">([^<]*)<', page)
    return found.group(1) if found else ""


def logged_on(client) -> bool:  # type: ignore[no-untyped-def]
    return "_auth_user_id" in client.session


def policy_form(**values: object) -> dict[str, object]:
    form: dict[str, object] = {
        "minimum_length": 8,
        "max_password_age": 0,
        "reuse_prevention": 0,
        "max_login_attempts": 5,
    }
    form.update(values)
    return {key: value for key, value in form.items() if value is not False}


def preference_form(**values: object) -> dict[str, object]:
    form: dict[str, object] = {
        "allow_user_to_change_password": "on",
        "allow_user_to_manage_mfa_devices": "on",
        "login_session_duration": 6,
        "login_network_masks": "",
    }
    form.update(values)
    return {key: value for key, value in form.items() if value is not False}


# --- the settings page --------------------------------------------------------------------------


def test_anonymous_is_sent_to_logon(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get(url("security_settings"))
    assert response.status_code == 302 and url("logon") in response.url


def test_a_user_without_rights_gets_403_naming_the_action(client, user_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(user_a)
    response = client.get(url("security_settings"))
    assert response.status_code == 403
    assert b"ram:GetPasswordPolicy" in response.content


def test_the_admin_sees_both_forms_with_the_current_values(client, account_a, admin_a) -> None:  # type: ignore[no-untyped-def]
    security.set_password_policy(SYSTEM_ACTOR, account_a, minimum_length=13)
    client.force_login(admin_a)
    content = client.get(url("security_settings")).content.decode()
    assert 'name="minimum_length" value="13"' in content
    assert "Require MFA for console logon" in content
    assert 'aria-current="page">Security settings</a>' in content


def test_the_auditor_reads_but_cannot_save(client, auditor_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(auditor_a)
    content = client.get(url("security_settings")).content.decode()
    assert content.count('<fieldset class="plain" disabled>') == 2
    assert "ram:SetPasswordPolicy" in content and "ram:SetSecurityPreference" in content


def test_the_auditors_post_is_403(client, account_a, auditor_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(auditor_a)
    response = client.post(url("security_settings_password"), policy_form(minimum_length=20))
    assert response.status_code == 403
    assert security.password_policy(account_a.pk).minimum_length == 8


def test_the_admin_saves_the_password_policy(client, account_a, admin_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    form = policy_form(minimum_length=12, require_symbols="on", max_login_attempts=3)
    response = client.post(url("security_settings_password"), form)
    assert response.status_code == 302
    policy = security.password_policy(account_a.pk)
    assert (policy.minimum_length, policy.require_symbols, policy.max_login_attempts) == (
        12,
        True,
        3,
    )
    assert AuditEvent.objects.filter(action="ram:SetPasswordPolicy", channel="console").exists()


def test_every_bad_field_is_shown_at_once(client, account_a, admin_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    form = policy_form(minimum_length=7, reuse_prevention=25, max_login_attempts=-1)
    response = client.post(url("security_settings_password"), form)
    content = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_minimum_length-error">Enter a whole number from 8 to 32.' in content
    assert 'id="id_reuse_prevention-error">Enter a whole number from 0 to 24.' in content
    assert 'id="id_max_login_attempts-error">Enter a whole number from 0 to 32.' in content


def test_the_admin_saves_the_security_preference(client, account_a, admin_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    form = preference_form(
        allow_user_to_change_password=False,
        allow_user_to_manage_access_keys="on",
        require_mfa_for_logon="on",
        login_session_duration=2,
    )
    assert client.post(url("security_settings_preference"), form).status_code == 302
    preference = security.security_preference(account_a.pk)
    assert not preference.allow_user_to_change_password
    assert preference.allow_user_to_manage_access_keys and preference.require_mfa_for_logon
    assert preference.login_session_duration == 2


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"login_session_duration": 25}, "login_session_duration", "Enter a whole number from 1"),
        ({"login_network_masks": "10.0.0.0/99"}, "login_network_masks", "Enter up to 40 networks"),
    ],
)
def test_bad_preference_fields_are_field_errors(client, admin_a, values, field, message) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = client.post(url("security_settings_preference"), preference_form(**values))
    assert response.status_code == 200
    assert f'id="id_{field}-error">{message}' in response.content.decode()


def test_another_account_is_unaffected(client, account_b, admin_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    client.post(url("security_settings_password"), policy_form(minimum_length=20))
    assert security.password_policy(account_b.pk).minimum_length == 8


def test_a_new_users_password_follows_the_policy(client, account_a, admin_a) -> None:  # type: ignore[no-untyped-def]
    security.set_password_policy(SYSTEM_ACTOR, account_a, require_symbols=True)
    client.force_login(admin_a)
    form = {"user_name": "carol", "password": "Plainpass123"}
    response = client.post(url("user_create"), form)
    assert response.status_code == 200
    assert 'id="id_password-error">Include a symbol.' in response.content.decode()
    assert not User.objects.filter(name="carol").exists()


def test_a_reset_password_follows_the_policy(client, account_a, admin_a, user_a) -> None:  # type: ignore[no-untyped-def]
    security.set_password_policy(SYSTEM_ACTOR, account_a, minimum_length=20)
    client.force_login(admin_a)
    response = client.post(url("user_password", "bob"), {"password": "Short-pass-12"})
    assert 'id="id_password-error">Enter at least 20 characters.' in response.content.decode()


# --- lockout and throttle at logon --------------------------------------------------------------


def test_five_wrong_passwords_then_the_right_one_is_refused(client, user_a) -> None:  # type: ignore[no-untyped-def]
    for _ in range(5):
        log_on(client, "bob@company-a", "Wrong-pass-1")
    response = log_on(client, "bob@company-a")
    assert "this logon name is locked until 10:00 UTC" in response.content.decode()
    assert not logged_on(client)


def test_the_locked_message_is_the_same_for_a_wrong_password(client, user_a) -> None:  # type: ignore[no-untyped-def]
    for _ in range(5):
        log_on(client, "bob@company-a", "Wrong-pass-1")
    right = alert(log_on(client, "bob@company-a").content.decode())
    wrong = alert(log_on(client, "bob@company-a", "Wrong-pass-1").content.decode())
    assert right == wrong != ""


def test_after_an_hour_the_user_logs_on(client, frozen, user_a) -> None:  # type: ignore[no-untyped-def]
    for _ in range(5):
        log_on(client, "bob@company-a", "Wrong-pass-1")
    frozen.shift(timedelta(hours=1))
    log_on(client, "bob@company-a")
    assert logged_on(client)


def test_a_refused_logon_is_audited_with_its_reason(client, user_a) -> None:  # type: ignore[no-untyped-def]
    for _ in range(6):
        log_on(client, "bob@company-a", "Wrong-pass-1")
    event = AuditEvent.objects.filter(action="console:Logon").first()
    assert (event.result, event.error_code, event.resource_arn) == (
        "Failure",
        "User.Locked",
        user_a.arn,
    )


def test_unknown_names_throttle_the_address(client, user_a) -> None:  # type: ignore[no-untyped-def]
    for index in range(security.LOGON_ADDRESS_LIMIT):
        log_on(client, f"nobody{index}@company-a", "Wrong-pass-1")
    response = log_on(client, "bob@company-a")
    assert "Too many failed logons from your network address" in response.content.decode()
    assert not logged_on(client)


def test_the_throttle_spares_other_addresses(client, user_a) -> None:  # type: ignore[no-untyped-def]
    for index in range(security.LOGON_ADDRESS_LIMIT):
        log_on(client, f"nobody{index}@company-a", "Wrong-pass-1")
    log_on(client, "bob@company-a", address="192.0.2.99")
    assert logged_on(client)


def test_unknown_names_are_in_no_tenants_trail(client, account_a) -> None:  # type: ignore[no-untyped-def]
    log_on(client, "nobody@company-a", "Wrong-pass-1")
    assert AuditEvent.objects.filter(action="console:Logon").get().account_id == ""


# --- unlock -------------------------------------------------------------------------------------


def lock(client, user) -> None:  # type: ignore[no-untyped-def]
    for _ in range(5):
        log_on(client, user.logon_name, "Wrong-pass-1", address="192.0.2.1")


def test_the_admin_sees_the_lock_in_the_list_and_on_the_details(client, admin_a, user_a) -> None:  # type: ignore[no-untyped-def]
    lock(client, user_a)
    client.force_login(admin_a)
    listed = client.get(url("user_list")).content.decode()
    detail = client.get(url("user_detail", "bob")).content.decode()
    assert "Locked until 10:00 UTC" in listed
    assert "Locked until 2026-03-02 10:00 UTC" in detail and ">Unlock</button>" in detail


def test_the_user_list_costs_the_same_queries_for_1_and_5_locked_users(  # type: ignore[no-untyped-def]
    client, admin_a, account_a, django_assert_num_queries
) -> None:
    def lock_new(start: int, stop: int) -> None:
        for index in range(start, stop):
            user = services.create_user(SYSTEM_ACTOR, account_a, f"locked{index}")
            for _ in range(5):
                security.record_failure(user, ADDRESS)

    lock_new(0, 1)
    client.force_login(admin_a)
    client.get(url("user_list"))  # warm the session and policy caches
    with CaptureQueriesContext(connection) as one:
        client.get(url("user_list"))
    queries_for_one = len(one)
    lock_new(1, 5)
    client.get(url("user_list"))  # the new users bumped the account's version
    with django_assert_num_queries(queries_for_one):
        response = client.get(url("user_list"))
    assert response.content.decode().count("Locked until") == 5


def test_unlock_lets_the_user_log_on_and_is_audited(client, admin_a, user_a) -> None:  # type: ignore[no-untyped-def]
    lock(client, user_a)
    admin = client.__class__()
    admin.force_login(admin_a)
    response = admin.post(url("user_unlock", "bob"))
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="console:UnlockUser", resource_arn=user_a.arn).exists()
    log_on(client, "bob@company-a", address="192.0.2.1")
    assert logged_on(client)


def test_the_auditor_cannot_unlock(client, auditor_a, user_a) -> None:  # type: ignore[no-untyped-def]
    lock(client, user_a)
    client.force_login(auditor_a)
    detail = client.get(url("user_detail", "bob")).content.decode()
    assert 'aria-disabled="true"' in detail and "ram:UpdateUser" in detail
    assert client.post(url("user_unlock", "bob")).status_code == 403


def test_unlocking_another_accounts_user_is_404(client, admin_a, user_b) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    assert client.post(url("user_unlock", "alice")).status_code == 404


# --- expiry, a new password, session duration ---------------------------------------------------


def test_a_reset_password_asks_for_a_new_one_before_the_console(client, user_a) -> None:  # type: ignore[no-untyped-def]
    services.set_console_password(
        SYSTEM_ACTOR, user_a, "Reset-pass-9", password_reset_required=True
    )
    response = log_on(client, "bob@company-a", "Reset-pass-9")
    assert response.status_code == 302 and response.url == url("logon_password")
    assert not logged_on(client)


def test_the_new_password_step_sets_it_then_asks_to_log_on(client, user_a) -> None:  # type: ignore[no-untyped-def]
    services.set_console_password(
        SYSTEM_ACTOR, user_a, "Reset-pass-9", password_reset_required=True
    )
    log_on(client, "bob@company-a", "Reset-pass-9")
    response = client.post(
        url("logon_password"), {"password": "Chosen-pass-7", "confirm": "Chosen-pass-7"}
    )
    assert response.status_code == 302 and response.url == url("logon")
    log_on(client, "bob@company-a", "Chosen-pass-7")
    assert logged_on(client)


def test_the_new_password_step_follows_the_policy(client, account_a, user_a) -> None:  # type: ignore[no-untyped-def]
    security.set_password_policy(SYSTEM_ACTOR, account_a, minimum_length=16)
    services.set_console_password(
        SYSTEM_ACTOR, user_a, "Reset-pass-9-long", password_reset_required=True
    )
    log_on(client, "bob@company-a", "Reset-pass-9-long")
    response = client.post(
        url("logon_password"), {"password": "Chosen-pass-7", "confirm": "Chosen-pass-7"}
    )
    assert 'id="id_password-error">Enter at least 16 characters.' in response.content.decode()


def test_the_new_password_step_needs_the_password_first(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get(url("logon_password"))
    assert response.status_code == 302 and response.url == url("logon")


def test_the_pending_step_lasts_ten_minutes(client, frozen, user_a) -> None:  # type: ignore[no-untyped-def]
    services.set_console_password(
        SYSTEM_ACTOR, user_a, "Reset-pass-9", password_reset_required=True
    )
    log_on(client, "bob@company-a", "Reset-pass-9")
    frozen.shift(timedelta(minutes=11))
    assert client.get(url("logon_password")).status_code == 302
    assert PENDING_KEY not in client.session


def test_an_expired_password_asks_for_a_new_one(client, frozen, account_a, user_a) -> None:  # type: ignore[no-untyped-def]
    security.set_password_policy(SYSTEM_ACTOR, account_a, max_password_age=30)
    frozen.shift(timedelta(days=31))
    response = log_on(client, "bob@company-a")
    assert response.url == url("logon_password")
    assert "Your password has expired." in client.get(url("logon_password")).content.decode()


def test_hard_expiry_refuses_until_an_administrator_resets(
    client, frozen, account_a, user_a
) -> None:  # type: ignore[no-untyped-def]
    security.set_password_policy(SYSTEM_ACTOR, account_a, max_password_age=30, hard_expiry=True)
    frozen.shift(timedelta(days=31))
    response = log_on(client, "bob@company-a")
    page = client.get(response.url).content.decode()
    assert "Your password has expired. Ask an administrator to reset it." in page
    assert not logged_on(client)


def test_the_logon_lasts_the_accounts_session_duration(client, account_a, user_a) -> None:  # type: ignore[no-untyped-def]
    security.set_security_preference(SYSTEM_ACTOR, account_a, login_session_duration=2)
    log_on(client, "bob@company-a")
    assert client.session.get_expiry_age() == 7200


def test_the_session_duration_holds_through_the_mfa_step(client, account_a, user_a) -> None:  # type: ignore[no-untyped-def]
    seed, now = mfa.new_seed(), NOW.timestamp()
    codes = pyotp.TOTP(seed)
    mfa.enable_virtual_mfa_device(SYSTEM_ACTOR, user_a, seed, codes.at(now - 30), codes.at(now))
    security.set_security_preference(SYSTEM_ACTOR, account_a, login_session_duration=3)
    assert log_on(client, "bob@company-a").url == url("logon_mfa")
    client.post(url("logon_mfa"), {"code": codes.at(now + 30)})
    assert logged_on(client) and client.session.get_expiry_age() == 3 * 3600


def test_a_network_the_account_does_not_allow_is_refused(client, account_a, user_a) -> None:  # type: ignore[no-untyped-def]
    security.set_security_preference(SYSTEM_ACTOR, account_a, login_network_masks="10.0.0.0/8")
    log_on(client, "bob@company-a")
    assert not logged_on(client)
    log_on(client, "bob@company-a", address="10.1.2.3")
    assert logged_on(client)


# --- one's own security credentials -------------------------------------------------------------


def test_the_identity_menu_links_to_ones_credentials(client, user_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(user_a)
    page = client.get(url("my_credentials"))
    assert page.status_code == 200
    assert f'href="{url("my_credentials")}"' in page.content.decode()


def test_a_user_changes_its_own_password(client, user_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(user_a)
    form = {"old_password": PASSWORD, "password": "Chosen-pass-7", "confirm": "Chosen-pass-7"}
    response = client.post(url("my_password"), form)
    assert response.status_code == 302
    assert User.objects.get(pk=user_a.pk).check_password("Chosen-pass-7")
    assert client.get(url("my_credentials")).status_code == 200  # still logged on


def test_a_wrong_current_password_is_a_field_error(client, user_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(user_a)
    form = {"old_password": "Wrong-pass-1", "password": "Chosen-pass-7", "confirm": "Chosen-pass-7"}
    content = client.post(url("my_password"), form).content.decode()
    assert 'id="id_old_password-error">This is not your current password.' in content


def test_two_different_new_passwords_are_a_field_error(client, user_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(user_a)
    form = {"old_password": PASSWORD, "password": "Chosen-pass-7", "confirm": "Chosen-pass-8"}
    assert "The two passwords differ." in client.post(url("my_password"), form).content.decode()


def test_changing_ones_password_is_403_when_the_account_forbids_it(
    client, account_a, user_a
) -> None:  # type: ignore[no-untyped-def]
    security.set_security_preference(SYSTEM_ACTOR, account_a, allow_user_to_change_password=False)
    client.force_login(user_a)
    response = client.get(url("my_password"))
    assert response.status_code == 403
    assert b"do not let RAM users change their own passwords" in response.content


def test_own_access_keys_are_refused_by_default(client, user_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(user_a)
    page = client.get(url("my_credentials")).content.decode()
    assert "do not let RAM users manage their own AccessKeys" in page
    assert client.post(url("my_access_key_create")).status_code == 403


def test_own_access_keys_when_the_account_lets_users_manage_them(client, account_a, user_a) -> None:  # type: ignore[no-untyped-def]
    security.set_security_preference(SYSTEM_ACTOR, account_a, allow_user_to_manage_access_keys=True)
    client.force_login(user_a)
    response = client.post(url("my_access_key_create"), **HTMX)
    key = AccessKey.objects.get(user=user_a)
    assert key.access_key_id in response.content.decode()
    client.post(url("my_access_key_status", key.access_key_id), {"status": "Inactive"})
    assert AccessKey.objects.get(pk=key.pk).status == "Inactive"
    client.post(url("my_access_key_delete", key.access_key_id))
    assert not AccessKey.objects.filter(pk=key.pk).exists()


def test_another_users_key_is_not_found_on_ones_own_page(
    client, account_a, user_a, admin_a
) -> None:  # type: ignore[no-untyped-def]
    security.set_security_preference(SYSTEM_ACTOR, account_a, allow_user_to_manage_access_keys=True)
    other = services.create_access_key(SYSTEM_ACTOR, admin_a).access_key
    client.force_login(user_a)
    response = client.post(url("my_access_key_delete", other.access_key_id))
    assert response.status_code == 404
