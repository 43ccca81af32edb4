"""The create-role wizard: steps over htmx and as plain forms, field errors, as-you-type checks."""

from __future__ import annotations

import html
import json
import re

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
    response = post(client, 2, trust_kind="other", trusted_account="company-b")
    assert f"Account company-b ({account_b.pk})".encode() in response.content


def test_unknown_alias_is_a_field_error(client, admin_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = post(client, 3, trust_kind="other", trusted_account="nobody-here")
    assert response.status_code == 200
    assert b"No account has the alias" in response.content


def test_unknown_sixteen_digit_id_is_allowed(client, admin_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = post(client, 3, trust_kind="other", trusted_account="9999999999999999")
    assert b"Users of account 9999999999999999 (not hosted here)" in response.content


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
    assert b"Use only letters, digits" in client.post(url, {"role_name": "bad!"}, **HTMX).content
    assert b"Enter a role name." in client.post(url, {"role_name": " "}, **HTMX).content
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
    assert b"A role with this name already exists." in response.content


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"role_name": ""}, b"Enter a role name."),
        ({"role_name": "x" * 100000}, b"A role name has at most 64 characters."),
        ({"role_name": "a_b"}, b"Use only letters, digits, hyphens (-) and dots (.)."),
        ({"role_name": "ok", "max_session_duration": "60"}, b"from 3600 to 43200"),
        ({"role_name": "ok", "description": "d" * 2000}, b"at most 1024 characters."),
    ],
)
def test_bad_step_three_input_is_a_field_error(client, admin_a, fields, message) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = post(client, 4, **fields)
    assert response.status_code == 200
    assert message in response.content


