"""The demo world is seeded once and has what the mission's flows need."""

from __future__ import annotations

import json
import re
from io import StringIO

import pytest
from django.core.management import call_command

from iam.auth import find_identity
from iam.crypto import decrypt_secret
from iam.demo import LOGINS, seed_demo_world
from iam.models import AccessKey, Account, AuditEvent, Role, Service, User

pytestmark = pytest.mark.django_db


def test_seeding_twice_changes_nothing() -> None:
    assert seed_demo_world() is True
    counts = (
        Account.objects.count(),
        User.objects.count(),
        Role.objects.count(),
        AuditEvent.objects.count(),
    )
    assert seed_demo_world() is False
    assert counts == (
        Account.objects.count(),
        User.objects.count(),
        Role.objects.count(),
        AuditEvent.objects.count(),
    )


def test_every_printed_login_works() -> None:
    seed_demo_world()
    for login in LOGINS:
        user = find_identity(login.logon_name)
        assert user is not None and user.check_password(login.password), login.logon_name


def test_ecs_admin_trusts_company2() -> None:
    seed_demo_world()
    company2 = Account.objects.get(alias="company2")
    role = Role.objects.get(account__alias="company1", name="ecs-admin")
    principals = json.loads(role.trust_policy)["Statement"][0]["Principal"]["RAM"]
    assert principals == [f"acs:ram::{company2.pk}:root"]
    assert sorted(role.attachments.values_list("policy__name", flat=True)) == [
        "AliyunECSFullAccess",
        "AliyunRAMReadOnlyAccess",
    ]


def test_there_is_a_service_role_for_a_registered_service() -> None:
    seed_demo_world()
    role = Role.objects.get(name="oss-log-writer")
    assert Service.objects.filter(name="oss.example.internal").exists()
    assert "oss.example.internal" in role.trust_policy


def test_demo_command_without_serving_prints_the_logins() -> None:
    out = StringIO()
    call_command("demo", "--no-serve", stdout=out)
    assert "alice@company2" in out.getvalue()
    assert Account.objects.filter(alias="company1").exists()


def demo_output() -> str:
    out = StringIO()
    call_command("demo", "--no-serve", stdout=out)
    return out.getvalue()


def test_demo_command_prints_each_accounts_id() -> None:
    text = demo_output()
    for account in Account.objects.all():
        assert re.search(rf"{account.alias}\s+{account.pk}", text)


def test_demo_command_prints_a_working_access_key_for_alice_once() -> None:
    first = demo_output()
    key_id = re.search(r"ALIBABA_CLOUD_ACCESS_KEY_ID=(\S+)", first).group(1)  # type: ignore[union-attr]
    secret = re.search(r"ALIBABA_CLOUD_ACCESS_KEY_SECRET=(\S+)", first).group(1)  # type: ignore[union-attr]
    key = AccessKey.objects.get(access_key_id=key_id)
    assert key.user.name == "alice" and decrypt_secret(key.secret_ciphertext) == secret
    second = demo_output()
    assert key_id in second and secret not in second
    assert AccessKey.objects.filter(user=key.user).count() == 1
