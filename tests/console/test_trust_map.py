"""The trust map: permissions, and the SVG drawn for the demo world."""

from __future__ import annotations

import re

import pytest

from iam.demo import seed_demo_world
from iam.models import Account, User

pytestmark = pytest.mark.django_db


def test_anonymous_is_sent_to_logon(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/trust-map/")
    assert response.status_code == 302 and "/logon/" in response["Location"]


def test_a_user_without_read_access_gets_403(client, user_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(user_a)
    response = client.get("/trust-map/")
    assert response.status_code == 403 and b"ram:ListRoles" in response.content


@pytest.mark.parametrize("persona", ["admin_a", "auditor_a"])
def test_admins_and_auditors_see_the_map(client, request, persona: str) -> None:  # type: ignore[no-untyped-def]
    client.force_login(request.getfixturevalue(persona))
    response = client.get("/trust-map/")
    assert response.status_code == 200 and b"<svg" in response.content


def test_it_refuses_to_change_anything(client, admin_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    assert client.post("/trust-map/").status_code == 405


@pytest.fixture
def demo_auditor(db):  # type: ignore[no-untyped-def]
    seed_demo_world()
    return User.objects.get(account__alias="company1", name="auditor")


def test_the_demo_world_draws_every_role_and_a_cross_account_edge(client, demo_auditor) -> None:  # type: ignore[no-untyped-def]
    client.force_login(demo_auditor)
    svg = client.get("/trust-map/").content.decode()
    for name in ("ecs-admin", "devops", "auditor", "oss-log-writer"):
        assert f'<a href="/roles/{name}/">' in svg
    assert svg.count("tm-edge tm-edge-cross") == 1
    assert "company2 can assume ecs-admin (cross-account)" in svg


def test_a_service_and_this_accounts_root_are_drawn(client, demo_auditor) -> None:  # type: ignore[no-untyped-def]
    client.force_login(demo_auditor)
    svg = client.get("/trust-map/").content.decode()
    assert "service oss.example.internal" in svg
    assert "company1 (this account) can assume devops" in svg


def test_one_role_can_be_picked(client, demo_auditor) -> None:  # type: ignore[no-untyped-def]
    client.force_login(demo_auditor)
    svg = client.get("/trust-map/?role=ecs-admin").content.decode()
    assert len(re.findall(r'<path class="tm-edge', svg)) == 1
    assert "/roles/devops/" not in svg


def test_user_and_role_principals_link_to_their_pages(client, demo_auditor) -> None:  # type: ignore[no-untyped-def]
    import json

    from iam import services
    from iam.audit import SYSTEM_ACTOR

    company1 = Account.objects.get(alias="company1")
    trust = {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {
                    "RAM": [
                        f"acs:ram::{company1.pk}:user/admin",
                        f"acs:ram::{company1.pk}:role/devops",
                    ]
                },
            }
        ],
    }
    services.create_role(SYSTEM_ACTOR, company1, "chained", trust_policy=json.dumps(trust))
    client.force_login(demo_auditor)
    svg = client.get("/trust-map/?role=chained").content.decode()
    assert '<a href="/users/admin/">' in svg and '<a href="/roles/devops/">' in svg


def test_another_accounts_users_and_roles_are_not_drawn(
    client, admin_a, account_a, account_b
) -> None:  # type: ignore[no-untyped-def]
    """Only this account's roles and the principals its trust policies name (account ids and
    aliases, and the ARNs as written) appear; nothing is read of the trusted account."""
    import json

    from iam import services
    from iam.audit import SYSTEM_ACTOR
    from iam.demo import trust_accounts
    from tests.conftest import make_user

    make_user(account_b, "privileged-bob", ["AliyunSTSAssumeRoleAccess"])
    services.create_role(
        SYSTEM_ACTOR, account_b, "b-secret-role", trust_policy=trust_accounts(account_a.pk)
    )
    named = {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"RAM": [f"acs:ram::{account_b.pk}:root"]},
            }
        ],
    }
    services.create_role(SYSTEM_ACTOR, account_a, "partner", trust_policy=json.dumps(named))
    client.force_login(admin_a)
    svg = client.get("/trust-map/").content.decode()
    assert "company-b can assume partner (cross-account)" in svg
    assert "privileged-bob" not in svg and "b-secret-role" not in svg