def test_no_api_texts_reach_the_wizard(client, admin_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = post(client, 4, role_name="")
    assert b"The parameter -" not in response.content


# --- the trust policy as JSON -------------------------------------------------------------------


def editor_text(response) -> str:  # type: ignore[no-untyped-def]
    """The trust policy in the step-2 editor (the textarea's content, unescaped)."""
    text = response.content.decode()
    start = text.index(">", text.index('<textarea id="id_trust_policy"')) + 1
    return html.unescape(text[start : text.index("</textarea>", start)])


def hidden_value(response, name: str) -> str:  # type: ignore[no-untyped-def]
    text = response.content.decode()
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', text)
    assert match, name
    return html.unescape(match.group(1))


def trusted_root(document: str) -> list[str]:
    return json.loads(document)["Statement"][0]["Principal"]["RAM"]


def test_the_editor_follows_the_chosen_account(client, admin_a, account_a, account_b) -> None:  # type: ignore[no-untyped-def]
    """Step 2 opens trusting the current account; choosing another account and typing it
    (htmx asks for the editor again) gives that account's document."""
    client.force_login(admin_a)
    opened = editor_text(post(client, 2))
    url = reverse("console:role_wizard_trust")
    choices = {"role_type": "user", "trust_kind": "other", "trusted_account": "company-b"}
    fields = {**choices, "trust_policy": opened, "generated_policy": opened}
    followed = client.post(url, fields, **HTMX)
    assert trusted_root(opened) == [f"acs:ram::{account_a.pk}:root"]
    assert trusted_root(editor_text(followed)) == [f"acs:ram::{account_b.pk}:root"]
    assert hidden_value(followed, "generated_policy") == editor_text(followed)


def test_the_editor_follows_the_chosen_service(client, admin_a) -> None:  # type: ignore[no-untyped-def]
    services.create_service(SYSTEM_ACTOR, "oss.example.internal")
    client.force_login(admin_a)
    empty = editor_text(post(client, 2, role_type="service"))
    fields = {"role_type": "service", "service": "oss.example.internal"}
    chosen = client.post(reverse("console:role_wizard_trust"), fields, **HTMX)
    principal = json.loads(editor_text(chosen))["Statement"][0]["Principal"]
    assert empty == ""
    assert principal == {"Service": ["oss.example.internal"]}


def test_an_edited_editor_is_left_alone(client, admin_a, account_a, account_b) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    generated = trust_document(account_a.pk)
    edited = generated.replace('"Action"', '"Sid": "mine", "Action"')
    fields = {"role_type": "user", "trust_kind": "other", "trusted_account": "company-b"}
    response = client.post(
        reverse("console:role_wizard_trust"),
        {**fields, "trust_policy": edited, "generated_policy": generated},
        **HTMX,
    )
    assert response.status_code == 204


def test_step_three_shows_the_followed_document_not_the_stale_editor(
    client, admin_a, account_a, account_b
) -> None:  # type: ignore[no-untyped-def]
    """The walkthrough's defect: Other account typed, the editor still showing the current one."""
    client.force_login(admin_a)
    stale = trust_document(account_a.pk)
    response = post(
        client,
        3,
        trust_kind="other",
        trusted_account="company-b",
        trust_policy=stale,
        generated_policy=stale,
    )
    text = response.content.decode()
    assert "Users of account company-b who hold sts:AssumeRole" in text
    assert f"acs:ram::{account_b.pk}:root" in html.unescape(text)
    assert f"acs:ram::{account_a.pk}:root" not in html.unescape(text)


def test_the_json_path_creates_what_step_three_showed(
    client, admin_a, account_a, account_b
) -> None:  # type: ignore[no-untyped-def]
    """Other account, typed; the editor followed it; the admin added an ExternalId condition;
    step 3 shows that document; Create saves exactly it."""
    client.force_login(admin_a)
    generated = trust_document(account_b.pk)
    document = json.loads(generated)
    document["Statement"][0]["Condition"] = {"StringEquals": {"sts:ExternalId": "abc-123"}}
    edited = json.dumps(document)
    choices = {"trust_kind": "other", "trusted_account": "company-b"}
    step_three = post(client, 3, trust_policy=edited, generated_policy=generated, **choices)
    shown = step_three.content.decode()
    carried = {
        name: hidden_value(step_three, name) for name in ("trust_policy", "generated_policy")
    }
    post(client, 4, role_name="cross-json", **choices, **carried)
    role = Role.objects.get(account=account_a, name="cross-json")
    assert "The trust policy as you wrote it" in shown
    assert html.escape(json.dumps(document, indent=2)) in shown
    assert json.loads(role.trust_policy) == document


def test_an_edited_document_wins_over_unfinished_choices(
    client, admin_a, account_a, account_b
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    edited = trust_document(account_b.pk)
    post(
        client,
        4,
        trust_kind="other",
        trusted_account="",
        trust_policy=edited,
        generated_policy=trust_document(account_a.pk),
        role_name="edited-wins",
    )
    role = Role.objects.get(account=account_a, name="edited-wins")
    assert trusted_root(role.trust_policy) == [f"acs:ram::{account_b.pk}:root"]


def test_an_emptied_editor_follows_the_choices_again(client, admin_a, account_a, account_b) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    choices = {"trust_kind": "other", "trusted_account": account_b.pk}
    post(client, 4, trust_policy=" ", generated_policy="{}", role_name="emptied", **choices)
    role = Role.objects.get(account=account_a, name="emptied")
    assert trusted_root(role.trust_policy) == [f"acs:ram::{account_b.pk}:root"]


def test_the_finish_step_shows_the_saved_trust_policy(
    client, admin_a, account_a, account_b
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    choices = {"trust_kind": "other", "trusted_account": "company-b"}
    response = post(client, 4, role_name="finished", **choices)
    text = html.unescape(response.content.decode())
    assert "Users of account company-b who hold sts:AssumeRole" in text
    assert f"acs:ram::{account_b.pk}:root" in text


def test_a_lone_surrogate_in_the_trust_json_is_a_field_error(client, admin_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    document = trust_document("1234567890123456").replace("sts:AssumeRole", "\\ud800")
    response = post(client, 4, trust_policy=document, generated_policy="{}", role_name="sur")
    assert response.status_code == 200
    assert b"\\ud800 is half of a surrogate pair" in response.content
    assert not Role.objects.filter(name="sur").exists()


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
