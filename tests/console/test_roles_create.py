"""The create-role wizard: steps over htmx and as plain forms, field errors, as-you-type checks."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from iam import services
from iam.audit import SYSTEM_ACTOR
from iam.models import Role

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
URL = "/roles/_new/"


def post(client, step, htmx=True, **fields):  # type: ignore[no-untyped-def]
    data = {"role_type": "user", "trust_kind": "current", "step": str(step), **fields}
    return client.post(URL, data, **(HTMX if htmx else {}))


def test_the_wizard_url_is_named() -> None:
    assert reverse("console:role_create") == URL


def test_anonymous_goes_to_logon(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get(URL).status_code == 302


def test_user_without_policies_is_denied_create_role(client, user_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(user_a)
    response = client.get(URL)
    assert response.status_code == 403
    assert b"ram:CreateRole" in response.content


def test_auditor_forging_a_create_gets_403(client, auditor_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(auditor_a)
    response = post(client, 4, role_name="sneaky")
    assert response.status_code == 403
    assert not Role.objects.filter(name="sneaky").exists()


def test_first_step_offers_user_and_service_roles(client, admin_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    text = client.get(URL).content.decode()
    assert "User role" in text and "Service role" in text


def test_htmx_steps_return_the_wizard_fragment(client, admin_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = post(client, 2)
    text = response.content.decode()
    assert "<html" not in text
    assert "Trusted account ID" in text


def test_plain_form_steps_render_the_whole_page(client, admin_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    text = post(client, 2, htmx=False).content.decode()
    assert "<html" in text and "Trusted account ID" in text


def test_missing_role_type_stays_on_step_one(client, admin_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = client.post(URL, {"step": "2", "role_type": "bogus"}, **HTMX)
    assert b"Choose User role or Service role." in response.content


def test_other_account_alias_is_resolved(client, admin_a, account_b) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = post(client, 3, trust_kind="other", trusted_account="company-b", role_name="")
    assert f"Account company-b ({account_b.pk})".encode() in response.content


def test_unknown_alias_is_a_field_error(client, admin_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = post(client, 3, trust_kind="other", trusted_account="nobody-here")
    assert response.status_code == 200
    assert b"No account has the alias" in response.content


def test_unknown_sixteen_digit_id_is_allowed(client, admin_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = post(client, 3, trust_kind="other", trusted_account="9999999999999999")
    assert b"Account 9999999999999999 (not hosted here)" in response.content


def test_short_account_id_is_a_field_error(client, admin_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = post(client, 3, trust_kind="other", trusted_account="12345")
    assert b"An account ID has 16 digits." in response.content


def test_check_account_endpoint_resolves_as_you_type(client, admin_a, account_b) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    url = reverse("console:role_check_account")
    response = client.post(url, {"trusted_account": "company-b"}, **HTMX)
    assert f"Account company-b ({account_b.pk})".encode() in response.content


def test_check_name_endpoint_reports_taken_and_invalid_names(client, admin_a, account_a) -> None:  # type: ignore[no-untyped-def]
    services.create_role(
        SYSTEM_ACTOR, account_a, "taken", trust_policy=trust_document(account_a.pk)
    )
    client.force_login(admin_a)
    url = reverse("console:role_check_name")
    assert b"taken" in client.post(url, {"role_name": "TAKEN"}, **HTMX).content
    assert b"invalid chars" in client.post(url, {"role_name": "bad name!"}, **HTMX).content
    assert b"Available." in client.post(url, {"role_name": "free"}, **HTMX).content


def test_creates_a_user_role_for_another_account(client, admin_a, account_a, account_b) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = post(
        client, 4, trust_kind="other", trusted_account="company-b", role_name="ops-test"
    )
    role = Role.objects.get(account=account_a, name="ops-test")
    assert b"Role created" in response.content
    assert f"acs:ram::{account_b.pk}:root" in role.trust_policy


def test_plain_form_create_redirects_to_the_finish_step(client, admin_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = post(client, 4, htmx=False, role_name="plain")
    finish = client.get(response["Location"])
    assert response.status_code == 302
    assert b"Role created" in finish.content


def test_creates_a_service_role(client, admin_a, account_a) -> None:  # type: ignore[no-untyped-def]
    services.create_service(SYSTEM_ACTOR, "oss.example.internal")
    client.force_login(admin_a)
    post(client, 4, role_type="service", service="oss.example.internal", role_name="writer")
    role = Role.objects.get(account=account_a, name="writer")
    assert json.loads(role.trust_policy)["Statement"][0]["Principal"] == {
        "Service": ["oss.example.internal"]
    }


def test_service_role_needs_a_registered_service(client, admin_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = post(client, 3, role_type="service", service="nope")
    assert b"Choose the service" in response.content


def test_edited_trust_policy_is_used(client, admin_a, account_a, account_b) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    document = trust_document(account_b.pk)
    post(client, 4, trust_policy=document, generated_policy="{}", role_name="edited")
    assert account_b.pk in Role.objects.get(account=account_a, name="edited").trust_policy


def test_unedited_trust_policy_follows_the_choices(client, admin_a, account_a, account_b) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    stale = trust_document(account_a.pk)
    post(
        client,
        4,
        trust_kind="other",
        trusted_account=account_b.pk,
        trust_policy=stale,
        generated_policy=stale,
        role_name="follows",
    )
    assert account_b.pk in Role.objects.get(account=account_a, name="follows").trust_policy


def test_bad_trust_json_is_a_field_error_on_step_two(client, admin_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = post(client, 4, trust_policy="{\n oops", generated_policy="{}", role_name="x")
    assert response.status_code == 200
    assert b"Invalid JSON at line 2" in response.content
    assert not Role.objects.filter(name="x").exists()


def test_duplicate_name_is_shown_next_to_the_field(client, admin_a, account_a) -> None:  # type: ignore[no-untyped-def]
    services.create_role(SYSTEM_ACTOR, account_a, "dup", trust_policy=trust_document(account_a.pk))
    client.force_login(admin_a)
    response = post(client, 4, role_name="DUP")
    assert response.status_code == 200
    assert b"The role does already EXIST." in response.content


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"role_name": ""}, b"beyond the length limit"),
        ({"role_name": "x" * 100000}, b"beyond the length limit"),
        ({"role_name": "ok", "max_session_duration": "60"}, b"from 3600 to 43200"),
        ({"role_name": "ok", "description": "d" * 2000}, b"beyond the length limit"),
    ],
)
def test_bad_step_three_input_is_a_field_error(client, admin_a, fields, message) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = post(client, 4, **fields)
    assert response.status_code == 200
    assert message in response.content


def test_back_keeps_the_values(client, admin_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = post(client, 2, role_name="kept-name", description="kept description")
    assert b'value="kept-name"' in response.content
    assert b'value="kept description"' in response.content


def test_garbage_step_falls_back_to_step_one(client, admin_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = client.post(URL, {"step": "abc"}, **HTMX)
    assert response.status_code == 200
    assert b"Select role type" in response.content


def trust_document(account_id: str) -> str:
    from console.trust_words import trust_policy_document

    return trust_policy_document(account_id=account_id)
