"""The demo world is seeded once and has what the mission's flows need."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from iam.auth import find_identity
from iam.demo import LOGINS, seed_demo_world
from iam.models import Account, AuditEvent, Role, Service, User

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
