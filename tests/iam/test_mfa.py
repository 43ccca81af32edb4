"""``iam.mfa``: virtual MFA devices, binding with two consecutive codes, one-time codes at logon."""

from __future__ import annotations

from collections.abc import Iterator

import pyotp
import pytest
import time_machine

from iam import errors, mfa
from iam.audit import SYSTEM_ACTOR
from iam.crypto import decrypt_secret
from iam.models import Account, AuditEvent, SecurityPreference, User, VirtualMFADevice

pytestmark = pytest.mark.django_db

STEP = 56_666_667  # a 30-second step; NOW is ten seconds into it
NOW = STEP * 30 + 10


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def code(seed: str, steps_from_now: int = 0) -> str:
    return pyotp.TOTP(seed).at(NOW + 30 * steps_from_now)


def version(account: Account) -> int:
    return Account.objects.get(pk=account.pk).version


@pytest.fixture
def created(account_a):  # type: ignore[no-untyped-def]
    return mfa.create_virtual_mfa_device(SYSTEM_ACTOR, account_a, "bob-phone")


@pytest.fixture
def bound(created, user_a):  # type: ignore[no-untyped-def]
    """bob's device, bound with the codes of the previous and the current step."""
    mfa.bind_mfa_device(
        SYSTEM_ACTOR, created.device, user_a, code(created.seed, -1), code(created.seed)
    )
    return created


# --- create -------------------------------------------------------------------------------------


def test_the_seed_is_stored_encrypted_and_opens_only_as_an_mfa_seed(created) -> None:  # type: ignore[no-untyped-def]
    ciphertext = created.device.secret_ciphertext
    assert created.seed not in ciphertext
    assert mfa.decrypt_seed(ciphertext) == created.seed
    with pytest.raises(ValueError):
        decrypt_secret(ciphertext)  # not an access key secret's purpose


def test_the_seed_is_160_random_bits_of_base32(account_a, created) -> None:  # type: ignore[no-untyped-def]
    other = mfa.create_virtual_mfa_device(SYSTEM_ACTOR, account_a, "other")
    assert len(created.seed) == 32
    assert created.seed != other.seed


def test_the_uri_is_an_otpauth_totp_uri_with_the_seed(created) -> None:  # type: ignore[no-untyped-def]
    parsed = pyotp.parse_uri(created.uri)
    assert created.uri.startswith("otpauth://totp/")
    assert parsed.secret == created.seed
    assert parsed.name == "bob-phone@company-a"


def test_creation_is_audited_without_the_seed(created) -> None:  # type: ignore[no-untyped-def]
    event = AuditEvent.objects.get(action="ram:CreateVirtualMFADevice")
    assert event.resource_arn == created.device.serial_number
    assert created.seed not in str(event.details)


def test_the_serial_number_names_the_account_and_device(account_a, created) -> None:  # type: ignore[no-untyped-def]
    assert created.device.serial_number == f"acs:ram::{account_a.pk}:mfa/bob-phone"


def test_a_name_is_unique_in_the_account_in_any_case(account_a, created) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(errors.EntityAlreadyExists) as raised:
        mfa.create_virtual_mfa_device(SYSTEM_ACTOR, account_a, "BOB-phone")
    assert raised.value.code == "EntityAlreadyExists.VirtualMFADevice"


def test_another_account_may_use_the_same_name(account_b, created) -> None:  # type: ignore[no-untyped-def]
    assert mfa.create_virtual_mfa_device(SYSTEM_ACTOR, account_b, "bob-phone").device.pk


