"""The audit trail page's integrity badge: the account's own hash chain, verified from a stored
checkpoint on; an altered or removed event is shown as a break."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from iam import audit_chain
from iam.models import AuditChainCheckpoint, AuditEvent
from tests.iam.test_verifyaudit import alter_details, events_of, remove

pytestmark = pytest.mark.django_db


def badge(client) -> str:  # type: ignore[no-untyped-def]
    response = client.get("/audit/")
    assert response.status_code == 200
    content = response.content.decode()
    start = content.index('data-testid="audit-integrity"')
    return " ".join(content[start : content.index("</p>", start)].split())


def newest_id(account_id: str) -> int:
    return AuditEvent.objects.filter(account_id=account_id).latest("id").pk


def test_an_intact_chain_is_verified_through_its_newest_event(client, admin_a, account_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    assert f"Integrity: verified through event {newest_id(account_a.pk)}" in badge(client)


def test_an_altered_event_breaks_the_chain_at_that_event(client, admin_a, account_a) -> None:  # type: ignore[no-untyped-def]
    events = events_of(account_a.pk, 3)
    alter_details(events[1].pk)
    client.force_login(admin_a)
    assert f"Chain broken at event {events[1].pk}" in badge(client)


def test_a_removed_event_breaks_the_chain_at_the_event_after_it(client, admin_a, account_a) -> None:  # type: ignore[no-untyped-def]
    events = events_of(account_a.pk, 3)
    remove(events[1].pk)
    client.force_login(admin_a)
    text = badge(client)
    assert f"Chain broken at event {events[2].pk}" in text
    assert f"does not follow event {events[0].pk}" in text


def test_another_accounts_broken_chain_is_not_this_accounts_business(  # type: ignore[no-untyped-def]
    client, admin_a, account_a, account_b
) -> None:
    alter_details(events_of(account_b.pk, 2)[0].pk)
    client.force_login(admin_a)
    assert "Integrity: verified through event" in badge(client)


def test_a_later_visit_verifies_only_what_was_appended_since(client, admin_a, account_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    badge(client)
    newer = events_of(account_a.pk, 2)
    assert f"verified through event {newer[-1].pk}" in badge(client)
    checkpoint = AuditChainCheckpoint.objects.get(pk=account_a.pk)
    assert (checkpoint.last_event_id, checkpoint.last_hash) == (newer[-1].pk, newer[-1].hash)


def test_an_event_shown_on_the_page_is_checked_even_behind_the_checkpoint(  # type: ignore[no-untyped-def]
    client, admin_a, account_a
) -> None:
    events = events_of(account_a.pk, 2)
    client.force_login(admin_a)
    badge(client)
    alter_details(events[0].pk)
    assert f"Chain broken at event {events[0].pk}" in badge(client)


def test_a_break_behind_the_checkpoint_is_found_by_verifyaudit_and_then_shown(  # type: ignore[no-untyped-def]
    client, admin_a, account_a
) -> None:
    events = events_of(account_a.pk, 60)  # the oldest is not on the first page
    client.force_login(admin_a)
    badge(client)
    remove(events[0].pk)
    assert "Integrity: verified through event" in badge(client)  # not walked again
    with pytest.raises(CommandError):
        call_command("verifyaudit", "--account", account_a.pk)
    assert f"Chain broken at event {events[1].pk}" in badge(client)


def test_a_long_chain_is_verified_over_several_visits(
    client, admin_a, account_a, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(audit_chain, "PAGE_VERIFY_LIMIT", 2)
    client.force_login(admin_a)
    first = badge(client)
    assert "Newer events are verified on your next visit" in first
    for _ in range(AuditEvent.objects.filter(account_id=account_a.pk).count()):
        text = badge(client)
    assert f"verified through event {newest_id(account_a.pk)}" in text
    assert "Newer events" not in text
