"""MFA in the console: the logon's second step, binding a device (one's own, a user's as an
administrator, or at logon when the account requires it), unbinding, and ``acs:MFAPresent``
carried from the logon into the identity and into roles switched to."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pyotp
import pytest
import time_machine
from django.urls import reverse

from console.switching import SESSION_KEY as SWITCHED
from console.views.mfa import ENROLLMENT_KEY, MAX_CODE_ATTEMPTS, MFA_PRESENT_KEY, PENDING_KEY
from iam import mfa, security, services
from iam.audit import SYSTEM_ACTOR
from iam.models import AuditEvent, Policy, SecurityPreference, VirtualMFADevice
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

STEP = 56_666_667
NOW = STEP * 30 + 10
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def code(seed: str, steps_from_now: int = 0) -> str:
    return pyotp.TOTP(seed).at(NOW + 30 * steps_from_now)


def bind(user) -> str:  # type: ignore[no-untyped-def]
    """Bind a device to ``user`` with the previous and current codes; its seed."""
    seed = mfa.new_seed()
    mfa.enable_virtual_mfa_device(SYSTEM_ACTOR, user, seed, code(seed, -1), code(seed))
    return seed


@pytest.fixture
def bob_seed(user_a) -> str:  # type: ignore[no-untyped-def]
    return bind(user_a)


def password_step(client, user, **extra: str):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("console:logon"), {"logon_name": user.logon_name, "password": PASSWORD, **extra}
    )


def code_step(client, value: str):  # type: ignore[no-untyped-def]
    return client.post(reverse("console:logon_mfa"), {"code": value})


def logged_on(client) -> bool:  # type: ignore[no-untyped-def]
    return "_auth_user_id" in client.session


def session_seed(client) -> str:  # type: ignore[no-untyped-def]
    """The seed the page just showed (held, encrypted, by the session)."""
    return mfa.decrypt_seed(client.session[ENROLLMENT_KEY]["seed"])


def require_mfa(account) -> None:  # type: ignore[no-untyped-def]
    SecurityPreference.objects.update_or_create(
        account=account, defaults={"require_mfa_for_logon": True}
    )


# --- the logon's second step --------------------------------------------------------------------


def test_a_correct_password_asks_for_a_code_before_logging_on(client, user_a, bob_seed) -> None:  # type: ignore[no-untyped-def]
    response = password_step(client, user_a)
    assert response.status_code == 302
    assert response.url == reverse("console:logon_mfa")
    assert not logged_on(client)
    assert client.get("/users/").status_code == 302


def test_the_code_page_names_the_pending_user(client, user_a, bob_seed) -> None:  # type: ignore[no-untyped-def]
    password_step(client, user_a)
    page = client.get(reverse("console:logon_mfa"))
    assert b"bob@company-a" in page.content
    assert b'autocomplete="one-time-code"' in page.content


def test_the_right_code_logs_on_with_mfa(client, user_a, bob_seed) -> None:  # type: ignore[no-untyped-def]
    password_step(client, user_a, next="/switch-role/")
    response = code_step(client, code(bob_seed, 1))
    assert (response.status_code, response.url) == (302, "/switch-role/")
    assert logged_on(client)
    assert client.session[MFA_PRESENT_KEY] is True
    assert PENDING_KEY not in client.session


def test_the_logon_is_audited_as_passing_mfa(client, user_a, bob_seed) -> None:  # type: ignore[no-untyped-def]
    password_step(client, user_a)
    code_step(client, code(bob_seed, 1))
    event = AuditEvent.objects.get(action="console:Logon")
    assert (event.result, event.details, event.logon_identity) == (
        "Success",
        {"MFA": True},
        user_a.arn,
    )


def test_a_wrong_code_is_refused_and_audited_as_a_failed_logon(client, user_a, bob_seed) -> None:  # type: ignore[no-untyped-def]
    password_step(client, user_a)
    response = code_step(client, f"{(int(code(bob_seed, 1)) + 1) % 1_000_000:06d}")
    event = AuditEvent.objects.get(action="console:Logon")
    assert response.status_code == 200
    assert b"The code is wrong" in response.content
    assert not logged_on(client)
    assert (event.result, event.error_code) == ("Failure", "InvalidMFACode")


def test_a_replayed_code_is_refused(client, user_a, bob_seed) -> None:  # type: ignore[no-untyped-def]
    password_step(client, user_a)
    code_step(client, code(bob_seed, 1))
    client.post(reverse("console:logoff"))
    password_step(client, user_a)
    response = code_step(client, code(bob_seed, 1))
    assert b"The code is wrong" in response.content
    assert not logged_on(client)


def test_the_codes_spent_on_binding_do_not_log_on(client, user_a, bob_seed) -> None:  # type: ignore[no-untyped-def]
    password_step(client, user_a)
    code_step(client, code(bob_seed))
    assert not logged_on(client)


def test_too_many_wrong_codes_ask_for_the_password_again(client, user_a, bob_seed) -> None:  # type: ignore[no-untyped-def]
    password_step(client, user_a)
    for _ in range(MAX_CODE_ATTEMPTS):
        response = code_step(client, "000000")
    assert response.url == reverse("console:logon")
    assert PENDING_KEY not in client.session
    assert code_step(client, code(bob_seed, 1)).url == reverse("console:logon")


def test_wrong_codes_count_for_the_lockout(client, user_a, bob_seed) -> None:  # type: ignore[no-untyped-def]
    password_step(client, user_a)
    for _ in range(MAX_CODE_ATTEMPTS):
        code_step(client, "000000")
    refused = password_step(client, user_a)
    assert security.locked_until(user_a) is not None
    assert b"locked until" in refused.content


def test_the_right_password_again_does_not_forget_the_wrong_codes(client, user_a, bob_seed) -> None:  # type: ignore[no-untyped-def]
    """Only a completed logon forgets failures: someone who knows the password but not the
    device cannot try codes for ever by entering the password again."""
    for _ in range(4):
        password_step(client, user_a)
        code_step(client, "000000")
    password_step(client, user_a)
    code_step(client, "000000")

    assert security.locked_until(user_a) is not None


def test_a_user_locked_during_the_second_step_is_sent_back(client, user_a, bob_seed) -> None:  # type: ignore[no-untyped-def]
    password_step(client, user_a)
    for _ in range(5):
        security.record_failure(user_a, "10.9.9.9")
    response = code_step(client, code(bob_seed, 1))
    event = AuditEvent.objects.filter(action="console:Logon").latest("id")
    assert response.url == reverse("console:logon")
    assert not logged_on(client)
    assert event.error_code == "User.Locked"


def test_the_second_step_expires(client, user_a, bob_seed) -> None:  # type: ignore[no-untyped-def]
    password_step(client, user_a)
    with time_machine.travel(NOW + 301, tick=False):
        response = code_step(client, code(bob_seed, 10))
    assert response.url == reverse("console:logon")
    assert not logged_on(client)


def test_the_code_page_without_a_password_goes_to_the_logon(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get(reverse("console:logon_mfa"))
    assert response.url == reverse("console:logon")


def test_a_wrong_password_never_reaches_the_second_step(client, user_a, bob_seed) -> None:  # type: ignore[no-untyped-def]
    client.post(reverse("console:logon"), {"logon_name": user_a.logon_name, "password": "x1"})
    assert PENDING_KEY not in client.session


def test_a_user_without_a_device_logs_on_without_mfa(client, user_a) -> None:  # type: ignore[no-untyped-def]
    response = password_step(client, user_a)
    assert response.url == reverse("console:overview")
    assert logged_on(client)
    assert MFA_PRESENT_KEY not in client.session


# --- binding at logon, when the account requires MFA --------------------------------------------


def test_required_mfa_makes_a_user_without_a_device_bind_one(client, account_a, user_a) -> None:  # type: ignore[no-untyped-def]
    require_mfa(account_a)
    password_step(client, user_a)
    page = client.get(reverse("console:logon_mfa"))
    seed = session_seed(client)
    assert seed.encode() in page.content
    assert b"<svg" in page.content
    assert not logged_on(client)


def test_binding_at_logon_logs_on_with_mfa(client, account_a, user_a) -> None:  # type: ignore[no-untyped-def]
    require_mfa(account_a)
    password_step(client, user_a)
    client.get(reverse("console:logon_mfa"))
    seed = session_seed(client)
    response = client.post(
        reverse("console:logon_mfa"), {"code1": code(seed, -1), "code2": code(seed)}
    )
    assert response.url == reverse("console:overview")
    assert client.session[MFA_PRESENT_KEY] is True
    assert VirtualMFADevice.objects.get().user == user_a


def test_wrong_codes_at_logon_bind_nothing(client, account_a, user_a) -> None:  # type: ignore[no-untyped-def]
    require_mfa(account_a)
    password_step(client, user_a)
    client.get(reverse("console:logon_mfa"))
    seed = session_seed(client)
    response = client.post(
        reverse("console:logon_mfa"), {"code1": code(seed, -2), "code2": code(seed)}
    )
    assert b"The codes are wrong" in response.content
    assert not VirtualMFADevice.objects.exists()
    assert not logged_on(client)


def test_mfa_bind_required_makes_the_user_bind_one(client, user_a) -> None:  # type: ignore[no-untyped-def]
    user_a.mfa_bind_required = True
    user_a.save(update_fields=["mfa_bind_required"])
    password_step(client, user_a)
    assert b"Bind a virtual MFA device" in client.get(reverse("console:logon_mfa")).content


def test_the_root_identity_is_not_made_to_bind(client, account_a) -> None:  # type: ignore[no-untyped-def]
    require_mfa(account_a)
    client.post(reverse("console:logon"), {"logon_name": "root@a.example", "password": PASSWORD})
    assert logged_on(client)


# --- My MFA device ------------------------------------------------------------------------------


def test_a_user_binds_their_own_device(client, user_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(user_a)
    page = client.get(reverse("console:my_mfa"))
    seed = session_seed(client)
    response = client.post(
        reverse("console:my_mfa"), {"code1": code(seed, -1), "code2": code(seed)}
    )
    assert seed.encode() in page.content
    assert response.url == reverse("console:my_mfa")
    assert mfa.device_of(user_a) is not None


def test_the_page_shows_the_same_seed_on_reload(client, user_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(user_a)
    client.get(reverse("console:my_mfa"))
    first = session_seed(client)
    client.get(reverse("console:my_mfa"))
    assert session_seed(client) == first


def test_the_qr_code_is_inline_svg_without_style_attributes(client, user_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(user_a)
    page = client.get(reverse("console:my_mfa")).content.decode()
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert "style=" not in svg and "<script" not in page.split("</head>")[1]


def test_unbinding_ones_own_device_takes_a_current_code(client, user_a, bob_seed) -> None:  # type: ignore[no-untyped-def]
    client.force_login(user_a)
    refused = client.post(reverse("console:my_mfa_unbind"), {"code": "000000"})
    assert b"The code is wrong" in refused.content
    client.post(reverse("console:my_mfa_unbind"), {"code": code(bob_seed, 1)})
    assert not VirtualMFADevice.objects.exists()


def test_users_may_not_manage_their_device_when_the_account_says_so(
    client, account_a, user_a
) -> None:  # type: ignore[no-untyped-def]
    SecurityPreference.objects.create(account=account_a, allow_user_to_manage_mfa_devices=False)
    client.force_login(user_a)
    assert client.get(reverse("console:my_mfa")).status_code == 403
    assert client.post(reverse("console:my_mfa_unbind"), {"code": "1"}).status_code == 403


def test_the_identity_menu_links_my_mfa_device(client, user_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(user_a)
    assert reverse("console:my_mfa").encode() in client.get("/").content


# --- a user's MFA device, for administrators ----------------------------------------------------


def test_the_details_page_shows_the_users_device(client, admin_a, user_a, bob_seed) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    page = client.get(reverse("console:user_detail", args=["bob"]))
    assert mfa.device_of(user_a).serial_number.encode() in page.content
    assert reverse("console:user_mfa_unbind", args=["bob"]).encode() in page.content


def test_an_administrator_binds_a_device_for_a_user(client, admin_a, user_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    dialog = client.get(reverse("console:user_mfa_bind", args=["bob"]), **HTMX)
    seed = session_seed(client)
    response = client.post(
        reverse("console:user_mfa_bind", args=["bob"]),
        {"code1": code(seed, -1), "code2": code(seed)},
        **HTMX,
    )
    assert seed.encode() in dialog.content and b"<html" not in dialog.content
    assert response["HX-Redirect"] == reverse("console:user_detail", args=["bob"])
    assert mfa.device_of(user_a).name == "bob"


def test_an_administrator_unbinds_a_users_device(client, admin_a, user_a, bob_seed) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = client.post(reverse("console:user_mfa_unbind", args=["bob"]))
    assert response.url == reverse("console:user_detail", args=["bob"])
    assert not VirtualMFADevice.objects.exists()
    assert AuditEvent.objects.filter(
        action="ram:UnbindMFADevice", logon_identity=admin_a.arn
    ).exists()


def test_after_unbinding_the_user_logs_on_with_a_password(
    client, admin_a, user_a, bob_seed
) -> None:  # type: ignore[no-untyped-def]
    mfa.disable_virtual_mfa_device(SYSTEM_ACTOR, user_a)
    assert password_step(client, user_a).url == reverse("console:overview")


def test_binding_is_403_naming_the_action_without_permission(client, user_a, auditor_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(auditor_a)
    response = client.get(reverse("console:user_mfa_bind", args=["bob"]))
    assert response.status_code == 403
    assert b"ram:BindMFADevice" in response.content


def test_unbinding_is_403_naming_the_action_without_permission(
    client, user_a, auditor_a, bob_seed
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(auditor_a)
    response = client.post(reverse("console:user_mfa_unbind", args=["bob"]))
    assert response.status_code == 403
    assert b"ram:UnbindMFADevice" in response.content
    assert VirtualMFADevice.objects.exists()


def test_an_auditor_sees_the_device_with_unbind_disabled(
    client, user_a, auditor_a, bob_seed
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(auditor_a)
    page = client.get(reverse("console:user_detail", args=["bob"])).content
    assert b'data-testid="user-mfa-state">Bound' in page
    assert b"ram:UnbindMFADevice" in page


def test_another_accounts_user_is_404(client, admin_a, user_b) -> None:  # type: ignore[no-untyped-def]
    bind(user_b)
    client.force_login(admin_a)
    assert client.get(reverse("console:user_mfa_bind", args=["alice"])).status_code == 404
    assert client.post(reverse("console:user_mfa_unbind", args=["alice"])).status_code == 404


def test_anonymous_visitors_go_to_the_logon(client, user_a) -> None:  # type: ignore[no-untyped-def]
    for url in (reverse("console:my_mfa"), reverse("console:user_mfa_bind", args=["bob"])):
        assert client.get(url).url.startswith(reverse("console:logon"))


# --- acs:MFAPresent -----------------------------------------------------------------------------


def mfa_trust(account_id: str) -> str:
    return json.dumps(
        {
            "Version": "1",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Principal": {"RAM": [f"acs:ram::{account_id}:root"]},
                    "Condition": {"Bool": {"acs:MFAPresent": "true"}},
                }
            ],
        }
    )


@pytest.fixture
def mfa_role(account_a, user_a):  # type: ignore[no-untyped-def]
    """A role trusting account A's users only after MFA, allowed to list users only after MFA
    too; bob holds sts:AssumeRole."""
    assume = Policy.objects.get(account__isnull=True, name="AliyunSTSAssumeRoleAccess")
    services.attach_policy(SYSTEM_ACTOR, user_a, assume)
    role = services.create_role(
        SYSTEM_ACTOR, account_a, "needs-mfa", trust_policy=mfa_trust(account_a.pk)
    )
    listing = services.create_policy(
        SYSTEM_ACTOR,
        account_a,
        "list-users-with-mfa",
        document={
            "Version": "1",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "ram:ListUsers",
                    "Resource": "*",
                    "Condition": {"Bool": {"acs:MFAPresent": "true"}},
                }
            ],
        },
    )
    services.attach_policy(SYSTEM_ACTOR, role, listing)
    return role


def switch(client):  # type: ignore[no-untyped-def]
    return client.post("/switch-role/", {"account": "company-a", "role_name": "needs-mfa"})


def test_a_role_requiring_mfa_refuses_a_logon_without_it(client, user_a, mfa_role) -> None:  # type: ignore[no-untyped-def]
    password_step(client, user_a)
    response = switch(client)
    assert response.status_code == 200
    assert b"does not exist or does not trust you" in response.content
    assert SWITCHED not in client.session


def test_a_logon_with_mfa_switches_and_the_role_session_keeps_it(
    client, user_a, mfa_role, bob_seed
) -> None:  # type: ignore[no-untyped-def]
    password_step(client, user_a)
    code_step(client, code(bob_seed, 1))
    response = switch(client)
    assert response.status_code == 302
    assert client.session[SWITCHED]["role_name"] == "needs-mfa"
    assert client.get("/users/").status_code == 200  # the role's policy asks for MFA too


def test_the_issued_role_session_records_mfa(client, user_a, mfa_role, bob_seed) -> None:  # type: ignore[no-untyped-def]
    from sts.models import RoleSession

    password_step(client, user_a)
    code_step(client, code(bob_seed, 1))
    switch(client)
    assert RoleSession.objects.get().issued_context["acs:MFAPresent"] is True
