"""The policy editor pages beyond the JSON: the catalog the visual editor reads, the explicit choice
of the default version, the version in force on the policy's page, and the evaluator's warnings."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from console.policy_catalog import editor_catalog
from iam import services
from iam.audit import SYSTEM_ACTOR
from iam.models import Policy

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
ROOT = Path(__file__).resolve().parents[2]
# StringEquals reads acs:SecureTransport (a boolean key) as text: valid, but worth a warning.
SUSPICIOUS = {
    "Effect": "Allow",
    "Action": "ecs:Describe*",
    "Resource": "*",
    "Condition": {"StringEquals": {"acs:SecureTransport": "true"}},
}


def document(*statements: dict[str, Any]) -> str:
    plain = {"Effect": "Allow", "Action": "ecs:Describe*", "Resource": "*"}
    return json.dumps({"Version": "1", "Statement": list(statements) or [plain]}, indent=2)


@pytest.fixture
def custom(account_a):  # type: ignore[no-untyped-def]
    return services.create_policy(SYSTEM_ACTOR, account_a, "ecs-read", document=document())


def url(name: str, *args: str) -> str:
    return reverse(f"console:{name}", args=args)


def catalog_of(response) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    found = re.search(
        rb'<script id="policy-catalog" type="application/json">(.*?)</script>', response.content
    )
    assert found, "the page carries no catalog"
    return json.loads(found.group(1))


def actions_of(catalog: dict[str, Any], service: str) -> list[str]:
    return next(entry["actions"] for entry in catalog["services"] if entry["name"] == service)


# --- the catalog --------------------------------------------------------------------------------


def test_create_page_carries_the_catalog_and_the_editor_script(client, admin_a) -> None:
    client.force_login(admin_a)
    response = client.get(url("policy_create"))
    assert "CreatePolicyVersion" in actions_of(catalog_of(response), "ram")
    assert b"console/policy_editor.js" in response.content


def test_catalog_holds_the_sts_and_ims_actions_we_register(account_a) -> None:
    catalog = editor_catalog(account_a.pk)
    assert "AssumeRole" in actions_of(catalog, "sts")
    assert "CreateSAMLProvider" in actions_of(catalog, "ram")


def test_catalog_holds_every_ram_action_the_console_authorizes(account_a) -> None:
    sources = ROOT.joinpath("console").rglob("*.py")
    named = {
        name
        for source in sources
        for name in re.findall(r'"ram:([A-Z][A-Za-z]+)"', source.read_text(encoding="utf-8"))
    }
    assert named - set(actions_of(editor_catalog(account_a.pk), "ram")) == set()


def test_catalog_names_the_services_of_the_system_policies_and_of_registered_principals(
    account_a,
) -> None:
    services.create_service(SYSTEM_ACTOR, "fc.example.internal")
    names = {entry["name"] for entry in editor_catalog(account_a.pk)["services"]}
    assert {"oss", "ecs", "vpc", "fc"} <= names


def test_catalog_resource_hints_name_the_current_account(client, admin_a, account_a) -> None:
    client.force_login(admin_a)
    catalog = catalog_of(client.get(url("policy_create")))
    sts = next(entry for entry in catalog["services"] if entry["name"] == "sts")
    assert sts["resources"] == [f"acs:ram:*:{account_a.pk}:role/*"]


def test_catalog_offers_the_operators_as_the_evaluator_accepts_them(account_a) -> None:
    operators = {entry["name"]: entry for entry in editor_catalog(account_a.pk)["operators"]}
    assert operators["StringEquals"]["qualifiers"] == ["ForAnyValue:", "ForAllValues:"]
    assert operators["StringEquals"]["if_exists"] is True
    assert operators["Null"]["qualifiers"] == []


# --- the default version ------------------------------------------------------------------------


def test_new_version_page_chooses_set_as_default_first(client, admin_a, custom) -> None:
    client.force_login(admin_a)
    content = client.get(url("policy_version_create", "Custom", "ecs-read")).content.decode()
    assert re.search(r'value="true" id="id_set_as_default_true" checked', content)
    assert "Keep v1 in force" in content


def test_saving_with_set_as_default_puts_the_new_version_in_force(client, admin_a, custom) -> None:
    client.force_login(admin_a)
    data = {"document": document(), "set_as_default": "true"}
    client.post(url("policy_version_create", "Custom", "ecs-read"), data)
    custom.refresh_from_db()
    assert custom.default_version == "v2"


def test_saving_with_keep_leaves_the_default_version_in_force(client, admin_a, custom) -> None:
    client.force_login(admin_a)
    data = {"document": document(), "set_as_default": "false"}
    client.post(url("policy_version_create", "Custom", "ecs-read"), data)
    custom.refresh_from_db()
    assert (custom.default_version, custom.versions.count()) == ("v1", 2)


def test_an_invalid_version_keeps_the_choice_made(client, admin_a, custom) -> None:
    client.force_login(admin_a)
    data = {"document": '{"Version": "2"}', "set_as_default": "false"}
    content = client.post(url("policy_version_create", "Custom", "ecs-read"), data).content
    assert re.search(rb'value="false" id="id_set_as_default_false" checked', content)
    assert custom.versions.count() == 1


def test_details_show_the_version_in_force(client, admin_a, custom) -> None:
    services.create_policy_version(SYSTEM_ACTOR, custom, document=document(), set_as_default=True)
    client.force_login(admin_a)
    content = client.get(url("policy_detail", "Custom", "ecs-read")).content.decode()
    assert re.search(
        r'data-testid="version-in-force">Version in force: <a [^>]*><strong>v2<', content
    )


def test_details_of_a_version_not_in_force_say_so(client, admin_a, custom) -> None:
    services.create_policy_version(SYSTEM_ACTOR, custom, document=document(), set_as_default=True)
    client.force_login(admin_a)
    response = client.get(url("policy_detail", "Custom", "ecs-read") + "?version=v1")
    assert b"This is v1, which is not in force: v2 is the default version." in response.content


def test_details_offer_set_as_default_on_the_other_versions_only(client, admin_a, custom) -> None:
    services.create_policy_version(SYSTEM_ACTOR, custom, document=document())
    client.force_login(admin_a)
    content = client.get(url("policy_detail", "Custom", "ecs-read")).content.decode()
    assert url("policy_version_default", "Custom", "ecs-read", "v2") in content
    assert url("policy_version_default", "Custom", "ecs-read", "v1") not in content


# --- warnings -----------------------------------------------------------------------------------


def test_live_check_shows_warnings_beside_a_valid_document(client, admin_a) -> None:
    client.force_login(admin_a)
    response = client.post(url("policy_validate"), {"document": document(SUSPICIOUS)}, **HTMX)
    assert b"The policy document is valid." in response.content
    assert b"use Bool" in response.content


def test_live_check_of_a_plain_document_warns_of_nothing(client, admin_a) -> None:
    client.force_login(admin_a)
    response = client.post(url("policy_validate"), {"document": document()}, **HTMX)
    assert b'data-testid="document-warnings"' not in response.content


def test_a_document_with_warnings_still_saves_and_says_so(client, admin_a) -> None:
    client.force_login(admin_a)
    data = {"policy_name": "warned", "document": document(SUSPICIOUS)}
    response = client.post(url("policy_create"), data, follow=True)
    assert Policy.objects.filter(name="warned").exists()
    assert b"Saved, but worth a second look" in response.content


def test_new_version_page_warns_about_the_document_it_starts_from(
    client, admin_a, account_a
) -> None:
    services.create_policy(SYSTEM_ACTOR, account_a, "warned", document=document(SUSPICIOUS))
    client.force_login(admin_a)
    response = client.get(url("policy_version_create", "Custom", "warned"))
    assert b"use Bool" in response.content


def test_a_form_error_on_the_document_shows_no_warnings(client, admin_a) -> None:
    client.force_login(admin_a)
    data = {"policy_name": "x", "document": '{"Version": "1"}'}
    response = client.post(url("policy_create"), data)
    assert response.context["warnings"] == []
