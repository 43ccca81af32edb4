"""A console 403 is recorded as a refusal, as the API's are: Failure, NoPermission, the action
and resource, in the trail of the resource's account."""

from __future__ import annotations

import pytest

from iam import services
from iam.audit import SYSTEM_ACTOR
from iam.models import AuditEvent
from tests.api.conftest import trust

pytestmark = pytest.mark.django_db


def refusals(account_id: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(account_id=account_id, result="Failure"))


def test_a_403_is_recorded_as_a_refusal_of_the_action_on_the_resource(  # type: ignore[no-untyped-def]
    client, user_a, account_a
) -> None:
    client.force_login(user_a)
    assert client.get("/audit/").status_code == 403
    [event] = refusals(account_a.pk)
    assert (event.action, event.resource_arn) == (
        "ram:ListAuditEvents",
        f"acs:ram::{account_a.pk}:audit/*",
    )
    assert (event.error_code, event.channel) == ("NoPermission", "console")
    assert event.logon_identity == user_a.arn


def test_the_refusal_names_the_object(client, user_a, account_a) -> None:  # type: ignore[no-untyped-def]
    role = services.create_role(
        SYSTEM_ACTOR, account_a, "ops", trust_policy=trust(f"acs:ram::{account_a.pk}:root")
    )
    client.force_login(user_a)
    assert client.get(f"/roles/{role.name}/").status_code == 403
    [event] = refusals(account_a.pk)
    assert (event.action, event.resource_arn) == ("ram:GetRole", role.arn)
    assert event.details["Method"] == "GET"


def test_a_refusal_on_a_system_policy_goes_to_the_callers_account(
    client, user_a, account_a
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(user_a)
    assert client.get("/policies/System/AdministratorAccess/").status_code == 403
    [event] = refusals(account_a.pk)
    assert event.resource_arn == "acs:ram::system:policy/AdministratorAccess"


def test_a_page_that_is_allowed_records_no_refusal(client, admin_a, account_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    assert client.get("/audit/").status_code == 200
    assert refusals(account_a.pk) == []