@pytest.mark.parametrize("name", ["", "has space", "slash/name", "x" * 65])
def test_a_malformed_name_is_refused(account_a, name: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(errors.InvalidParameter) as raised:
        mfa.create_virtual_mfa_device(SYSTEM_ACTOR, account_a, name)
    assert raised.value.code.startswith("InvalidParameter.VirtualMFADeviceName")


def test_the_account_limit_is_kept(account_a, settings) -> None:  # type: ignore[no-untyped-def]
    settings.IAM_LIMITS = {"mfa_devices_per_account": 1}
    mfa.create_virtual_mfa_device(SYSTEM_ACTOR, account_a, "one")
    with pytest.raises(errors.LimitExceeded):
        mfa.create_virtual_mfa_device(SYSTEM_ACTOR, account_a, "two")


# --- bind ---------------------------------------------------------------------------------------


def test_two_consecutive_codes_bind_the_device(bound, user_a) -> None:  # type: ignore[no-untyped-def]
    device = VirtualMFADevice.objects.get(pk=bound.device.pk)
    assert device.user == user_a
    assert device.activated is not None
    assert device.last_used_step == STEP


def test_the_current_and_the_next_code_bind_too(created, user_a) -> None:  # type: ignore[no-untyped-def]
    mfa.bind_mfa_device(
        SYSTEM_ACTOR, created.device, user_a, code(created.seed), code(created.seed, 1)
    )
    assert VirtualMFADevice.objects.get(pk=created.device.pk).last_used_step == STEP + 1


def test_binding_bumps_the_version_and_is_audited(account_a, created, user_a) -> None:  # type: ignore[no-untyped-def]
    before = version(account_a)
    mfa.bind_mfa_device(
        SYSTEM_ACTOR, created.device, user_a, code(created.seed, -1), code(created.seed)
    )
    event = AuditEvent.objects.get(action="ram:BindMFADevice")
    assert version(account_a) == before + 1
    assert (event.resource_arn, event.details) == (
        user_a.arn,
        {"SerialNumber": created.device.serial_number},
    )


@pytest.mark.parametrize(
    "steps",
    [
        (-2, 0),  # not consecutive
        (0, -1),  # in the wrong order
        (0, 0),  # the same code twice
        (-3, -2),  # consecutive, but too old
        (1, 2),  # consecutive, but too far ahead
    ],
)
def test_codes_that_are_not_two_consecutive_current_ones_are_refused(
    created, user_a, steps: tuple[int, int]
) -> None:  # type: ignore[no-untyped-def]
    first, second = (code(created.seed, step) for step in steps)
    with pytest.raises(errors.InvalidParameter) as raised:
        mfa.bind_mfa_device(SYSTEM_ACTOR, created.device, user_a, first, second)
    assert raised.value.code == "InvalidParameter.AuthenticationCode1"
    assert VirtualMFADevice.objects.get(pk=created.device.pk).user is None


@pytest.mark.parametrize("wrong", ["", "12345", "1234567", "abcdef", " "])
def test_malformed_codes_are_refused(created, user_a, wrong: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(errors.InvalidParameter):
        mfa.bind_mfa_device(SYSTEM_ACTOR, created.device, user_a, wrong, code(created.seed))


def test_a_wrong_code_is_refused(created, user_a) -> None:  # type: ignore[no-untyped-def]
    wrong = f"{(int(code(created.seed, -1)) + 1) % 1_000_000:06d}"
    with pytest.raises(errors.InvalidParameter):
        mfa.bind_mfa_device(SYSTEM_ACTOR, created.device, user_a, wrong, code(created.seed))


def test_a_user_binds_one_device_only(account_a, bound, user_a) -> None:  # type: ignore[no-untyped-def]
    second = mfa.create_virtual_mfa_device(SYSTEM_ACTOR, account_a, "second")
    with pytest.raises(errors.EntityAlreadyExists) as raised:
        mfa.bind_mfa_device(
            SYSTEM_ACTOR, second.device, user_a, code(second.seed, -1), code(second.seed)
        )
    assert raised.value.code == "EntityAlreadyExists.User.MFADevice"


def test_a_bound_device_cannot_be_bound_again(bound, admin_a) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(errors.EntityAlreadyExists) as raised:
        mfa.bind_mfa_device(
            SYSTEM_ACTOR, bound.device, admin_a, code(bound.seed), code(bound.seed, 1)
        )
    assert raised.value.code == "EntityAlreadyExists.VirtualMFADevice.User"


def test_a_device_of_another_account_is_not_found(account_b, user_a) -> None:  # type: ignore[no-untyped-def]
    other = mfa.create_virtual_mfa_device(SYSTEM_ACTOR, account_b, "theirs")
    with pytest.raises(errors.EntityNotExist):
        mfa.bind_mfa_device(
            SYSTEM_ACTOR, other.device, user_a, code(other.seed, -1), code(other.seed)
        )


# --- codes at logon -----------------------------------------------------------------------------


def test_a_code_is_accepted_once(bound, user_a) -> None:  # type: ignore[no-untyped-def]
    assert mfa.verify_code(user_a, code(bound.seed, 1)) is True
    assert mfa.verify_code(user_a, code(bound.seed, 1)) is False


def test_the_codes_spent_on_binding_are_refused(bound, user_a) -> None:  # type: ignore[no-untyped-def]
    assert mfa.verify_code(user_a, code(bound.seed)) is False
    assert mfa.verify_code(user_a, code(bound.seed, -1)) is False


def test_a_code_two_steps_away_is_refused(bound, user_a) -> None:  # type: ignore[no-untyped-def]
    assert mfa.verify_code(user_a, code(bound.seed, 2)) is False


def test_the_previous_step_is_taken_within_the_window(created, user_a) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW - 90, tick=False):
        mfa.bind_mfa_device(
            SYSTEM_ACTOR, created.device, user_a, code(created.seed, -4), code(created.seed, -3)
        )
    assert mfa.verify_code(user_a, code(created.seed, -1)) is True


def test_an_earlier_step_is_refused_after_a_later_one(bound, user_a) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW + 30, tick=False):
        assert mfa.verify_code(user_a, code(bound.seed, 2)) is True
        assert mfa.verify_code(user_a, code(bound.seed, 1)) is False


