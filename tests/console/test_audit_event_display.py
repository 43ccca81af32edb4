"""An audit event's page: the diff is one line per changed line, and the full record lays out the
JSON documents its fields hold as text."""

from __future__ import annotations

import html
import re

import pytest

from iam import services
from iam.audit import SYSTEM_ACTOR
from iam.demo import trust_accounts
from iam.models import AuditEvent

pytestmark = pytest.mark.django_db


def event_page(client, admin, action: str) -> str:  # type: ignore[no-untyped-def]
    client.force_login(admin)
    event = AuditEvent.objects.filter(action=action).latest("id")
    return html.unescape(client.get(f"/audit/{event.pk}/").content.decode())


def test_the_diff_has_no_blank_lines_between_its_lines(
    client, admin_a, account_a, account_b
) -> None:  # type: ignore[no-untyped-def]
    role = services.create_role(
        SYSTEM_ACTOR, account_a, "ops", trust_policy=trust_accounts(account_a.pk)
    )
    services.update_role(SYSTEM_ACTOR, role, trust_policy=trust_accounts(account_b.pk))
    content = event_page(client, admin_a, "ram:UpdateRole")
    diff = re.search(r'<pre class="document diff">(.*?)</pre>', content, re.S).group(1)  # type: ignore[union-attr]
    assert "\n" not in diff
    assert diff.count('class="diff-line') >= 2


def test_the_full_record_lays_out_a_trust_policy(client, admin_a, account_a) -> None:  # type: ignore[no-untyped-def]
    services.create_role(SYSTEM_ACTOR, account_a, "ops", trust_policy=trust_accounts(account_a.pk))
    content = event_page(client, admin_a, "ram:CreateRole")
    record = content.split('id="event-record"', 1)[1]
    assert '\\"Statement\\"' not in record
    assert re.search(r'\n {4,}"Statement": \[\n', record)
