"""The virtual MFA device actions (``iam.mfa_api``) with the official RAM SDK
(``alibabacloud-ram20150501``) against a live server: a full round trip with codes computed from
the returned seed, Alibaba's error codes, permissions, other accounts' devices never found."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

import pyotp
import pytest
from alibabacloud_ram20150501 import models as ram_models
from alibabacloud_ram20150501.client import Client as RamClient
from alibabacloud_tea_openapi.exceptions import ClientException

from iam import mfa, services
from iam.audit import SYSTEM_ACTOR
from iam.models import AuditEvent, VirtualMFADevice
from tests.api.conftest import Key, World
from tests.api.sdk import assume, ram, sts


def client(world: World, key: Key, token: str | None = None) -> RamClient:
    return ram(world.endpoint, key.access_key_id, key.secret, token)


def admin_a(world: World) -> RamClient:
    return client(world, world.admin_a_key)


def error_of(call: Callable[[], Any]) -> tuple[int, str]:
    with pytest.raises(ClientException) as caught:
        call()
    return caught.value.status_code, caught.value.code


def create(ram_client: RamClient, name: str = "carol-phone") -> Any:
    request = ram_models.CreateVirtualMFADeviceRequest(virtual_mfadevice_name=name)
    return ram_client.create_virtual_mfadevice(request).body.virtual_mfadevice


def bind(ram_client: RamClient, serial_number: str, user_name: str, seed: str) -> Any:
    """Bind with the codes of the previous and the current 30-second step."""
    totp, now = pyotp.TOTP(seed), time.time()
    request = ram_models.BindMFADeviceRequest(
        serial_number=serial_number,
        user_name=user_name,
        authentication_code_1=totp.at(now - 30),
        authentication_code_2=totp.at(now),
    )
    return ram_client.bind_mfadevice(request).body


def listed(ram_client: RamClient) -> list[Any]:
    return ram_client.list_virtual_mfadevices().body.virtual_mfadevices.virtual_mfadevice


def mfa_info(ram_client: RamClient, user_name: str) -> Any:
    request = ram_models.GetUserMFAInfoRequest(user_name=user_name)
    return ram_client.get_user_mfainfo(request).body.mfadevice


def delete(ram_client: RamClient, serial_number: str) -> Any:
    request = ram_models.DeleteVirtualMFADeviceRequest(serial_number=serial_number)
    return ram_client.delete_virtual_mfadevice(request).body


def unbind(ram_client: RamClient, user_name: str) -> Any:
    request = ram_models.UnbindMFADeviceRequest(user_name=user_name)
    return ram_client.unbind_mfadevice(request).body


@pytest.fixture
def carol(world: World):  # type: ignore[no-untyped-def]
    return services.create_user(SYSTEM_ACTOR, world.company_a, "carol", display_name="Carol")


# --- round trip ---------------------------------------------------------------------------------


def test_create_answers_a_serial_number_a_seed_and_a_png(world: World) -> None:
    device = create(admin_a(world))
    png = base64.b64decode(device.qrcode_png)
    assert device.serial_number == f"acs:ram::{world.company_a.pk}:mfa/carol-phone"
    assert len(device.base_32string_seed) == 32
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


def test_the_seed_is_stored_encrypted(world: World) -> None:
    device = create(admin_a(world))
    stored = VirtualMFADevice.objects.get(name="carol-phone")
    assert device.base_32string_seed not in stored.secret_ciphertext
    assert mfa.decrypt_seed(stored.secret_ciphertext) == device.base_32string_seed


def test_a_device_goes_through_its_whole_life(world: World, carol) -> None:  # type: ignore[no-untyped-def]
    admin = admin_a(world)
    device = create(admin)
    bind(admin, device.serial_number, "carol", device.base_32string_seed)
    [entry] = listed(admin)
    assert (entry.serial_number, entry.user.user_name, entry.user.user_id) == (
        device.serial_number,
        "carol",
        carol.user_id,
    )
    assert entry.activate_date
    info = mfa_info(admin, "carol")
    assert (info.serial_number, info.type) == (device.serial_number, "VMFA")
    assert unbind(admin, "carol").mfadevice.serial_number == device.serial_number
    assert listed(admin)[0].user is None
    delete(admin, device.serial_number)
    assert listed(admin) == []


def test_a_bound_device_verifies_a_later_code_once(world: World, carol) -> None:  # type: ignore[no-untyped-def]
    admin = admin_a(world)
    device = create(admin)
    bind(admin, device.serial_number, "carol", device.base_32string_seed)
    later = pyotp.TOTP(device.base_32string_seed).at(time.time() + 30)
    assert [mfa.verify_code(carol, later), mfa.verify_code(carol, later)] == [True, False]


# --- errors -------------------------------------------------------------------------------------


def test_wrong_codes_do_not_bind(world: World, carol) -> None:  # type: ignore[no-untyped-def]
    admin = admin_a(world)
    device = create(admin)
    request = ram_models.BindMFADeviceRequest(
        serial_number=device.serial_number,
        user_name="carol",
        authentication_code_1="000000",
        authentication_code_2="000001",
    )
    assert error_of(lambda: admin.bind_mfadevice(request)) == (
        400,
        "InvalidParameter.AuthenticationCode1",
    )
    assert listed(admin)[0].user is None


def test_a_taken_name_is_409(world: World) -> None:
    admin = admin_a(world)
    create(admin)
    assert error_of(lambda: create(admin, "CAROL-phone")) == (
        409,
        "EntityAlreadyExists.VirtualMFADevice",
    )


def test_a_bound_device_is_not_deleted(world: World, carol) -> None:  # type: ignore[no-untyped-def]
    admin = admin_a(world)
    device = create(admin)
    bind(admin, device.serial_number, "carol", device.base_32string_seed)
    assert error_of(lambda: delete(admin, device.serial_number)) == (
        409,
        "DeleteConflict.VirtualMFADevice.User",
    )


def test_a_user_without_a_device_has_no_mfa_info(world: World, carol) -> None:  # type: ignore[no-untyped-def]
    admin = admin_a(world)
    assert error_of(lambda: mfa_info(admin, "carol")) == (404, "EntityNotExist.User.MFADevice")
    assert error_of(lambda: unbind(admin, "carol")) == (404, "EntityNotExist.User.MFADevice")


def test_a_missing_device_or_user_is_404(world: World, carol) -> None:  # type: ignore[no-untyped-def]
    admin = admin_a(world)
    device = create(admin)
    missing = f"acs:ram::{world.company_a.pk}:mfa/nothing"
    assert error_of(lambda: delete(admin, missing)) == (404, "EntityNotExist.VirtualMFADevice")
    assert error_of(lambda: bind(admin, device.serial_number, "nobody", "A" * 32)) == (
        404,
        "EntityNotExist.User",
    )


# --- permissions and other accounts -------------------------------------------------------------


def test_a_user_without_permission_is_refused_naming_the_action(world: World) -> None:
    with pytest.raises(ClientException) as caught:
        create(client(world, world.bob_key))
    detail = caught.value.data["AccessDeniedDetail"]
    assert (caught.value.status_code, caught.value.code) == (403, "NoPermission")
    assert detail["AuthAction"] == "ram:CreateVirtualMFADevice"
    assert detail["AuthResource"] == f"acs:ram::{world.company_b.pk}:mfa/carol-phone"
    assert not VirtualMFADevice.objects.exists()


def test_binding_is_authorized_on_the_user(world: World) -> None:
    device = mfa.create_virtual_mfa_device(SYSTEM_ACTOR, world.company_b, "bobs").device
    with pytest.raises(ClientException) as caught:
        bind(client(world, world.bob_key), device.serial_number, "bob", "A" * 32)
    detail = caught.value.data["AccessDeniedDetail"]
    assert (detail["AuthAction"], detail["AuthResource"]) == ("ram:BindMFADevice", world.bob.arn)


def test_another_accounts_device_is_never_found(world: World, carol) -> None:  # type: ignore[no-untyped-def]
    device = create(admin_a(world))
    bind(admin_a(world), device.serial_number, "carol", device.base_32string_seed)
    root_b = client(world, world.root_b_key)
    assert listed(root_b) == []
    assert error_of(lambda: delete(root_b, device.serial_number)) == (
        404,
        "EntityNotExist.VirtualMFADevice",
    )
    assert error_of(lambda: mfa_info(root_b, "carol")) == (404, "EntityNotExist.User")


def test_another_accounts_device_cannot_be_bound_to_ones_own_user(world: World) -> None:
    device = create(admin_a(world))
    root_b = client(world, world.root_b_key)
    assert error_of(
        lambda: bind(root_b, device.serial_number, "bob", device.base_32string_seed)
    ) == (404, "EntityNotExist.VirtualMFADevice")
    assert VirtualMFADevice.objects.get().user is None


def test_a_role_session_creates_devices_in_its_roles_account(world: World) -> None:
    """Alice of B, in A's ops-admin role (AliyunRAMFullAccess), acts in A."""
    creds = assume(
        sts(world.endpoint, world.alice_key.access_key_id, world.alice_key.secret),
        world.role.arn,
    ).credentials
    session = client(world, Key(creds.access_key_id, creds.access_key_secret), creds.security_token)
    device = create(session, "from-b")
    assert device.serial_number == f"acs:ram::{world.company_a.pk}:mfa/from-b"
    event = AuditEvent.objects.get(action="ram:CreateVirtualMFADevice")
    assert event.logon_identity == world.alice.arn
