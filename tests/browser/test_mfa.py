"""MFA in a real browser: a user binds a virtual device from My MFA device (the secret read off
the page, codes computed with pyotp), logs off, logs on with password and code, and only then may
switch to a role whose trust policy requires ``acs:MFAPresent``; the same user logged on without
MFA, and a user without a device, are refused."""

from __future__ import annotations

import json
import time

import pyotp
import pytest
from playwright.sync_api import expect

from iam import services
from iam.audit import SYSTEM_ACTOR
from iam.models import Account, Policy, VirtualMFADevice
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Browser-pass-123"
REFUSED = "does not exist or does not trust you"


def world() -> Account:
    """Account ``acme`` with carol and dave (both may call sts:AssumeRole) and role
    ``needs-mfa``, which trusts the account's users only after MFA."""
    account = services.create_account(SYSTEM_ACTOR, "acme", email="root@acme.example")
    assume = Policy.objects.get(account__isnull=True, name="AliyunSTSAssumeRoleAccess")
    for name in ("carol", "dave"):
        user = services.create_user(SYSTEM_ACTOR, account, name)
        services.set_console_password(SYSTEM_ACTOR, user, PASSWORD, create=True)
        services.attach_policy(SYSTEM_ACTOR, user, assume)
    trust = {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"RAM": [f"acs:ram::{account.pk}:root"]},
                "Condition": {"Bool": {"acs:MFAPresent": "true"}},
            }
        ],
    }
    services.create_role(SYSTEM_ACTOR, account, "needs-mfa", trust_policy=json.dumps(trust))
    return account


def password_step(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/logon/")
    page.get_by_label("Logon name").fill(f"{name}@acme")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log on").click()


def switch_to_needs_mfa(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_test_id("identity-menu").click()
    page.get_by_role("link", name="Switch Role").click()
    page.get_by_label("Account").fill("acme")
    page.get_by_label("Role name").fill("needs-mfa")
    page.get_by_role("button", name="Switch Role").click()


def log_off(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_test_id("identity-menu").click()
    page.get_by_role("button", name="Log off").click()
    page.wait_for_url("**/logon/")


def bind_own_device(page) -> str:  # type: ignore[no-untyped-def]
    """Bind a device from My MFA device, as a person with an authenticator app would; its seed."""
    page.get_by_test_id("identity-menu").click()
    page.get_by_role("link", name="My MFA device").click()
    expect(page.locator(".mfa-qr svg")).to_be_visible()
    seed = page.get_by_test_id("mfa-secret").inner_text().strip()
    totp, now = pyotp.TOTP(seed), time.time()
    page.get_by_label("First code").fill(totp.at(now - 30))
    page.get_by_label("Second code").fill(totp.at(now))
    page.get_by_role("button", name="Bind", exact=True).click()
    assert page.get_by_test_id("mfa-state").inner_text() == "Bound"
    return seed


def test_switching_to_a_role_that_requires_mfa_takes_an_mfa_logon(new_page) -> None:  # type: ignore[no-untyped-def]
    world()
    carol = new_page()
    password_step(carol, "carol")
    carol.wait_for_url(lambda url: "/logon/" not in url)
    seed = bind_own_device(carol)
    screenshot(carol, "mfa-bound")

    # This logon had no MFA (the device was bound during it): the role refuses it.
    switch_to_needs_mfa(carol)
    assert REFUSED in carol.get_by_role("alert").inner_text()
    assert carol.get_by_test_id("role-banner").count() == 0

    log_off(carol)
    password_step(carol, "carol")
    carol.wait_for_url("**/logon/mfa/")
    assert "carol@acme" in carol.locator("main").inner_text()
    carol.get_by_label("MFA code").fill(pyotp.TOTP(seed).at(time.time() + 30))
    carol.get_by_role("button", name="Verify").click()
    carol.wait_for_url(lambda url: "/logon/" not in url)

    switch_to_needs_mfa(carol)
    assert "needs-mfa @ acme" in carol.get_by_test_id("role-banner").inner_text()
    screenshot(carol, "mfa-switched")

    dave = new_page()
    password_step(dave, "dave")
    dave.wait_for_url(lambda url: "/logon/" not in url)
    switch_to_needs_mfa(dave)
    assert REFUSED in dave.get_by_role("alert").inner_text()


def test_a_wrong_code_keeps_the_user_out(new_page) -> None:  # type: ignore[no-untyped-def]
    world()
    carol = new_page()
    password_step(carol, "carol")
    carol.wait_for_url(lambda url: "/logon/" not in url)
    seed = bind_own_device(carol)
    log_off(carol)
    password_step(carol, "carol")
    carol.wait_for_url("**/logon/mfa/")
    right = pyotp.TOTP(seed).at(time.time() + 30)
    carol.get_by_label("MFA code").fill(f"{(int(right) + 1) % 1_000_000:06d}")
    carol.get_by_role("button", name="Verify").click()
    assert "The code is wrong" in carol.locator("main").inner_text()
    assert carol.goto("/users/").url.endswith("/logon/?next=/users/")
    assert VirtualMFADevice.objects.get().user.name == "carol"
