"""The audit trail page: permissions, filters, keyset paging at a constant query count, the
before/after diff, the streamed CSV export, and no way to change an event."""

from __future__ import annotations

import re

import pytest
from django.http import StreamingHttpResponse

from iam import services
from iam.audit import SYSTEM_ACTOR, append
from iam.demo import trust_accounts
from iam.models import AuditEvent

pytestmark = pytest.mark.django_db


def bulk_events(account_id: str, count: int) -> None:
    for index in range(count):
        append(
            AuditEvent(
                channel="api",
                account_id=account_id,
                action=f"ram:Test{index % 3}",
                logon_identity=f"acs:ram::{account_id}:user/u{index}",
                resource_arn=f"acs:ram::{account_id}:role/r{index}",
            )
        )


def test_anonymous_is_sent_to_logon(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/audit/")
    assert response.status_code == 302 and "/logon/" in response["Location"]


def test_a_user_without_read_access_gets_403_naming_the_action(client, user_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(user_a)
    response = client.get("/audit/")
    assert response.status_code == 403
    assert b"ram:ListAuditEvents" in response.content


@pytest.mark.parametrize("persona", ["admin_a", "auditor_a"])
def test_admins_and_auditors_read_the_trail(client, request, persona: str) -> None:  # type: ignore[no-untyped-def]
    user = request.getfixturevalue(persona)
    client.force_login(user)
    response = client.get("/audit/")
    assert response.status_code == 200
    assert b"ram:CreateUser" in response.content


def test_another_accounts_events_are_invisible(client, admin_a, account_b) -> None:  # type: ignore[no-untyped-def]
    services.create_user(SYSTEM_ACTOR, account_b, "stranger")
    other = AuditEvent.objects.get(action="ram:CreateUser", account_id=account_b.pk)
    client.force_login(admin_a)
    assert b"user/stranger" not in client.get("/audit/").content
    assert client.get(f"/audit/{other.pk}/").status_code == 404


def test_filters_narrow_the_rows(client, admin_a, account_a) -> None:  # type: ignore[no-untyped-def]
    bulk_events(account_a.pk, 9)
    client.force_login(admin_a)
    content = client.get("/audit/?action=ram:Test1").content.decode()
    assert content.count("<td>ram:Test1</td>") == 3
    assert "ram:Test2" not in content


@pytest.mark.parametrize("count", [10, 10_000])
def test_a_page_costs_the_same_queries_at_any_size(
    client,
    admin_a,
    account_a,
    count: int,  # type: ignore[no-untyped-def]
    django_assert_num_queries,
) -> None:
    bulk_events(account_a.pk, count)
    client.force_login(admin_a)
    client.get("/audit/")
    with django_assert_num_queries(4):
        response = client.get("/audit/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200


def test_keyset_paging_walks_older_events(client, admin_a, account_a) -> None:  # type: ignore[no-untyped-def]
    bulk_events(account_a.pk, 120)
    client.force_login(admin_a)
    first = client.get("/audit/").context["events"]
    older = client.get(f"/audit/?before={first[-1].pk}").context["events"]
    assert len(first) == 50
    assert older[0].pk < first[-1].pk


def test_an_update_shows_the_trust_policy_diff(client, admin_a, account_a, account_b) -> None:  # type: ignore[no-untyped-def]
    role = services.create_role(
        SYSTEM_ACTOR, account_a, "ops", trust_policy=trust_accounts(account_a.pk)
    )
    services.update_role(SYSTEM_ACTOR, role, trust_policy=trust_accounts(account_b.pk))
    event = AuditEvent.objects.get(action="ram:UpdateRole")
    client.force_login(admin_a)
    content = client.get(f"/audit/{event.pk}/").content.decode()
    assert "What changed" in content
    removed = re.findall(r'diff-removed">([^<]*)<', content)
    added = re.findall(r'diff-added">([^<]*)<', content)
    assert any(f"acs:ram::{account_a.pk}:root" in line for line in removed)
    assert any(f"acs:ram::{account_b.pk}:root" in line for line in added)


def test_csv_export_streams_and_respects_filters(client, admin_a, account_a) -> None:  # type: ignore[no-untyped-def]
    bulk_events(account_a.pk, 9)
    client.force_login(admin_a)
    response = client.get("/audit/export.csv?action=ram:Test2")
    body = b"".join(response.streaming_content).decode()
    assert isinstance(response, StreamingHttpResponse)
    assert body.count("ram:Test2") == 3 and "ram:Test1" not in body


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
def test_no_url_changes_an_event(client, admin_a, method: str) -> None:  # type: ignore[no-untyped-def]
    event = AuditEvent.objects.first()
    client.force_login(admin_a)
    for url in ("/audit/", f"/audit/{event.pk}/", "/audit/export.csv"):
        assert getattr(client, method)(url).status_code == 405
    assert AuditEvent.objects.get(pk=event.pk).action == event.action


def test_role_details_events_list_the_roles_trail(client, admin_a, account_a) -> None:  # type: ignore[no-untyped-def]
    role = services.create_role(
        SYSTEM_ACTOR, account_a, "ops", trust_policy=trust_accounts(account_a.pk)
    )
    services.update_role(SYSTEM_ACTOR, role, description="changed")
    client.force_login(admin_a)
    details = client.get("/roles/ops/").content.decode()
    events = client.get("/roles/ops/events/").content.decode()
    assert "/roles/ops/events/" in details
    assert "ram:CreateRole" in events and "ram:UpdateRole" in events
