"""Create users: several at once, one a line, all or none; generated passwords shown once."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import unquote

import pytest
from django.test import override_settings
from django.urls import reverse

from iam import security
from iam.audit import SYSTEM_ACTOR
from iam.models import AuditEvent, PasswordPolicy, User

pytestmark = pytest.mark.django_db

CREATE = reverse("console:user_create")


def created(account) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(
        User.objects.filter(account=account, kind=User.Kind.RAM).values_list("name", flat=True)
    )


def shown_passwords(content: str) -> dict[str, str]:
    """Logon name → password, as the result page shows them."""
    pairs = re.findall(
        r'data-testid="logon-name">([^<]+)</code>.*?data-testid="password">([^<]+)</code>',
        content,
        re.S,
    )
    return {unescape(logon): unescape(password) for logon, password in pairs}


def generate(client, lines: str, **extra: str):  # type: ignore[no-untyped-def]
    return client.post(CREATE, {"user_name": lines, "console_access": "generate", **extra})


# --- several users ------------------------------------------------------------------------------


def test_several_lines_make_several_users_with_display_names(client, admin_a) -> None:
    client.force_login(admin_a)
    response = client.post(CREATE, {"user_name": "carol,Carol Smith\n\n  dave  \n"})
    assert response.url == reverse("console:user_list")
    assert User.objects.get(name="carol").display_name == "Carol Smith"
    assert User.objects.get(name="dave").display_name == "dave"


def test_a_display_name_may_hold_commas(client, admin_a) -> None:
    client.force_login(admin_a)
    client.post(CREATE, {"user_name": "carol,Smith, Carol"})
    assert User.objects.get(name="carol").display_name == "Smith, Carol"


def test_every_bad_line_is_listed_and_nothing_is_created(client, admin_a, user_a) -> None:
    client.force_login(admin_a)
    lines = "carol\nbad name\nBOB\ncarol\n" + "x" * 65
    content = client.post(CREATE, {"user_name": lines}).content.decode()
    assert "Line 2 (bad name): Use only letters, digits" in content
    assert "Line 4 (carol): carol is on line 1 too." in content
    assert "Line 5 (" in content
    assert created(admin_a.account) == ["admin", "bob"]


def test_an_existing_name_is_listed_by_line(client, admin_a, user_a) -> None:
    client.force_login(admin_a)
    response = client.post(CREATE, {"user_name": "carol\nBOB"})
    assert response.status_code == 200
    assert "Line 2 (BOB): A user with this name already exists." in response.content.decode()
    assert not User.objects.filter(name="carol").exists()


def test_at_most_20_users_at_a_time(client, admin_a) -> None:
    client.force_login(admin_a)
    lines = "\n".join(f"user{index}" for index in range(21))
    response = client.post(CREATE, {"user_name": lines})
    assert b"Enter at most 20 users at a time." in response.content
    assert created(admin_a.account) == ["admin"]


def test_an_empty_form_asks_for_a_name(client, admin_a) -> None:
    client.force_login(admin_a)
    response = client.post(CREATE, {"user_name": "\n \n"})
    assert b"Enter at least one logon name." in response.content


@override_settings(IAM_LIMITS={"users_per_account": 3})
def test_a_batch_past_the_accounts_limit_creates_none(client, admin_a) -> None:
    client.force_login(admin_a)
    response = client.post(CREATE, {"user_name": "carol\ndave\nerin"})
    assert response.status_code == 200
    assert created(admin_a.account) == ["admin"]
    assert not AuditEvent.objects.filter(action="ram:CreateUser", resource_arn__contains="carol")


def test_the_form_shows_the_line_format(client, admin_a) -> None:
    client.force_login(admin_a)
    content = client.get(CREATE).content.decode()
    assert "jane.doe,Jane Doe" in content
    assert 'aria-describedby="id_user_name-help"' in content


# --- console passwords --------------------------------------------------------------------------


def test_one_password_for_every_user_with_a_reset_required(client, admin_a) -> None:
    client.force_login(admin_a)
    data = {"console_access": "set", "password": "Shared-pass-1", "password_reset_required": "on"}
    client.post(CREATE, {"user_name": "carol\ndave", **data})
    users = User.objects.filter(name__in=["carol", "dave"])
    assert all(user.check_password("Shared-pass-1") for user in users)
    assert all(user.password_reset_required for user in users)


def test_set_without_a_password_is_a_field_error(client, admin_a) -> None:
    client.force_login(admin_a)
    response = client.post(CREATE, {"user_name": "carol", "console_access": "set"})
    assert 'id="id_password-error">Enter the password' in response.content.decode()
    assert not User.objects.filter(name="carol").exists()


def test_generated_passwords_are_shown_once_with_logon_names(client, admin_a) -> None:
    client.force_login(admin_a)
    response = generate(client, "carol\ndave")
    passwords = shown_passwords(response.content.decode())
    assert set(passwords) == {"carol@company-a", "dave@company-a"}
    assert User.objects.get(name="carol").check_password(passwords["carol@company-a"])
    assert "no-store" in response["Cache-Control"]


def test_generated_passwords_satisfy_a_strict_policy(client, admin_a, account_a) -> None:
    strict = {f"require_{kind}": True for kind in ("lowercase", "uppercase", "numbers", "symbols")}
    security.set_password_policy(SYSTEM_ACTOR, account_a, minimum_length=32, **strict)
    client.force_login(admin_a)
    password = shown_passwords(generate(client, "carol").content.decode())["carol@company-a"]
    assert len(password) == 32
    security.check_password(account_a, password, User.objects.get(name="carol"))


def test_generated_passwords_differ_and_leave_out_the_name() -> None:
    passwords = {security.generate_password(PasswordPolicy(), avoid="abc") for _ in range(50)}
    assert len(passwords) == 50
    assert not any("abc" in password.lower() for password in passwords)


def test_the_csv_holds_every_credential(client, admin_a) -> None:
    client.force_login(admin_a)
    content = generate(client, "carol,=Carol").content.decode()
    password = shown_passwords(content)["carol@company-a"]
    csv = unquote(unescape(re.search(r'href="data:text/csv;charset=utf-8,([^"]+)"', content)[1]))
    assert csv.splitlines()[1] == f"carol@company-a,'=Carol,{password}"


def test_the_page_has_a_copy_button_for_all_credentials(client, admin_a) -> None:
    client.force_login(admin_a)
    content = generate(client, "carol").content.decode()
    password = shown_passwords(content)["carol@company-a"]
    assert f'data-copy="carol@company-a {password}" data-testid="copy-all"' in content


def test_each_user_and_login_profile_is_audited(client, admin_a) -> None:
    client.force_login(admin_a)
    generate(client, "carol\ndave")
    events = AuditEvent.objects.exclude(resource_arn__endswith="/admin")
    assert events.filter(action="ram:CreateUser").count() == 2
    assert events.filter(action="ram:CreateLoginProfile").count() == 2


def test_a_repeat_shows_the_users_but_never_the_passwords(client, admin_a) -> None:
    client.force_login(admin_a)
    first = generate(client, "carol\ndave", form_token="t" * 24).content.decode()
    repeat = generate(client, "carol\ndave", form_token="t" * 24).content.decode()
    password = shown_passwords(first)["carol@company-a"]
    assert "carol@company-a" in repeat and 'data-testid="repeated-submission"' in repeat
    assert password not in repeat
    assert (
        AuditEvent.objects.filter(action="ram:CreateUser", resource_arn__endswith="/carol").count()
        == 1
    )


def test_a_password_the_policy_refuses_creates_nobody(client, admin_a, account_a) -> None:
    security.set_password_policy(SYSTEM_ACTOR, account_a, minimum_length=12)
    client.force_login(admin_a)
    response = client.post(CREATE, {"user_name": "carol\ncarolyn", "password": "carol-pass-12"})
    assert "For carol: Leave out the user name." in response.content.decode()
    assert created(account_a) == ["admin"]


def test_the_auditor_creates_nobody(client, auditor_a) -> None:
    client.force_login(auditor_a)
    response = generate(client, "carol\ndave")
    assert response.status_code == 403
    assert not User.objects.filter(name="carol").exists()


def test_a_user_of_another_account_does_not_block_a_name(client, admin_a, user_b) -> None:
    client.force_login(admin_a)
    response = client.post(CREATE, {"user_name": "alice\ncarol"})
    assert response.url == reverse("console:user_list")
    assert User.objects.filter(name="alice", account=admin_a.account).exists()
