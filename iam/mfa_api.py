"""Virtual MFA devices over the RPC API (RAM 2015-05-01), in the shapes of the official SDK's
models: CreateVirtualMFADevice, BindMFADevice, UnbindMFADevice, ListVirtualMFADevices,
DeleteVirtualMFADevice, GetUserMFAInfo.

Like every RAM action (``iam.api``), each authorizes ``ram:<Action>`` as the effective identity,
on the device's SerialNumber (``acs:ram::<uid>:mfa/<name>``, ``mfa/*`` to list) or, for the
actions Alibaba Cloud authorizes on a user, on the user's ARN; then it calls one service
(``iam.mfa``). Devices and users of other accounts are never found.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import segno

from iam import mfa
from iam.api import RAM_VERSION, account_of, authorize, get_user
from iam.models import VirtualMFADevice
from iam.rpc import Call, action, iso


def qr_code_png(uri: str) -> str:
    """``QRCodePNG``: the otpauth URI as a QR code, a base64 PNG."""
    image = io.BytesIO()
    segno.make(uri, error="m").save(image, kind="png", scale=5, border=4)
    return base64.b64encode(image.getvalue()).decode("ascii")


def device_body(device: VirtualMFADevice) -> dict[str, Any]:
    body: dict[str, Any] = {"SerialNumber": device.serial_number}
    if device.user is not None:
        body["ActivateDate"] = iso(device.activated)
        body["User"] = {
            "UserName": device.user.name,
            "UserId": device.user.user_id,
            "DisplayName": device.user.display_name,
        }
    return body


def authorized_device(call: Call) -> VirtualMFADevice:
    serial_number = call.param("SerialNumber", required=True) or ""
    device = mfa.find_device(account_of(call), serial_number)
    authorize(call, device.serial_number)
    return device


@action(RAM_VERSION, "CreateVirtualMFADevice")
def create_virtual_mfa_device(call: Call) -> dict[str, Any]:
    account = account_of(call)
    name = call.param("VirtualMFADeviceName", required=True) or ""
    authorize(call, mfa.device_arn(account.pk, name))
    created = mfa.create_virtual_mfa_device(call.actor, account, name)
    return {
        "VirtualMFADevice": {
            "SerialNumber": created.device.serial_number,
            "Base32StringSeed": created.seed,
            "QRCodePNG": qr_code_png(created.uri),
        }
    }


@action(RAM_VERSION, "BindMFADevice")
def bind_mfa_device(call: Call) -> dict[str, Any]:
    account = account_of(call)
    user = get_user(call, account)
    authorize(call, user.arn)
    device = mfa.find_device(account, call.param("SerialNumber", required=True) or "")
    mfa.bind_mfa_device(
        call.actor,
        device,
        user,
        call.param("AuthenticationCode1", required=True) or "",
        call.param("AuthenticationCode2", required=True) or "",
    )
    return {}


@action(RAM_VERSION, "UnbindMFADevice")
def unbind_mfa_device(call: Call) -> dict[str, Any]:
    user = get_user(call, account_of(call))
    authorize(call, user.arn)
    device = mfa.unbind_mfa_device(call.actor, user)
    return {"MFADevice": {"SerialNumber": device.serial_number}}


@action(RAM_VERSION, "ListVirtualMFADevices")
def list_virtual_mfa_devices(call: Call) -> dict[str, Any]:
    account = account_of(call)
    authorize(call, mfa.device_arn(account.pk, "*"))
    devices = [device_body(device) for device in mfa.list_devices(account)]
    return {"VirtualMFADevices": {"VirtualMFADevice": devices}}


@action(RAM_VERSION, "DeleteVirtualMFADevice")
def delete_virtual_mfa_device(call: Call) -> dict[str, Any]:
    mfa.delete_virtual_mfa_device(call.actor, authorized_device(call))
    return {}


@action(RAM_VERSION, "GetUserMFAInfo")
def get_user_mfa_info(call: Call) -> dict[str, Any]:
    user = get_user(call, account_of(call))
    authorize(call, user.arn)
    device = mfa.user_mfa_info(user)
    return {"MFADevice": {"SerialNumber": device.serial_number, "Type": "VMFA"}}
