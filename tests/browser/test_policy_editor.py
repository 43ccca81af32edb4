"""The visual policy editor in a real browser: a policy built statement by statement is the JSON the
form saves, JSON edits show in the visual editor again, an existing document survives the trip
through it, and what it cannot show keeps the Visual tab disabled with the reason."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect

from iam import services
from iam.audit import SYSTEM_ACTOR
from iam.demo import seed_demo_world
from iam.models import Account, Policy
from iam.system_policies import SYSTEM_POLICIES, system_policy_document
from tests.browser.conftest import log_on

pytestmark = pytest.mark.django_db(transaction=True)

EXISTING = {
    "Version": "1",
    "Statement": [
        {
            "Sid": "ReadRam",
            "Effect": "Allow",
            "Action": ["ram:GetUser", "ram:List*", "oss:GetObject"],
            "Resource": "*",
            "Condition": {
                "Bool": {"acs:MFAPresent": True},
                "IpAddress": {"acs:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]},
                "NumericLessThan": {"example:Count": 10},
            },
        },
        {"Effect": "Deny", "Action": "ram:DeleteUser", "Resource": "acs:ram:*:*:user/root-*"},
    ],
}


def as_lists(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def normalized(document: dict[str, Any]) -> list[dict[str, Any]]:
    """A document's meaning: one value and a list of one are the same, order within lists not."""
    statements = []
    for statement in document["Statement"]:
        conditions = {
            operator: {key: sorted(map(json.dumps, as_lists(v))) for key, v in block.items()}
            for operator, block in statement.get("Condition", {}).items()
        }
        statements.append(
            {
                "Sid": statement.get("Sid"),
                "Effect": statement["Effect"],
                "Action": sorted(as_lists(statement["Action"])),
                "Resource": sorted(as_lists(statement["Resource"])),
                "Condition": conditions,
            }
        )
    return statements


def account_id() -> str:
    return Account.objects.get(alias="company1").pk


def open_editor(new_page, path: str):  # type: ignore[no-untyped-def]
    seed_demo_world()
    page = new_page()
    log_on(page, "admin@company1", "Company1-admin")
    page.goto(path)
    return page


def open_visual(new_page, path: str):  # type: ignore[no-untyped-def]
    """The editor at ``path`` on its Visual tab (it opens on JSON the first time)."""
    page = open_editor(new_page, path)
    page.get_by_role("tab", name="Visual editor").click()
    return page


def json_text(page) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    page.get_by_role("tab", name="JSON").click()
    return json.loads(page.get_by_label("Policy document").input_value())


def test_a_policy_built_visually_is_the_json_that_is_saved(new_page) -> None:  # type: ignore[no-untyped-def]
    page = open_visual(new_page, "/policies/new/")
    page.get_by_label("Policy name").fill("visual-made")
    statement = page.locator("fieldset.statement-editor").first
    statement.get_by_label("Service").select_option("ram")
    statement.get_by_label("Other actions, one a line").fill("")
    statement.get_by_label("GetUser", exact=True).check()
    statement.get_by_label("ListUsers", exact=True).check()
    statement.get_by_label("Resources, one a line").fill("")
    statement.get_by_role("button", name=f"Add resource acs:ram:*:{account_id()}:user/*").click()
    statement.get_by_role("button", name="Add condition").click()
    statement.get_by_label("Operator").select_option("IpAddress")
    statement.get_by_label("Condition key").fill("acs:SourceIp")
    statement.get_by_label("Values, one a line").fill("10.0.0.0/8")
    assert json_text(page)["Statement"] == [
        {
            "Effect": "Allow",
            "Action": ["ram:GetUser", "ram:ListUsers"],
            "Resource": [f"acs:ram:*:{account_id()}:user/*"],
            "Condition": {"IpAddress": {"acs:SourceIp": "10.0.0.0/8"}},
        }
    ]


