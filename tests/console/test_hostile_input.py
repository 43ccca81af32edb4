"""Hostile input to the console's forms: each is a field error or a refusal on the page, never a
500. A lone surrogate reaches the server only as a JSON ``\\ud800`` escape inside a document (a
form's own bytes decode with replacement), so documents carry it here."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from django.urls import reverse

from iam import services
from iam.audit import SYSTEM_ACTOR
from iam.models import Policy

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
LONE_SURROGATE = "\\ud800"  # the six characters of the JSON escape
SURROGATE_ERROR = b"\\ud800 is half of a surrogate pair, not a character"


def permission_document(action: str = "ecs:Describe*", resource: str = "*") -> str:
    statement = {"Effect": "Allow", "Action": action, "Resource": resource}
    return json.dumps({"Version": "1", "Statement": [statement]}, indent=2)


def with_lone_surrogate(document: str, value: str) -> str:
    return document.replace(json.dumps(value), f'"{LONE_SURROGATE}"')


@pytest.fixture
def admin(client, admin_a):  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    return admin_a


@pytest.mark.parametrize(
    "document",
    [
        with_lone_surrogate(permission_document(), "ecs:Describe*"),
        with_lone_surrogate(permission_document(resource="x"), "x"),
    ],
)
def test_the_policy_editor_refuses_a_lone_surrogate(client, admin, document: str) -> None:  # type: ignore[no-untyped-def]
    fields = {"policy_name": "surrogate", "description": "", "document": document}
    response = client.post(reverse("console:policy_create"), fields)
    assert response.status_code == 200
    assert SURROGATE_ERROR in response.content
    assert not Policy.objects.filter(name="surrogate").exists()


def test_the_policy_editors_live_check_refuses_a_lone_surrogate(client, admin) -> None:  # type: ignore[no-untyped-def]
    document = with_lone_surrogate(permission_document(), "ecs:Describe*")
    response = client.post(reverse("console:policy_validate"), {"document": document}, **HTMX)
    assert response.status_code == 200
    assert SURROGATE_ERROR in response.content


def test_the_trust_policys_live_check_refuses_a_lone_surrogate(client, admin) -> None:  # type: ignore[no-untyped-def]
    document = with_lone_surrogate(trust_document(), "sts:AssumeRole")
    response = client.post(reverse("console:role_check_trust"), {"trust_policy": document}, **HTMX)
    assert response.status_code == 200
    assert SURROGATE_ERROR in response.content


def test_a_new_policy_version_with_a_lone_surrogate_is_a_field_error(
    client, admin, account_a
) -> None:  # type: ignore[no-untyped-def]
    policy = services.create_policy(
        SYSTEM_ACTOR, account_a, "versioned", document=permission_document()
    )
    document = with_lone_surrogate(permission_document(resource="x"), "x")
    url = reverse("console:policy_version_create", args=["Custom", policy.name])
    response = client.post(url, {"document": document})
    assert response.status_code == 200
    assert SURROGATE_ERROR in response.content


def test_the_simulators_session_policy_with_a_lone_surrogate_is_no_500(client, admin) -> None:  # type: ignore[no-untyped-def]
    session_policy = with_lone_surrogate(permission_document(), "ecs:Describe*")
    query = {"principal": "user:admin", "action": "ecs:DescribeInstances"}
    response = client.get(reverse("console:simulator"), {**query, "session_policy": session_policy})
    assert response.status_code == 200


# Bytes no browser should send, but anyone can: NUL, a UTF-8-encoded surrogate (CESU-8), bytes
# that are no UTF-8 at all, and far more text than any field holds.
HOSTILE_VALUES = ["a%00b", "%ED%A0%80", "%FF%FE", "x" * 70_000]
FORMS = [
    ("console:role_create", {"step": "4", "role_type": "user"}, ["role_name", "description"]),
    ("console:role_create", {"step": "3", "role_type": "user", "trust_kind": "other"}, ["trusted_account"]),
    ("console:role_create", {"step": "3", "role_type": "service"}, ["service"]),
    ("console:role_create", {}, ["step", "role_type"]),
    ("console:role_wizard_trust", {"role_type": "user", "trust_kind": "other"}, ["trusted_account", "trust_policy"]),
    ("console:role_check_name", {}, ["role_name"]),
    ("console:role_check_account", {}, ["trusted_account"]),
    ("console:role_check_trust", {}, ["trust_policy"]),
    ("console:user_create", {}, ["user_name", "display_name", "comments"]),
    ("console:group_create", {}, ["group_name", "comments"]),
    ("console:policy_create", {"document": permission_document()}, ["policy_name", "description"]),
    ("console:policy_validate", {}, ["document"]),
]  # fmt: skip


@pytest.mark.parametrize("value", HOSTILE_VALUES)
@pytest.mark.parametrize(("name", "fixed", "hostile"), FORMS)
def test_hostile_form_input_is_never_a_500(client, admin, name, fixed, hostile, value) -> None:  # type: ignore[no-untyped-def]
    fields = [f"{key}={quote(text)}" for key, text in fixed.items()]
    body = "&".join(fields + [f"{key}={value}" for key in hostile])
    for headers in ({}, HTMX):
        response = client.post(
            reverse(name), body, content_type="application/x-www-form-urlencoded", **headers
        )
        assert response.status_code < 500, response.content[:500]


@pytest.mark.parametrize(
    "name",
    [
        "console:role_list",
        "console:user_list",
        "console:group_list",
        "console:policy_list",
        "console:switch_role",
        "console:audit_trail",
    ],
)
@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_hostile_searches_are_never_a_500(client, admin, name: str, value: str) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL refuses a NUL in any text it is sent, a search pattern included."""
    for headers in ({}, HTMX):
        response = client.get(f"{reverse(name)}?q={value}&page={value}", **headers)
        assert response.status_code < 500, response.content[:500]


def trust_document() -> str:
    from console.trust_words import trust_policy_document

    return trust_policy_document(account_id="1234567890123456")
