"""Role-detail fragments of the auditor area (who can assume, the role's events) and the
permission matrix of the event detail and export pages."""

from __future__ import annotations

import pytest

from iam import services
from iam.audit import SYSTEM_ACTOR
from iam.demo import seed_demo_world, trust_accounts
from iam.models import AuditEvent, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops_role(account_a):  # type: ignore[no-untyped-def]
    return services.create_role(
        SYSTEM_ACTOR, account_a, "ops", trust_policy=trust_accounts(account_a.pk)
    )


@pytest.mark.parametrize("url", ["/roles/ops/who-can-assume/", "/roles/ops/events/"])
def test_the_fragments_need_read_access(client, user_a, ops_role, url: str) -> None:  # type: ignore[no-untyped-def]
    assert client.get(url).status_code == 302
    client.force_login(user_a)
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("persona", ["admin_a", "auditor_a"])
@pytest.mark.parametrize("url", ["/roles/ops/who-can-assume/", "/roles/ops/events/"])
def test_admins_and_auditors_read_the_fragments(
    client, request, ops_role, persona: str, url: str
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(request.getfixturevalue(persona))
    assert client.get(url).status_code == 200


def test_another_accounts_role_is_404(client, user_b, ops_role) -> None:  # type: ignore[no-untyped-def]
    client.force_login(user_b)
    assert client.get("/roles/ops/who-can-assume/").status_code == 404


def test_who_can_assume_names_company2_for_ecs_admin_but_not_its_users(client) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    client.force_login(User.objects.get(account__alias="company1", name="auditor"))
    content = client.get("/roles/ecs-admin/who-can-assume/").content.decode()
    assert "account company2 (" in content and "cross-account" in content
    assert "alice" not in content and "AliyunSTSAssumeRoleAccess" not in content


def test_who_can_assume_lists_the_admin_for_devops(client) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    client.force_login(User.objects.get(account__alias="company1", name="auditor"))
    content = client.get("/roles/devops/who-can-assume/").content.decode()
    assert '<a href="/users/admin/">admin</a>' in content
    assert "/users/auditor/" not in content


@pytest.mark.parametrize("persona", ["admin_a", "auditor_a"])
def test_event_detail_and_export_are_readable_by_admins_and_auditors(
    client, request, persona: str
) -> None:  # type: ignore[no-untyped-def]
    user = request.getfixturevalue(persona)
    event = AuditEvent.objects.filter(account_id=user.account_id).first()
    client.force_login(user)
    assert client.get(f"/audit/{event.pk}/").status_code == 200
    assert client.get("/audit/export.csv").status_code == 200


def test_event_detail_and_export_are_denied_to_a_plain_user(client, user_a) -> None:  # type: ignore[no-untyped-def]
    event = AuditEvent.objects.filter(account_id=user_a.account_id).first()
    assert client.get(f"/audit/{event.pk}/").status_code == 302
    client.force_login(user_a)
    assert client.get(f"/audit/{event.pk}/").status_code == 403
    assert client.get("/audit/export.csv").status_code == 403


def test_the_application_cannot_change_or_delete_events(account_a) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().update(action="x")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()


def test_the_side_nav_links_the_auditor_pages(client, auditor_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(auditor_a)
    content = client.get("/audit/").content.decode()
    for label in ("Audit trail", "Policy simulator", "Trust map", "Export CSV"):
        assert label in content
