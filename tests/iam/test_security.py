"""Logon security services (``iam.security``): the password policy and security preference with
Alibaba's ranges, passwords checked against the policy (with their history), expiry, the lockout
of users and the throttle of client addresses after failed logons, unlock, what the preference
grants a user over itself, and ``manage.py logonfailures``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from iam import security, services
from iam.audit import SYSTEM_ACTOR
from iam.errors import ServiceError
from iam.identity import identity_for_user
from iam.models import Account, AuditEvent, LogonFailure, PasswordHistory, User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ADDRESS = "203.0.113.7"


def error_of(call, *args, **kwargs) -> ServiceError:  # type: ignore[no-untyped-def]
    with pytest.raises(ServiceError) as caught:
        call(*args, **kwargs)
    return caught.value


def version_of(account: Account) -> int:
    return Account.objects.get(pk=account.pk).version


def fail(user: User | None, times: int = 1, *, address: str = ADDRESS, every: int = 60) -> None:
    """``times`` failed logons, ``every`` seconds apart, from START."""
    for index in range(times):
        security.record_failure(user, address, now=START + timedelta(seconds=index * every))


# --- ranges -------------------------------------------------------------------------------------

RANGE_CASES = [
    ("minimum_length", 8, 32, "InvalidParameter.MinimumPasswordLength"),
    ("max_password_age", 0, 1095, "InvalidParameter.MaxPasswordAge"),
    ("reuse_prevention", 0, 24, "InvalidParameter.PasswordReusePrevention"),
    ("max_login_attempts", 0, 32, "InvalidParameter.MaxLoginAttemps"),
]


@pytest.mark.parametrize(("field", "low", "high", "code"), RANGE_CASES)
def test_policy_numbers_outside_alibabas_ranges_are_refused(
    account_a: Account, field: str, low: int, high: int, code: str
) -> None:
    for value in (low - 1, high + 1, "many"):
        error = error_of(security.set_password_policy, SYSTEM_ACTOR, account_a, **{field: value})
        assert (error.code, error.field) == (code, field)


@pytest.mark.parametrize(("field", "low", "high", "code"), RANGE_CASES)
def test_policy_numbers_at_the_ends_of_the_ranges_are_kept(
    account_a: Account, field: str, low: int, high: int, code: str
) -> None:
    security.set_password_policy(SYSTEM_ACTOR, account_a, **{field: low})
    policy = security.set_password_policy(SYSTEM_ACTOR, account_a, **{field: str(high)})
    assert getattr(policy, field) == high


def test_a_bad_value_changes_nothing(account_a: Account) -> None:
    security.set_password_policy(SYSTEM_ACTOR, account_a, minimum_length=12)
    error_of(
        security.set_password_policy,
        SYSTEM_ACTOR,
        account_a,
        minimum_length=10,
        reuse_prevention=25,
    )
    assert security.password_policy(account_a.pk).minimum_length == 12


def test_settings_left_out_keep_their_values(account_a: Account) -> None:
    security.set_password_policy(SYSTEM_ACTOR, account_a, minimum_length=14, require_symbols=True)
    policy = security.set_password_policy(SYSTEM_ACTOR, account_a, max_login_attempts=3)
    assert (policy.minimum_length, policy.require_symbols, policy.max_login_attempts) == (
        14,
        True,
        3,
    )


def test_an_account_without_a_policy_has_the_defaults(account_a: Account) -> None:
    policy = security.password_policy(account_a.pk)
    assert security.password_policy_values(policy) == {
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


def test_setting_the_policy_is_audited_with_before_and_after(account_a: Account) -> None:
    security.set_password_policy(SYSTEM_ACTOR, account_a, minimum_length=12)
    event = AuditEvent.objects.get(action="ram:SetPasswordPolicy")
    assert (event.account_id, event.resource_arn) == (account_a.pk, account_a.root_arn)
    assert (
        event.details["before"]["MinimumPasswordLength"],
        event.details["after"]["MinimumPasswordLength"],
    ) == (8, 12)


def test_both_settings_bump_the_accounts_version(account_a: Account) -> None:
    before = version_of(account_a)
    security.set_password_policy(SYSTEM_ACTOR, account_a, max_login_attempts=3)
    security.set_security_preference(SYSTEM_ACTOR, account_a, allow_user_to_manage_access_keys=True)
    assert version_of(account_a) == before + 2


def test_failed_logons_and_unlocks_leave_the_version_alone(
    account_a: Account, user_a: User
) -> None:
    before = version_of(account_a)
    fail(user_a, 5)
    security.unlock_user(SYSTEM_ACTOR, user_a)
    assert version_of(account_a) == before


# --- security preference ------------------------------------------------------------------------


@pytest.mark.parametrize("hours", [0, 25, "x"])
def test_a_session_duration_outside_1_to_24_hours_is_refused(account_a: Account, hours) -> None:  # type: ignore[no-untyped-def]
    error = error_of(
        security.set_security_preference, SYSTEM_ACTOR, account_a, login_session_duration=hours
    )
    assert (error.code, error.field) == (
        "InvalidParameter.LoginSessionDuration",
        "login_session_duration",
    )


def test_the_preference_is_saved_and_audited(account_a: Account) -> None:
    security.set_security_preference(
        SYSTEM_ACTOR, account_a, allow_user_to_change_password=False, login_session_duration=2
    )
    preference = security.security_preference(account_a.pk)
    assert (preference.allow_user_to_change_password, preference.login_session_duration) == (
        False,
        2,
    )
    event = AuditEvent.objects.get(action="ram:SetSecurityPreference")
    assert event.details["after"]["LoginSessionDuration"] == 2


def test_network_masks_are_normalized(account_a: Account) -> None:
    preference = security.set_security_preference(
        SYSTEM_ACTOR, account_a, login_network_masks=" 10.1.2.3/8 ; 192.168.0.0/16;"
    )
    assert preference.login_network_masks == "10.0.0.0/8;192.168.0.0/16"


@pytest.mark.parametrize("masks", ["10.0.0.0/33", "not-a-network", ";".join(["10.0.0.0/8"] * 41)])
def test_bad_network_masks_are_refused(account_a: Account, masks: str) -> None:
    error = error_of(
        security.set_security_preference, SYSTEM_ACTOR, account_a, login_network_masks=masks
    )
    assert error.code == "InvalidParameter.LoginNetworkMasks"


# --- passwords ----------------------------------------------------------------------------------


def test_the_floor_refuses_a_weak_password_without_a_policy(
    account_a: Account, user_a: User
) -> None:
    error = error_of(services.set_console_password, SYSTEM_ACTOR, user_a, "abcdefgh")
    assert error.code == "InvalidParameter.Password.TooWeak"


def test_a_password_shorter_than_the_policy_is_refused(account_a: Account, user_a: User) -> None:
    security.set_password_policy(SYSTEM_ACTOR, account_a, minimum_length=14)
    error = error_of(services.set_console_password, SYSTEM_ACTOR, user_a, "Short-pass-12")
    assert (error.code, error.field) == ("InvalidParameter.Password.Length", "password")


def test_every_missing_kind_of_character_is_named(account_a: Account) -> None:
    security.set_password_policy(
        SYSTEM_ACTOR, account_a, require_uppercase=True, require_symbols=True, require_numbers=True
    )
    error = error_of(security.check_password, account_a, "lowercase1only")
    assert error.code == "InvalidParameter.Password.Policy"
    assert error.plain == "Include an upper-case letter and a symbol."


def test_a_password_with_every_required_kind_passes(account_a: Account) -> None:
    security.set_password_policy(
        SYSTEM_ACTOR,
        account_a,
        require_lowercase=True,
        require_uppercase=True,
        require_numbers=True,
        require_symbols=True,
    )
    security.check_password(account_a, "Every-kind-1")


def test_the_user_name_is_refused_once_the_account_has_a_policy(account_a: Account) -> None:
    carol = services.create_user(SYSTEM_ACTOR, account_a, "carol")
    security.check_password(account_a, "Carol-pass-1", carol)  # Alibaba's defaults allow it
    security.set_password_policy(SYSTEM_ACTOR, account_a, minimum_length=8)
    error = error_of(security.check_password, account_a, "my-CAROL-pass-1", carol)
    assert error.plain == "Leave out the user name."


def test_the_last_passwords_cannot_come_back(account_a: Account, user_a: User) -> None:
    security.set_password_policy(SYSTEM_ACTOR, account_a, reuse_prevention=2)
    services.set_console_password(SYSTEM_ACTOR, user_a, "Second-pass-2")
    for earlier in ("Second-pass-2", PASSWORD):
        error = error_of(services.set_console_password, SYSTEM_ACTOR, user_a, earlier)
        assert error.code == "InvalidParameter.Password.Reused"


def test_a_password_older_than_the_last_n_may_come_back(account_a: Account, user_a: User) -> None:
    security.set_password_policy(SYSTEM_ACTOR, account_a, reuse_prevention=1)
    services.set_console_password(SYSTEM_ACTOR, user_a, "Second-pass-2")
    services.set_console_password(SYSTEM_ACTOR, user_a, PASSWORD)
    assert User.objects.get(pk=user_a.pk).check_password(PASSWORD)


def test_a_password_set_before_the_history_counts_as_the_last(
    account_a: Account, user_a: User
) -> None:
    PasswordHistory.objects.filter(user=user_a).delete()
    security.set_password_policy(SYSTEM_ACTOR, account_a, reuse_prevention=3)
    error = error_of(services.set_console_password, SYSTEM_ACTOR, user_a, PASSWORD)
    assert error.code == "InvalidParameter.Password.Reused"


def test_setting_a_password_keeps_its_hash_and_time(account_a: Account, user_a: User) -> None:
    with time_machine.travel(START, tick=False):
        services.set_console_password(SYSTEM_ACTOR, user_a, "Second-pass-2")
    user = User.objects.get(pk=user_a.pk)
    assert user.password_changed == START
    assert PasswordHistory.objects.filter(user=user).first().password == user.password


def test_the_history_keeps_24_passwords(account_a: Account, user_a: User) -> None:
    for index in range(26):
        services.set_console_password(SYSTEM_ACTOR, user_a, f"Pass-number-{index}")
    assert PasswordHistory.objects.filter(user=user_a).count() == security.HISTORY_KEPT


def test_a_refused_password_changes_nothing(account_a: Account, user_a: User) -> None:
    security.set_password_policy(SYSTEM_ACTOR, account_a, minimum_length=20)
    error_of(
        services.set_console_password,
        SYSTEM_ACTOR,
        user_a,
        "Short-pass-1",
        password_reset_required=True,
    )
    user = User.objects.get(pk=user_a.pk)
    assert user.check_password(PASSWORD) and not user.password_reset_required


def test_the_roots_password_follows_the_floor(db) -> None:  # type: ignore[no-untyped-def]
    error = error_of(
        services.create_account,
        SYSTEM_ACTOR,
        "acme",
        email="root@acme.example",
        password="12345678",
    )
    assert error.code == "InvalidParameter.Password.TooWeak"
    assert not Account.objects.filter(alias="acme").exists()


def test_createaccount_rejects_a_weak_password(db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match=r"InvalidParameter\.Password\.TooWeak"):
        call_command("createaccount", "acme", "--email", "root@acme.example", "--password", "weak")
    assert not Account.objects.exists()


def test_createaccount_remembers_the_roots_password(db) -> None:  # type: ignore[no-untyped-def]
    call_command(
        "createaccount",
        "acme",
        "--email",
        "root@acme.example",
        "--password",
        "Root-pass-1",
        stdout=StringIO(),
    )
    root = User.objects.get(email="root@acme.example")
    assert root.password_changed is not None and root.password_history.count() == 1


# --- changing one's own password ----------------------------------------------------------------


def test_changing_ones_own_password_needs_the_current_one(user_a: User) -> None:
    error = error_of(
        security.change_own_password, SYSTEM_ACTOR, user_a, "New-pass-12", old_password="wrong"
    )
    assert (error.code, error.field) == ("InvalidParameter.OldPassword", "old_password")


def test_changing_ones_own_password_clears_a_reset(user_a: User) -> None:
    User.objects.filter(pk=user_a.pk).update(password_reset_required=True)
    user = User.objects.get(pk=user_a.pk)
    security.change_own_password(SYSTEM_ACTOR, user, "New-pass-12", old_password=PASSWORD)
    user = User.objects.get(pk=user_a.pk)
    assert user.check_password("New-pass-12") and not user.password_reset_required
    assert AuditEvent.objects.filter(action="ram:ChangePassword", resource_arn=user.arn).exists()


# --- expiry -------------------------------------------------------------------------------------


def expiring_user(account: Account, *, hard: bool = False) -> User:
    security.set_password_policy(SYSTEM_ACTOR, account, max_password_age=30, hard_expiry=hard)
    user = services.create_user(SYSTEM_ACTOR, account, "carol")
    with time_machine.travel(START, tick=False):
        services.set_console_password(SYSTEM_ACTOR, user, "Expiring-pass-1", create=True)
    return User.objects.get(pk=user.pk)


def test_a_password_expires_after_the_maximum_age(account_a: Account) -> None:
    user = expiring_user(account_a)
    assert security.password_expires(user) == START + timedelta(days=30)
    assert not security.password_expired(user, START + timedelta(days=29))
    assert security.password_change_required(user, START + timedelta(days=30))


def test_no_maximum_age_no_expiry(account_a: Account, user_a: User) -> None:
    assert security.password_expires(user_a) is None


def test_an_expired_password_with_hard_expiry_refuses_the_logon(account_a: Account) -> None:
    user = expiring_user(account_a, hard=True)
    refusal = security.password_refusal(user, ADDRESS, START + timedelta(days=31))
    assert refusal is not None and refusal.code == "Password.Expired"


def test_an_expired_password_without_hard_expiry_asks_for_a_new_one(account_a: Account) -> None:
    user = expiring_user(account_a)
    later = START + timedelta(days=31)
    assert security.password_refusal(user, ADDRESS, later) is None
    assert security.password_change_required(user, later)


def test_a_reset_asked_for_by_an_administrator_asks_for_a_new_one(user_a: User) -> None:
    services.set_console_password(
        SYSTEM_ACTOR, user_a, "Reset-pass-9", password_reset_required=True
    )
    assert security.password_change_required(User.objects.get(pk=user_a.pk))


def test_logon_networks_refuse_other_addresses(account_a: Account, user_a: User) -> None:
    security.set_security_preference(SYSTEM_ACTOR, account_a, login_network_masks="10.0.0.0/8")
    assert security.password_refusal(user_a, "10.20.30.40") is None
    refusal = security.password_refusal(user_a, ADDRESS)
    assert refusal is not None and refusal.code == "Logon.NetworkNotAllowed"


def test_the_session_lasts_the_accounts_duration(account_a: Account, user_a: User) -> None:
    security.set_security_preference(SYSTEM_ACTOR, account_a, login_session_duration=2)
    root = User.objects.get(account=account_a, kind=User.Kind.ROOT)
    assert (security.session_seconds(user_a), security.session_seconds(root)) == (7200, None)


# --- lockout ------------------------------------------------------------------------------------


def test_the_fifth_failure_within_an_hour_locks_the_user_for_an_hour(user_a: User) -> None:
    fail(user_a, 5)  # the last one at START + 4 min
    last = START + timedelta(minutes=4)
    assert security.locked_until(user_a, now=last) == last + timedelta(hours=1)
    assert security.locked_until(user_a, now=last + timedelta(minutes=59)) is not None
    assert security.locked_until(user_a, now=last + timedelta(hours=1)) is None


def test_four_failures_lock_nobody(user_a: User) -> None:
    fail(user_a, 4)
    assert security.logon_refusal(user_a, "198.51.100.1", now=START + timedelta(minutes=5)) is None


def test_failures_spread_over_more_than_an_hour_lock_nobody(user_a: User) -> None:
    fail(user_a, 5, every=16 * 60)  # 64 minutes from the first to the fifth
    assert security.locked_until(user_a, now=START + timedelta(minutes=65)) is None


def test_the_accounts_limit_applies_at_once(account_a: Account, user_a: User) -> None:
    fail(user_a, 3)
    now = START + timedelta(minutes=3)
    assert security.locked_until(user_a, now=now) is None
    security.set_password_policy(SYSTEM_ACTOR, account_a, max_login_attempts=3)
    assert security.locked_until(user_a, now=now) is not None


def test_a_limit_of_0_never_locks(account_a: Account, user_a: User) -> None:
    security.set_password_policy(SYSTEM_ACTOR, account_a, max_login_attempts=0)
    fail(user_a, 10)
    assert security.locked_until(user_a, now=START + timedelta(minutes=10)) is None


def test_a_locked_user_is_refused_with_words_that_say_so(user_a: User) -> None:
    fail(user_a, 5)
    refusal = security.logon_refusal(user_a, "198.51.100.1", now=START + timedelta(minutes=5))
    assert refusal is not None and refusal.code == "User.Locked"
    assert "locked until 10:04 UTC" in refusal.message


def test_a_correct_password_forgets_the_failures(user_a: User) -> None:
    fail(user_a, 4)
    security.record_success(user_a)
    fail(user_a, 1)
    assert security.locked_until(user_a, now=START + timedelta(minutes=1)) is None


def test_the_root_identity_is_never_locked(account_a: Account) -> None:
    root = User.objects.get(account=account_a, kind=User.Kind.ROOT)
    fail(root, 10)
    assert security.locked_until(root, now=START + timedelta(minutes=10)) is None


def test_locked_users_lists_the_accounts_own(
    account_a: Account, user_a: User, user_b: User
) -> None:
    fail(user_a, 5)
    fail(user_b, 5)
    locked = security.locked_users(account_a.pk, now=START + timedelta(minutes=5))
    assert set(locked) == {user_a.user_id}


def test_unlock_lifts_the_lock_and_is_audited(user_a: User) -> None:
    fail(user_a, 5)
    with time_machine.travel(START + timedelta(minutes=5), tick=False):
        assert security.unlock_user(SYSTEM_ACTOR, user_a) is True
        assert security.locked_until(user_a) is None
    event = AuditEvent.objects.get(action="console:UnlockUser")
    assert (event.resource_arn, event.details) == (user_a.arn, {"WasLocked": True})


# --- address throttle ---------------------------------------------------------------------------


def test_an_address_is_throttled_after_the_limit_of_failures(db) -> None:  # type: ignore[no-untyped-def]
    fail(None, security.LOGON_ADDRESS_LIMIT - 1, every=1)
    now = START + timedelta(minutes=1)
    assert security.logon_refusal(None, ADDRESS, now=now) is None
    security.record_failure(None, ADDRESS, now=now)
    refusal = security.logon_refusal(None, ADDRESS, now=now)
    assert refusal is not None and refusal.code == "Throttling.Address"


def test_the_throttle_ends_an_hour_after_the_last_failure(db) -> None:  # type: ignore[no-untyped-def]
    fail(None, security.LOGON_ADDRESS_LIMIT, every=1)
    last = START + timedelta(seconds=security.LOGON_ADDRESS_LIMIT - 1)
    assert security.logon_refusal(None, ADDRESS, now=last + timedelta(hours=1)) is None


def test_the_throttle_holds_another_address_apart(db) -> None:  # type: ignore[no-untyped-def]
    fail(None, security.LOGON_ADDRESS_LIMIT, every=1)
    assert security.logon_refusal(None, "198.51.100.1", now=START + timedelta(minutes=1)) is None


def test_unknown_names_count_against_the_address_alone(db) -> None:  # type: ignore[no-untyped-def]
    fail(None, 3)
    assert list(LogonFailure.objects.values_list("scope", "account_id").distinct()) == [
        ("address", "")
    ]


def test_failures_older_than_a_day_are_forgotten(user_a: User) -> None:
    fail(user_a, 1)
    security.record_failure(user_a, ADDRESS, now=START + timedelta(days=1, minutes=1))
    assert LogonFailure.objects.filter(at=START).count() == 0


# --- what users may do to themselves ------------------------------------------------------------


def test_a_user_may_manage_its_own_keys_when_the_account_lets_it(
    account_a: Account, user_a: User
) -> None:
    identity = identity_for_user(user_a)
    assert security.denial_on_user(identity, "ram:CreateAccessKey", user_a) is not None
    security.set_security_preference(SYSTEM_ACTOR, account_a, allow_user_to_manage_access_keys=True)
    assert security.denial_on_user(identity, "ram:CreateAccessKey", user_a) is None


def test_a_user_may_change_its_own_password_by_default(user_a: User) -> None:
    assert security.denial_on_user(identity_for_user(user_a), "ram:ChangePassword", user_a) is None


def test_the_refusal_names_the_setting(account_a: Account, user_a: User) -> None:
    security.set_security_preference(SYSTEM_ACTOR, account_a, allow_user_to_change_password=False)
    denied = security.denial_on_user(identity_for_user(user_a), "ram:ChangePassword", user_a)
    assert (
        denied is not None
        and "do not let RAM users change their own passwords" in denied.explanation
    )


def test_the_preference_grants_nothing_over_another_user(
    account_a: Account, user_a: User, auditor_a: User
) -> None:
    security.set_security_preference(SYSTEM_ACTOR, account_a, allow_user_to_manage_access_keys=True)
    assert (
        security.denial_on_user(identity_for_user(user_a), "ram:CreateAccessKey", auditor_a)
        is not None
    )


def test_an_administrator_may_without_the_preference(admin_a: User) -> None:
    assert (
        security.denial_on_user(identity_for_user(admin_a), "ram:CreateAccessKey", admin_a) is None
    )


def test_an_explicit_deny_wins_over_the_preference(account_a: Account, user_a: User) -> None:
    security.set_security_preference(SYSTEM_ACTOR, account_a, allow_user_to_manage_access_keys=True)
    deny = json.dumps(
        {
            "Version": "1",
            "Statement": [{"Effect": "Deny", "Action": "ram:*AccessKey*", "Resource": "*"}],
        }
    )
    policy = services.create_policy(SYSTEM_ACTOR, account_a, "no-keys", document=deny)
    services.attach_policy(SYSTEM_ACTOR, user_a, policy)
    assert (
        security.denial_on_user(identity_for_user(user_a), "ram:CreateAccessKey", user_a)
        is not None
    )


# --- manage.py logonfailures --------------------------------------------------------------------


def run(*args: str) -> dict:  # type: ignore[type-arg]
    out = StringIO()
    call_command("logonfailures", *args, stdout=out)
    return json.loads(out.getvalue())


def test_operators_see_each_address_with_its_unknown_names(user_a: User) -> None:
    with time_machine.travel(START + timedelta(minutes=30), tick=False):
        fail(None, 2)
        fail(user_a, 1)
        output = run()
    assert output["Addresses"] == [
        {
            "Address": ADDRESS,
            "Failures": 3,
            "UnknownNames": 2,
            "Accounts": 1,
            "LastSeen": "2026-03-02T09:01:00Z",
            "ThrottledUntil": "",
        }
    ]


def test_operators_see_a_throttle(db) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(START + timedelta(minutes=30), tick=False):
        fail(None, security.LOGON_ADDRESS_LIMIT, every=1)
        output = run()
    assert output["Addresses"][0]["ThrottledUntil"] == "2026-03-02T10:00:19Z"


def test_forget_lifts_an_addresss_throttle(db) -> None:  # type: ignore[no-untyped-def]
    fail(None, security.LOGON_ADDRESS_LIMIT, every=1)
    assert run("--forget", ADDRESS) == {
        "Address": ADDRESS,
        "Forgotten": security.LOGON_ADDRESS_LIMIT,
    }
    assert security.logon_refusal(None, ADDRESS, now=START + timedelta(minutes=1)) is None