def test_two_workers_with_the_same_code_accept_it_once(bound, user_a, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Both read the device before either claims the step: the conditional UPDATE decides."""
    stale = mfa.device_of(user_a)
    monkeypatch.setattr(mfa, "device_of", lambda user: VirtualMFADevice.objects.get(pk=stale.pk))
    first = mfa.verify_code(user_a, code(bound.seed, 1))
    monkeypatch.setattr(mfa, "device_of", lambda user: stale)
    second = mfa.verify_code(user_a, code(bound.seed, 1))
    assert (first, second) == (True, False)


@pytest.mark.parametrize("wrong", ["", "000000x", "12345", None])
def test_malformed_codes_never_verify(bound, user_a, wrong) -> None:  # type: ignore[no-untyped-def]
    assert mfa.verify_code(user_a, wrong) is False


def test_a_user_without_a_device_never_verifies(user_a) -> None:  # type: ignore[no-untyped-def]
    assert mfa.verify_code(user_a, "123456") is False


# --- unbind and delete --------------------------------------------------------------------------


def test_unbinding_keeps_the_device_unbound(account_a, bound, user_a) -> None:  # type: ignore[no-untyped-def]
    before = version(account_a)
    mfa.unbind_mfa_device(SYSTEM_ACTOR, user_a)
    device = VirtualMFADevice.objects.get(pk=bound.device.pk)
    assert (device.user, device.activated) == (None, None)
    assert version(account_a) == before + 1
    assert AuditEvent.objects.filter(action="ram:UnbindMFADevice").exists()


def test_an_unbound_user_codes_no_longer_verify(bound, user_a) -> None:  # type: ignore[no-untyped-def]
    mfa.unbind_mfa_device(SYSTEM_ACTOR, user_a)
    assert mfa.verify_code(user_a, code(bound.seed, 1)) is False


def test_unbinding_a_user_without_a_device_is_not_found(user_a) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(errors.EntityNotExist) as raised:
        mfa.unbind_mfa_device(SYSTEM_ACTOR, user_a)
    assert raised.value.code == "EntityNotExist.User.MFADevice"


def test_a_bound_device_cannot_be_deleted(bound) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(errors.DeleteConflict):
        mfa.delete_virtual_mfa_device(SYSTEM_ACTOR, bound.device)
    assert VirtualMFADevice.objects.filter(pk=bound.device.pk).exists()


def test_an_unbound_device_is_deleted(created) -> None:  # type: ignore[no-untyped-def]
    mfa.delete_virtual_mfa_device(SYSTEM_ACTOR, created.device)
    assert not VirtualMFADevice.objects.filter(pk=created.device.pk).exists()
    assert AuditEvent.objects.filter(action="ram:DeleteVirtualMFADevice").exists()


def test_the_consoles_unbind_deletes_the_device(bound, user_a) -> None:  # type: ignore[no-untyped-def]
    mfa.disable_virtual_mfa_device(SYSTEM_ACTOR, user_a)
    assert not VirtualMFADevice.objects.filter(pk=bound.device.pk).exists()


# --- the console's create-and-bind --------------------------------------------------------------


def test_enabling_creates_a_device_named_after_the_user(user_a) -> None:  # type: ignore[no-untyped-def]
    seed = mfa.new_seed()
    device = mfa.enable_virtual_mfa_device(SYSTEM_ACTOR, user_a, seed, code(seed, -1), code(seed))
    assert (device.name, device.user) == ("bob", user_a)
    assert mfa.decrypt_seed(device.secret_ciphertext) == seed


def test_enabling_with_wrong_codes_keeps_nothing(user_a) -> None:  # type: ignore[no-untyped-def]
    seed = mfa.new_seed()
    with pytest.raises(errors.InvalidParameter):
        mfa.enable_virtual_mfa_device(SYSTEM_ACTOR, user_a, seed, code(seed, -2), code(seed))
    assert not VirtualMFADevice.objects.exists()
    assert not AuditEvent.objects.filter(action="ram:CreateVirtualMFADevice").exists()


def test_enabling_picks_another_name_when_the_users_is_taken(account_a, user_a) -> None:  # type: ignore[no-untyped-def]
    mfa.create_virtual_mfa_device(SYSTEM_ACTOR, account_a, "BOB")
    seed = mfa.new_seed()
    device = mfa.enable_virtual_mfa_device(SYSTEM_ACTOR, user_a, seed, code(seed, -1), code(seed))
    assert device.name.startswith("bob-")


# --- look-ups -----------------------------------------------------------------------------------


def test_a_serial_number_of_another_account_reads_as_missing(account_a, account_b) -> None:  # type: ignore[no-untyped-def]
    theirs = mfa.create_virtual_mfa_device(SYSTEM_ACTOR, account_b, "theirs").device
    spoofed = theirs.serial_number.replace(account_b.pk, account_a.pk)
    for serial_number in (theirs.serial_number, spoofed, "nonsense"):
        with pytest.raises(errors.EntityNotExist):
            mfa.find_device(account_a, serial_number)


def test_a_serial_number_finds_the_device_in_any_case(account_a, created) -> None:  # type: ignore[no-untyped-def]
    found = mfa.find_device(account_a, f"acs:ram::{account_a.pk}:mfa/BOB-PHONE")
    assert found.pk == created.device.pk


def test_user_mfa_info_is_the_bound_device(bound, user_a, admin_a) -> None:  # type: ignore[no-untyped-def]
    assert mfa.user_mfa_info(user_a).pk == bound.device.pk
    with pytest.raises(errors.EntityNotExist):
        mfa.user_mfa_info(admin_a)


def test_who_must_bind_at_logon(account_a, user_a) -> None:  # type: ignore[no-untyped-def]
    root = User.objects.get(account=account_a, kind=User.Kind.ROOT)
    assert mfa.must_bind_at_logon(user_a) is False
    SecurityPreference.objects.create(account=account_a, require_mfa_for_logon=True)
    assert (mfa.must_bind_at_logon(user_a), mfa.must_bind_at_logon(root)) == (True, False)


def test_mfa_bind_required_makes_a_user_bind_at_logon(user_a) -> None:  # type: ignore[no-untyped-def]
    user_a.mfa_bind_required = True
    assert mfa.must_bind_at_logon(user_a) is True
