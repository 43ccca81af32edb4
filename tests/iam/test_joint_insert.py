"""``iam.joint_insert.insert_together``: several tables' new rows, all or none."""

from __future__ import annotations

import pytest
from django.db import IntegrityError
from django.utils import timezone

from iam.audit import SYSTEM_ACTOR, new_event
from iam.joint_insert import insert_together
from iam.models import AuditEvent
from sts.models import RoleSession

pytestmark = pytest.mark.django_db(transaction=True)


def test_insert_together_writes_every_row_or_none(account_a) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()

    def session(session_id: str) -> RoleSession:
        return RoleSession(
            session_id=session_id,
            account_id=account_a.pk,
            role_name="ops",
            role_arn=f"acs:ram::{account_a.pk}:role/ops",
            session_name="rows",
            caller_arn="acs:ram::1:user/x",
            source_identity="acs:ram::1:user/x",
            issued=now,
            expires=now,
            user_agent='agent "quoted" \\ é 中',
        )

    def event() -> AuditEvent:
        return new_event(SYSTEM_ACTOR, "sts:AssumeRole", account_id=account_a.pk, details={"a": 1})

    insert_together(session("s" * 32), event())
    stored = RoleSession.objects.get(pk="s" * 32)
    assert (stored.issued, stored.role_name) == (now, "ops")
    assert stored.user_agent == 'agent "quoted" \\ é 中'
    assert (stored.has_session_policy, stored.revoked_at) == (False, None)
    assert AuditEvent.objects.filter(action="sts:AssumeRole").get().details == {"a": 1}
    with pytest.raises(IntegrityError):
        insert_together(session("s" * 32), event())  # the session id is taken
    assert AuditEvent.objects.filter(action="sts:AssumeRole").count() == 1
