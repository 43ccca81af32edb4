"""Virtual MFA devices (TOTP, RFC 6238): create, bind with two consecutive codes, unbind, delete,
and the one-time check of a code at console logon.

A device is made with a random base32 seed, stored only encrypted (``secret_ciphertext``, sealed
as access key secrets are but under a purpose of its own, so neither ciphertext opens as the
other); the seed and its ``otpauth://`` URI are handed out once, when the device is created.
Codes are six digits for 30-second time steps (SHA-1, what authenticator apps use).

Binding proves the device is in the user's hands: two codes of two consecutive steps, the later
one no further than one step from now (AuthenticationCode1 and AuthenticationCode2, as Alibaba
Cloud asks). A code at logon is taken within one step either side of now, and only once: its
step must be later than the device's ``last_used_step``, which moves forward with a conditional
UPDATE, so two workers given the same code cannot both accept it. The codes used to bind are
spent too.

Like ``iam.services``, each public change is one transaction with its audit event; binding and
unbinding bump the account's version, since whether a user must give a code at logon changes.
Authorization is the caller's (the console views and ``iam.mfa_api`` ask the one authorizer).
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass

import pyotp
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from iam import arns, errors, security, versions
from iam.audit import Actor, record
from iam.ciphers import SecretBox
from iam.crypto import key_ring
from iam.models import Account, User, VirtualMFADevice
from iam.services import check_name

STEP_SECONDS = 30
WINDOW = 1  # steps either side of now a code is taken in
CODE_RE = re.compile(r"^[0-9]{6}\Z")
DEVICE_NAME_RE = re.compile(r"^[A-Za-z0-9._-]+\Z")
SERIAL_NUMBER_RE = re.compile(r"^acs:ram::(?P<account>[0-9]+):mfa/(?P<name>[^/]+)\Z")
ISSUER = "RAM Console"
DEFAULT_DEVICE_LIMIT = 1000


@dataclass(frozen=True)
class NewVirtualMFADevice:
    """A device just created, with what is shown only now: its seed and otpauth URI."""

    device: VirtualMFADevice
    seed: str
    uri: str


# --- seeds and codes ----------------------------------------------------------------------------


def seed_box() -> SecretBox:
    return SecretBox(key_ring(), purpose=b"virtual-mfa-seed")


def encrypt_seed(seed: str) -> str:
    return seed_box().encrypt(seed)


def decrypt_seed(ciphertext: str) -> str:
    return seed_box().decrypt(ciphertext)


def new_seed() -> str:
    """32 base32 characters: 160 random bits, the seed length RFC 4226 recommends."""
    return pyotp.random_base32(32)


def otpauth_uri(seed: str, label: str) -> str:
    return pyotp.TOTP(seed).provisioning_uri(name=label, issuer_name=ISSUER)


def current_step() -> int:
    return int(timezone.now().timestamp()) // STEP_SECONDS


def code_at(seed: str, step: int) -> str:
    return pyotp.TOTP(seed).generate_otp(step)


def same_code(seed: str, step: int, code: str) -> bool:
    return hmac.compare_digest(code_at(seed, step), code)


def check_code_format(code: str, parameter: str) -> str:
    code = (code or "").strip()
    if not CODE_RE.match(code):
        raise invalid_codes(parameter)
    return code


def invalid_codes(parameter: str) -> errors.InvalidParameter:
    """Binding codes that are malformed, wrong, not consecutive, expired or used already."""
    return errors.InvalidParameter(
        f"InvalidParameter.{parameter}",
        f'The parameter - "{parameter}" is invalid: the authentication code is wrong or expired.',
        field="code1",
        plain=_("The codes are wrong or have expired. Enter two consecutive codes from the app."),
    )


def consecutive_step(seed: str, code1: str, code2: str, after: int) -> int | None:
    """The step of ``code2`` when ``code1`` and ``code2`` are the codes of two consecutive steps,
    the second within ``WINDOW`` of now and the first later than ``after``; else None."""
    now = current_step()
    for step in range(now - WINDOW, now + WINDOW + 1):
        if step - 1 > after and same_code(seed, step - 1, code1) and same_code(seed, step, code2):
            return step
    return None


# --- look-ups -----------------------------------------------------------------------------------


def device_arn(account_id: str, name: str) -> str:
    """``acs:ram::<uid>:mfa/<name>``: a device's SerialNumber, the resource it is authorized on
    (``mfa/*`` for listing)."""
    return arns.ram_arn(account_id, f"mfa/{name}")


def not_found() -> errors.EntityNotExist:
    return errors.EntityNotExist(
        "EntityNotExist.VirtualMFADevice", "The virtual MFA device does not exist."
    )


def find_device(account: Account, serial_number: str) -> VirtualMFADevice:
    """The account's device of that SerialNumber; another account's reads as a missing one."""
    match = SERIAL_NUMBER_RE.match(serial_number or "")
    if match is None or match["account"] != account.pk:
        raise not_found()
    device = (
        VirtualMFADevice.objects.filter(account=account, name__iexact=match["name"])
        .select_related("user")
        .first()
    )
    if device is None:
        raise not_found()
    return device


def list_devices(account: Account) -> QuerySet[VirtualMFADevice]:
    return VirtualMFADevice.objects.filter(account=account).select_related("user").order_by("name")


def device_of(user: User) -> VirtualMFADevice | None:
    """The device bound to the user, if any."""
    return VirtualMFADevice.objects.filter(user=user).first()


def user_mfa_info(user: User) -> VirtualMFADevice:
    device = device_of(user)
    if device is None:
        raise not_bound()
    return device


def not_bound() -> errors.EntityNotExist:
    return errors.EntityNotExist(
        "EntityNotExist.User.MFADevice", "The user has not bound any MFA device."
    )


def must_bind_at_logon(user: User) -> bool:
    """A RAM user without a device who must bind one before the console lets them in: the
    account requires MFA for console logon, or the user's login profile says MFABindRequired."""
    if user.is_root:
        return False
    return (
        user.mfa_bind_required
        or security.security_preference(user.account_id).require_mfa_for_logon
    )


# --- changes ------------------------------------------------------------------------------------


def device_limit() -> int:
    limits = getattr(settings, "IAM_LIMITS", {})
    return limits.get("mfa_devices_per_account", DEFAULT_DEVICE_LIMIT)


def new_device(account: Account, name: str, seed: str, actor: Actor) -> VirtualMFADevice:
    """The device row, after the name and limit checks, and its CreateVirtualMFADevice event, in
    the caller's transaction (``create_virtual_mfa_device``, ``enable_virtual_mfa_device``). The
    actor comes last: a function that takes it first is a service of its own."""
    check_name(name, "VirtualMFADeviceName", DEVICE_NAME_RE, 64)
    if VirtualMFADevice.objects.filter(account=account).count() >= device_limit():
        raise errors.LimitExceeded(
            "LimitExceeded.VirtualMFADevice",
            "The count of virtual MFA devices beyond the current limits.",
        )
    if VirtualMFADevice.objects.filter(account=account, name__iexact=name).exists():
        raise taken()
    try:
        with transaction.atomic():
            device = VirtualMFADevice.objects.create(
                account=account, name=name, secret_ciphertext=encrypt_seed(seed)
            )
    except IntegrityError as error:  # the same name created at the same moment
        raise taken() from error
    record(
        actor,
        "ram:CreateVirtualMFADevice",
        device.serial_number,
        account_id=account.pk,
        details={"SerialNumber": device.serial_number},
    )
    return device


def taken() -> errors.EntityAlreadyExists:
    return errors.EntityAlreadyExists(
        "EntityAlreadyExists.VirtualMFADevice",
        "The virtual MFA device does already EXIST.",
        field="name",
        plain=_("A virtual MFA device with this name already exists."),
    )


@transaction.atomic
def create_virtual_mfa_device(actor: Actor, account: Account, name: str) -> NewVirtualMFADevice:
    """CreateVirtualMFADevice: the seed and URI are returned here once and never again."""
    seed = new_seed()
    device = new_device(account, name, seed, actor)
    return NewVirtualMFADevice(device, seed, otpauth_uri(seed, f"{name}@{account.alias}"))


@transaction.atomic
def bind_mfa_device(
    actor: Actor, device: VirtualMFADevice, user: User, code1: str, code2: str
) -> VirtualMFADevice:
    """BindMFADevice: bind an unbound device of the user's account to a user without one."""
    if device.account_id != user.account_id:
        raise not_found()
    code1 = check_code_format(code1, "AuthenticationCode1")
    code2 = check_code_format(code2, "AuthenticationCode2")
    locked = VirtualMFADevice.objects.select_for_update().filter(pk=device.pk).first()
    if locked is None:
        raise not_found()
    if locked.user_id is not None:
        raise errors.EntityAlreadyExists(
            "EntityAlreadyExists.VirtualMFADevice.User",
            "The virtual MFA device is already bound to a user.",
        )
    if VirtualMFADevice.objects.filter(user=user).exists():
        raise already_bound()
    step = consecutive_step(
        decrypt_seed(locked.secret_ciphertext), code1, code2, locked.last_used_step
    )
    if step is None:
        raise invalid_codes("AuthenticationCode1")
    locked.user = user
    locked.activated = timezone.now()
    locked.last_used_step = step
    try:
        with transaction.atomic():
            locked.save(update_fields=["user", "activated", "last_used_step"])
    except IntegrityError as error:  # another device bound to the user at the same moment
        raise already_bound() from error
    versions.bump(user.account_id)
    record(
        actor,
        "ram:BindMFADevice",
        user.arn,
        account_id=user.account_id,
        details={"SerialNumber": locked.serial_number},
    )
    return locked


def already_bound() -> errors.EntityAlreadyExists:
    return errors.EntityAlreadyExists(
        "EntityAlreadyExists.User.MFADevice",
        "The user has already bound a MFA device.",
        plain=_("The user already has an MFA device; unbind it first."),
    )


@transaction.atomic
def enable_virtual_mfa_device(
    actor: Actor, user: User, seed: str, code1: str, code2: str
) -> VirtualMFADevice:
    """The console's one step: create a device with a seed the user has already put in their app
    (shown to them before, held by their console session) and bind it with two codes from it.
    Nothing is kept when the codes are wrong. The device is named after the user."""
    account = user.account
    device = new_device(account, free_device_name(account, user.name or "root"), seed, actor)
    return bind_mfa_device(actor, device, user, code1, code2)


def free_device_name(account: Account, wanted: str) -> str:
    """``wanted`` (made of the characters a device name takes), or with a random suffix when a
    device of the account has that name already."""
    base = re.sub(r"[^A-Za-z0-9._-]", "-", wanted)[:56] or "device"
    name = base
    while VirtualMFADevice.objects.filter(account=account, name__iexact=name).exists():
        name = f"{base}-{secrets.token_hex(3)}"
    return name


@transaction.atomic
def unbind_mfa_device(actor: Actor, user: User) -> VirtualMFADevice:
    """UnbindMFADevice: the device stays, unbound (DeleteVirtualMFADevice removes it)."""
    device = VirtualMFADevice.objects.select_for_update().filter(user=user).first()
    if device is None:
        raise not_bound()
    device.user = None
    device.activated = None
    device.save(update_fields=["user", "activated"])
    versions.bump(user.account_id)
    record(
        actor,
        "ram:UnbindMFADevice",
        user.arn,
        account_id=user.account_id,
        details={"SerialNumber": device.serial_number},
    )
    return device


@transaction.atomic
def delete_virtual_mfa_device(actor: Actor, device: VirtualMFADevice) -> None:
    """DeleteVirtualMFADevice: only an unbound device may be deleted."""
    locked = VirtualMFADevice.objects.select_for_update().filter(pk=device.pk).first()
    if locked is None:
        raise not_found()
    if locked.user_id is not None:
        raise errors.DeleteConflict(
            "DeleteConflict.VirtualMFADevice.User",
            "The virtual MFA device CAN NOT be deleted while it is bound to a user.",
            plain=_("Unbind the device from its user first."),
        )
    serial_number = locked.serial_number
    locked.delete()
    record(
        actor,
        "ram:DeleteVirtualMFADevice",
        serial_number,
        account_id=device.account_id,
        details={"SerialNumber": serial_number},
    )


@transaction.atomic
def disable_virtual_mfa_device(actor: Actor, user: User) -> None:
    """The console's Unbind: unbind the user's device and delete it (its seed is never shown
    again, so nobody could bind it anew)."""
    delete_virtual_mfa_device(actor, unbind_mfa_device(actor, user))


def verify_code(user: User, code: str) -> bool:
    """Whether ``code`` is a code of the user's bound device for a step within ``WINDOW`` of now
    that was not used yet; when it is, that step is spent. The conditional UPDATE is the claim:
    of two requests with the same code, in any workers, one finds the row updated already.
    Audited by the caller (the console's logon event says how it ended)."""
    code = (code or "").strip()
    device = device_of(user)
    if device is None or not CODE_RE.match(code):
        return False
    seed = decrypt_seed(device.secret_ciphertext)
    now = current_step()
    for step in range(now - WINDOW, now + WINDOW + 1):
        if step <= device.last_used_step or not same_code(seed, step, code):
            continue
        claimed = VirtualMFADevice.objects.filter(
            pk=device.pk, user=user, last_used_step__lt=step
        ).update(last_used_step=step)
        return bool(claimed)
    return False
