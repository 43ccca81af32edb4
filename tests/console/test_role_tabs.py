"""Role details as tabs: each tab a URL and a whole page, the strip and panel to htmx, 404 for
another account's role."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from iam import services
from iam.audit import SYSTEM_ACTOR
from iam.demo import trust_accounts
from tests.conftest import make_user

TABS = {
    "role_detail": "Basic information",
    "role_permissions": "Permissions",
    "role_trust": "Trust policy",
    "role_sessions": "Sessions",
    "role_events": "Events",
    "role_who_can_assume": "Who can assume",
}
CARDS = {
    "role_detail": 'id="role-basic"',
    "role_permissions": 'id="role-permissions"',
    "role_trust": 'id="role-trust"',
    "role_sessions": 'id="role-sessions-list"',
    "role_events": 'id="role-events"',
    "role_who_can_assume": 'id="role-who-can-assume"',
}
HTMX_TABS = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "role-tabs"}


def current_tabs(page: str) -> list[str]:
    """The labels of the tab strip's links marked current."""
    strip = page[page.index('<nav class="tabs"') :].split("</nav>", 1)[0]
    return re.findall(r'aria-current="page"[^>]*>([^<]+)</a>', strip)


@pytest.fixture
def role_a(account_a):  # type: ignore[no-untyped-def]
    return services.create_role(
        SYSTEM_ACTOR, account_a, "ops", trust_policy=trust_accounts(account_a.pk)
    )


@pytest.fixture
def role_b(account_b):  # type: ignore[no-untyped-def]
    return services.create_role(
        SYSTEM_ACTOR, account_b, "ops", trust_policy=trust_accounts(account_b.pk)
    )


@pytest.mark.parametrize("url_name", TABS)
def test_each_tab_is_a_page_with_that_tab_current(client, admin_a, role_a, url_name) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    text = client.get(reverse(f"console:{url_name}", args=["ops"])).content.decode()
    assert current_tabs(text) == [TABS[url_name]]
    assert CARDS[url_name] in text


@pytest.mark.parametrize("url_name", TABS)
def test_a_tab_link_gets_the_strip_and_panel_alone(client, admin_a, role_a, url_name) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    text = client.get(reverse(f"console:{url_name}", args=["ops"]), **HTMX_TABS).content.decode()
    assert text.lstrip().startswith('<nav class="tabs" aria-label="Role details">')
    assert CARDS[url_name] in text
    assert "<html" not in text


@pytest.mark.parametrize("url_name", TABS)
def test_another_accounts_role_is_404_on_every_tab(client, admin_a, role_b, url_name) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    assert client.get(reverse(f"console:{url_name}", args=["ops"])).status_code == 404


def test_every_tab_is_linked_by_a_real_href(client, admin_a, role_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    text = client.get(reverse("console:role_detail", args=["ops"])).content.decode()
    for url_name, label in TABS.items():
        assert f'href="{reverse(f"console:{url_name}", args=["ops"])}"' in text, label


def test_events_tab_is_unavailable_with_the_reason_to_whom_the_trail_is_denied(
    client, account_a, role_a
) -> None:  # type: ignore[no-untyped-def]
    reader = make_user(account_a, "reader")
    policy = services.create_policy(
        SYSTEM_ACTOR,
        account_a,
        "RoleReader",
        document={
            "Version": "1",
            "Statement": [{"Effect": "Allow", "Action": "ram:GetRole", "Resource": "*"}],
        },
    )
    services.attach_policy(SYSTEM_ACTOR, reader, policy)
    client.force_login(reader)
    text = client.get(reverse("console:role_detail", args=["ops"])).content.decode()
    assert 'aria-disabled="true"' in text
    assert "ram:ListAuditEvents" in text
    assert client.get(reverse("console:role_events", args=["ops"])).status_code == 403


def test_saving_the_trust_policy_without_javascript_returns_to_the_trust_tab(
    client, admin_a, role_a, account_a
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = client.post(
        reverse("console:role_update_trust", args=["ops"]),
        {"trust_policy": trust_accounts(account_a.pk)},
    )
    assert response["Location"] == reverse("console:role_trust", args=["ops"])


def test_a_trust_policy_error_without_javascript_shows_the_trust_tab(
    client, admin_a, role_a
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = client.post(
        reverse("console:role_update_trust", args=["ops"]), {"trust_policy": "{"}
    )
    assert response.status_code == 200
    assert current_tabs(response.content.decode()) == ["Trust policy"]


def test_details_pages_keep_their_query_count(
    client, admin_a, role_a, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    with django_assert_max_num_queries(25):
        client.get(reverse("console:role_detail", args=["ops"]))