def test_json_edits_show_in_the_visual_editor_and_save(new_page) -> None:  # type: ignore[no-untyped-def]
    page = open_visual(new_page, "/policies/new/")
    page.get_by_label("Policy name").fill("edited-json")
    page.locator("fieldset.statement-editor").get_by_label("Service").select_option("ram")
    page.get_by_label("Other actions, one a line").fill("")
    page.get_by_label("GetUser", exact=True).check()
    document = json_text(page)
    document["Statement"][0]["Action"].append("ram:ListGroups")
    document["Statement"][0]["Resource"] = ["*"]
    page.get_by_label("Policy document").fill(json.dumps(document))
    page.get_by_role("tab", name="Visual editor").click()
    assert page.get_by_label("ListGroups", exact=True).is_checked()
    page.get_by_role("button", name="Create").click()
    page.wait_for_url("**/policies/Custom/edited-json/")
    saved = json.loads(Policy.objects.get(name="edited-json").versions.get().document)
    assert saved["Statement"][0]["Action"] == ["ram:GetUser", "ram:ListGroups"]


READ_ONLY = json.loads(system_policy_document(SYSTEM_POLICIES[1][2]))


@pytest.mark.parametrize("existing", [EXISTING, READ_ONLY], ids=["conditions", "many-services"])
def test_an_existing_document_comes_back_from_the_visual_editor_unchanged(
    new_page, existing
) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    account = Account.objects.get(alias="company1")
    services.create_policy(SYSTEM_ACTOR, account, "existing", document=json.dumps(existing))
    page = open_visual(new_page, "/policies/Custom/existing/versions/new/")
    first = page.locator("fieldset.statement-editor").first
    # Edits that end where they began: the editor has written its whole document back.
    sid = first.get_by_label("Statement ID (Sid, optional)")
    sid.fill("Changed")
    sid.fill(existing["Statement"][0].get("Sid", ""))
    assert normalized(json_text(page)) == normalized(existing)


def test_what_the_visual_editor_cannot_show_keeps_its_tab_disabled(new_page) -> None:  # type: ignore[no-untyped-def]
    page = open_visual(new_page, "/policies/new/")
    page.get_by_role("tab", name="JSON").click()
    page.get_by_label("Policy document").fill(
        '{"Version": "1", "Statement": [{"Effect": "Allow", "NotAction": "ram:*", "Resource": "*"}]}'
    )
    visual = page.get_by_role("tab", name="Visual editor")
    visual.click(force=True)  # aria-disabled: Playwright would wait for it to be enabled
    assert visual.get_attribute("aria-selected") == "false"
    assert "NotAction" in page.get_by_test_id("visual-unavailable").inner_text()


def test_the_tabs_answer_the_arrow_keys(new_page) -> None:  # type: ignore[no-untyped-def]
    page = open_editor(new_page, "/policies/new/")
    page.get_by_role("tab", name="JSON").focus()
    page.keyboard.press("ArrowLeft")
    assert page.get_by_role("tab", name="Visual editor").get_attribute("aria-selected") == "true"
    expect(page.locator("fieldset.statement-editor").first).to_be_visible()


def test_the_editor_opens_on_the_tab_chosen_last(new_page) -> None:  # type: ignore[no-untyped-def]
    page = open_visual(new_page, "/policies/new/")
    page.reload()
    assert page.get_by_role("tab", name="Visual editor").get_attribute("aria-selected") == "true"


def test_a_suspicious_condition_built_visually_is_warned_about_live(new_page) -> None:  # type: ignore[no-untyped-def]
    page = open_visual(new_page, "/policies/new/")
    statement = page.locator("fieldset.statement-editor").first
    statement.get_by_role("button", name="Add condition").click()
    statement.get_by_label("Operator").select_option("StringEquals")
    statement.get_by_label("Condition key").fill("acs:SecureTransport")
    statement.get_by_label("Values, one a line").fill("true")
    warnings = page.get_by_test_id("document-warnings")
    warnings.wait_for()
    assert "use Bool" in warnings.inner_text()
