"""Remove on a role's, user's or group's page in a real browser: the one detach view answers htmx
with 204 and ``policiesChanged``, and the page's list of policies reloads itself."""

from __future__ import annotations

import pytest

from iam import services
from iam.audit import SYSTEM_ACTOR
from iam.demo import seed_demo_world, system_policy, trust_accounts
from iam.models import Account, PolicyAttachment
from tests.browser.conftest import log_on

pytestmark = pytest.mark.django_db(transaction=True)

POLICY = "AliyunOSSReadOnlyAccess"
CARDS = {"role": "#role-permissions", "user": "#user-policies", "group": "#group-policies"}


def make_principal(kind: str):  # type: ignore[no-untyped-def]
    account = Account.objects.get(alias="company1")
    if kind == "role":
        principal = services.create_role(
            SYSTEM_ACTOR, account, "ops", trust_policy=trust_accounts(account.pk)
        )
    elif kind == "user":
        principal = services.create_user(SYSTEM_ACTOR, account, "ops")
    else:
        principal = services.create_group(SYSTEM_ACTOR, account, "ops")
    services.attach_policy(SYSTEM_ACTOR, principal, system_policy(POLICY))
    return principal


@pytest.mark.parametrize("kind", ["role", "user", "group"])
def test_remove_takes_the_policy_off_the_page_without_a_reload(new_page, kind) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    principal = make_principal(kind)
    page = new_page()
    log_on(page, "admin@company1", "Company1-admin")
    page.goto("/roles/ops/permissions/" if kind == "role" else f"/{kind}s/ops/")
    card = page.locator(CARDS[kind])
    card.get_by_text(POLICY, exact=True).wait_for()
    page.evaluate("window.notReloaded = true")
    page.once("dialog", lambda dialog: dialog.accept())
    card.get_by_role("button", name="Remove").click()
    page.locator(CARDS[kind]).get_by_text(POLICY, exact=True).wait_for(state="detached")
    assert page.evaluate("window.notReloaded") is True
    assert not PolicyAttachment.objects.filter(**{kind: principal}).exists()
