"""Remove: detach one policy from a role, user or group — one view and one answer for the three.

htmx gets 204 with ``policiesChanged`` naming the principal (its policies reload themselves); a
plain form goes back to the principal's page, which says what happened.
"""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from iam import services
from iam.audit import SYSTEM_ACTOR
from iam.demo import trust_accounts
from iam.models import Account, Group, Policy, PolicyAttachment, Role, User

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
POLICY = "AliyunOSSReadOnlyAccess"
LABELS = {"role": "Role", "user": "User", "group": "Group"}
# The element of the principal's page that lists its policies and reloads on policiesChanged.


def page_url(kind: str) -> str:
    """The page listing the principal's policies: a role's Permissions tab, a user's or group's page."""
    name = "role_permissions" if kind == "role" else f"{kind}_detail"
    return reverse(f"console:{name}", args=["ops"])


POLICIES_CARD = {"role": "role-permissions", "user": "user-policies", "group": "group-policies"}


def make_principal(account: Account, kind: str, name: str = "ops") -> Role | User | Group:
    """A role, user or group of ``account`` with ``POLICY`` attached."""
    principal: Role | User | Group
    if kind == "role":
        principal = services.create_role(
            SYSTEM_ACTOR, account, name, trust_policy=trust_accounts(account.pk)
        )
    elif kind == "user":
        principal = services.create_user(SYSTEM_ACTOR, account, name)
    else:
        principal = services.create_group(SYSTEM_ACTOR, account, name)
    policy = Policy.objects.get(account__isnull=True, name=POLICY)
    services.attach_policy(SYSTEM_ACTOR, principal, policy)
    return principal


@pytest.fixture(params=["role", "user", "group"])
def kind(request) -> str:  # type: ignore[no-untyped-def]
    return request.param


@pytest.fixture
def principal(account_a, kind):  # type: ignore[no-untyped-def]
    return make_principal(account_a, kind)


CONFIRMED = {"confirmed": "yes"}


def url(kind: str, name: str = "ops", policy_name: str = POLICY) -> str:
    return reverse("console:detach_policy", args=[kind, name, "System", policy_name])


def is_attached(kind: str, principal: Role | User | Group) -> bool:
    return PolicyAttachment.objects.filter(**{kind: principal}).exists()


def test_anonymous_goes_to_logon(client, kind, principal) -> None:  # type: ignore[no-untyped-def]
    response = client.post(url(kind))
    assert response.status_code == 302
    assert reverse("console:logon") in response["Location"]


def test_a_user_without_policies_is_denied_naming_action_and_resource(
    client, user_a, kind, principal
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(user_a)
    response = client.post(url(kind), **HTMX)
    assert response.status_code == 403
    assert f"ram:DetachPolicyFrom{LABELS[kind]}".encode() in response.content
    assert principal.arn.encode() in response.content


def test_the_auditor_forging_a_remove_changes_nothing(client, auditor_a, kind, principal) -> None:  # type: ignore[no-untyped-def]
    client.force_login(auditor_a)
    assert client.post(url(kind)).status_code == 403
    assert is_attached(kind, principal)


def test_another_accounts_principal_is_404(client, admin_a, account_b, kind) -> None:  # type: ignore[no-untyped-def]
    theirs = make_principal(account_b, kind, "theirs")
    client.force_login(admin_a)
    assert client.post(url(kind, "theirs")).status_code == 404
    assert is_attached(kind, theirs)


def test_a_policy_not_attached_is_404(client, admin_a, kind, principal) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    assert client.post(url(kind, policy_name="AdministratorAccess")).status_code == 404


def test_an_unknown_kind_is_404(client, admin_a, account_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    assert client.post(url("account", "company-a")).status_code == 404


def test_get_is_not_allowed(client, admin_a, kind, principal) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    assert client.get(url(kind)).status_code == 405


def test_htmx_gets_204_with_policies_changed_naming_the_principal(
    client, admin_a, kind, principal
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = client.post(url(kind), CONFIRMED, **HTMX)
    assert response.status_code == 204
    assert json.loads(response["HX-Trigger"]) == {"policiesChanged": {"principal": principal.arn}}
    assert not is_attached(kind, principal)


def test_a_plain_form_goes_back_to_the_principals_page_with_a_message(
    client, admin_a, kind, principal
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = client.post(url(kind), CONFIRMED, follow=True)
    assert response.redirect_chain == [(page_url(kind), 302)]
    assert f"Policy {POLICY} removed from ops.".encode() in response.content
    assert not is_attached(kind, principal)


def test_a_plain_form_not_yet_confirmed_asks_on_a_page_and_changes_nothing(
    client, admin_a, kind, principal
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    text = client.post(url(kind)).content.decode()
    assert f"Remove {POLICY} from ops?" in text
    assert '<input type="hidden" name="confirmed" value="yes">' in text
    assert is_attached(kind, principal)


def test_the_principals_page_lists_policies_that_reload_on_policies_changed(
    client, admin_a, kind, principal
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    page = client.get(page_url(kind)).content.decode()
    card = page[page.index(f'id="{POLICIES_CARD[kind]}"') :].split(">", 1)[0]
    assert 'hx-trigger="policiesChanged from:body"' in card
    assert f'action="{url(kind)}"' in page
