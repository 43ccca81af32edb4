"""``manage.py verifyaudit``: each account's chain walked from its start; the first removed or
altered event reported, and a non-zero exit status on a break."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from iam.audit import SYSTEM_ACTOR, record
from iam.models import AuditEvent

pytestmark = pytest.mark.django_db


def tamper(sql: str, *params: Any) -> None:
    """Raw SQL against the audit table, as someone who bypasses the application would: on
    PostgreSQL a superuser who disables the append-only trigger first (inside the test's
    transaction, so only this test sees it disabled)."""
    trigger = "iam_auditevent_no_update_or_delete"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE iam_auditevent DISABLE TRIGGER {trigger}")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE iam_auditevent ENABLE TRIGGER {trigger}")


def alter_details(event_id: int) -> None:
    tamper("UPDATE iam_auditevent SET details = %s WHERE id = %s", '{"forged": true}', event_id)


def remove(event_id: int) -> None:
    tamper("DELETE FROM iam_auditevent WHERE id = %s", event_id)


def events_of(account_id: str, count: int) -> list[AuditEvent]:
    return [
        record(SYSTEM_ACTOR, f"ram:Test{index}", account_id=account_id, details={"n": index})
        for index in range(count)
    ]


def verifyaudit(*args: str) -> dict[str, Any]:
    out = StringIO()
    call_command("verifyaudit", *args, stdout=out)
    return {chain["AccountId"]: chain for chain in json.loads(out.getvalue())["Chains"]}


def broken(*args: str) -> str:
    with pytest.raises(CommandError) as failure:
        call_command("verifyaudit", *args, stdout=StringIO())
    assert failure.value.returncode == 1
    return str(failure.value)


def test_intact_chains_are_reported_with_their_length_and_newest_hash(account_a) -> None:  # type: ignore[no-untyped-def]
    events = events_of(account_a.pk, 3)
    record(SYSTEM_ACTOR, "system:Test")
    chains = verifyaudit()
    chain = chains[account_a.pk]
    assert (chain["Intact"], chain["VerifiedThrough"]) == (True, events[-1].pk)
    assert chain["LastHash"] == events[-1].hash
    assert chains[""]["Intact"]  # the system events' chain


def test_an_altered_event_is_reported_by_id(account_a) -> None:  # type: ignore[no-untyped-def]
    events = events_of(account_a.pk, 3)
    alter_details(events[1].pk)
    assert f"event {events[1].pk} was altered" in broken()


def test_a_removed_event_is_reported_at_the_event_after_it(account_a) -> None:  # type: ignore[no-untyped-def]
    events = events_of(account_a.pk, 3)
    remove(events[1].pk)
    assert f"event {events[2].pk} does not follow event {events[0].pk}" in broken()


def test_removed_newest_events_are_reported_after_the_last_that_remains(account_a) -> None:  # type: ignore[no-untyped-def]
    events = events_of(account_a.pk, 3)
    remove(events[2].pk)
    assert f"1 event(s) after event {events[1].pk} were removed" in broken()


def test_only_the_named_accounts_chain_is_walked(account_a, account_b) -> None:  # type: ignore[no-untyped-def]
    alter_details(events_of(account_b.pk, 2)[0].pk)
    assert set(verifyaudit("--account", account_a.pk)) == {account_a.pk}
    assert account_b.pk in broken("--account", account_b.pk)


def test_the_system_events_chain_is_named_by_the_empty_account(account_a) -> None:  # type: ignore[no-untyped-def]
    event = record(SYSTEM_ACTOR, "system:Test")
    alter_details(event.pk)
    assert "account (system)" in broken("--account", "")
