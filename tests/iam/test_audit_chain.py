"""``iam.audit_chain``: each account's events form a hash chain, appended one writer at a time."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from iam.audit import SYSTEM_ACTOR, append, new_event, record
from iam.audit_chain import (
    GENESIS,
    HASHED_FIELDS,
    content_digest,
    event_hash,
    link,
    verify_account,
)
from iam.joint_insert import insert_together
from iam.models import AuditChainHead, AuditEvent
from sts.models import RoleSession

pytestmark = pytest.mark.django_db


def chain_of(account_id: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(account_id=account_id).order_by("id"))


def test_each_event_links_to_the_one_before_it_in_its_account(account_a, account_b) -> None:  # type: ignore[no-untyped-def]
    first = record(SYSTEM_ACTOR, "ram:One", account_id=account_a.pk)
    other = record(SYSTEM_ACTOR, "ram:Two", account_id=account_b.pk)
    second = record(SYSTEM_ACTOR, "ram:Three", account_id=account_a.pk)
    assert second.previous_hash == first.hash
    assert other.previous_hash == chain_of(account_b.pk)[-2].hash
    assert second.hash == link(first.hash, content_digest(second))


def test_the_first_event_of_an_account_follows_the_genesis_hash(account_a) -> None:  # type: ignore[no-untyped-def]
    assert chain_of(account_a.pk)[0].previous_hash == GENESIS


def test_system_events_have_a_chain_of_their_own(account_a) -> None:  # type: ignore[no-untyped-def]
    before = AuditChainHead.objects.filter(pk="").values_list("length", flat=True).first() or 0
    event = record(SYSTEM_ACTOR, "system:Test")
    head = AuditChainHead.objects.get(pk="")
    assert (head.length, head.last_hash) == (before + 1, event.hash)


def test_the_head_counts_the_accounts_events_and_holds_the_newest_hash(account_a) -> None:  # type: ignore[no-untyped-def]
    event = record(SYSTEM_ACTOR, "ram:Test", account_id=account_a.pk)
    head = AuditChainHead.objects.get(pk=account_a.pk)
    assert head.length == len(chain_of(account_a.pk))
    assert (head.previous_hash, head.last_hash) == (event.previous_hash, event.hash)


@pytest.mark.parametrize("field", HASHED_FIELDS)
def test_the_digest_covers_every_recorded_field(field: str) -> None:
    event = new_event(SYSTEM_ACTOR, "ram:Test", "acs:ram::1:role/r", account_id="1234")
    changed = SimpleNamespace(**{name: getattr(event, name) for name in HASHED_FIELDS})
    if field == "time":
        changed.time = event.time + timezone.timedelta(microseconds=1)
    elif field == "details":
        changed.details = {"added": True}
    else:
        changed.__dict__[field] = getattr(event, field) + "x"
    assert content_digest(changed) != content_digest(event)


def test_details_hash_alike_however_the_database_gives_numbers_back(account_a) -> None:  # type: ignore[no-untyped-def]
    details = {
        "float": 1e100,
        "tenth": 0.1,
        "whole": 2.0,
        "negative zero": -0.0,
        "big": 2**70,
        "text": 'é 中 "quoted" \\',
        "nested": [{"b": 1, "a": [None, True, 1.5e-7]}],
    }
    event = record(SYSTEM_ACTOR, "ram:Test", account_id=account_a.pk, details=details)
    stored = AuditEvent.objects.get(pk=event.pk)
    assert event_hash(stored) == stored.hash == event.hash


def test_an_event_cannot_be_saved_or_bulk_created_around_the_chain(account_a) -> None:  # type: ignore[no-untyped-def]
    event = new_event(SYSTEM_ACTOR, "ram:Test", account_id=account_a.pk)
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        AuditEvent.objects.bulk_create([event])


def session_row(account_id: str, session_id: str) -> RoleSession:
    now = timezone.now()
    return RoleSession(
        session_id=session_id,
        account_id=account_id,
        role_name="ops",
        role_arn=f"acs:ram::{account_id}:role/ops",
        session_name="chain",
        caller_arn="acs:ram::1:user/x",
        source_identity="acs:ram::1:user/x",
        issued=now,
        expires=now,
    )


@pytest.mark.django_db(transaction=True)
def test_assume_roles_joint_insert_chains_its_event(account_a) -> None:  # type: ignore[no-untyped-def]
    before = record(SYSTEM_ACTOR, "ram:Test", account_id=account_a.pk)
    insert_together(
        session_row(account_a.pk, "c" * 32),
        new_event(SYSTEM_ACTOR, "sts:AssumeRole", account_id=account_a.pk),
    )
    stored = AuditEvent.objects.filter(account_id=account_a.pk).latest("id")
    assert (stored.action, stored.previous_hash) == ("sts:AssumeRole", before.hash)
    assert stored.hash == event_hash(stored)


@pytest.mark.django_db(transaction=True)
def test_a_failed_joint_insert_leaves_the_chain_as_it_was(account_a) -> None:  # type: ignore[no-untyped-def]
    insert_together(
        session_row(account_a.pk, "d" * 32),
        new_event(SYSTEM_ACTOR, "sts:AssumeRole", account_id=account_a.pk),
    )
    head = AuditChainHead.objects.get(pk=account_a.pk)
    with pytest.raises(IntegrityError):
        insert_together(
            session_row(account_a.pk, "d" * 32),  # the session id is taken
            new_event(SYSTEM_ACTOR, "sts:AssumeRole", account_id=account_a.pk),
        )
    assert AuditChainHead.objects.get(pk=account_a.pk).last_hash == head.last_hash
    assert verify_account(account_a.pk).intact


WRITERS = 4
EVENTS_EACH = 15


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_to_one_account_never_fork_its_chain(account_a) -> None:  # type: ignore[no-untyped-def]
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs concurrent writers (PostgreSQL); SQLite's IMMEDIATE transactions admit one "
            "writer at a time, so its chain cannot fork"
        )
    errors: list[BaseException] = []

    def writer(index: int) -> None:
        try:
            for number in range(EVENTS_EACH):
                if number % 2:
                    with transaction.atomic():  # a service: the head stays locked until commit
                        record(SYSTEM_ACTOR, f"ram:Race{index}", account_id=account_a.pk)
                        time.sleep(0.002)
                else:  # AssumeRole: one statement in autocommit
                    insert_together(
                        session_row(account_a.pk, f"{index:02d}{number:030d}"),
                        new_event(SYSTEM_ACTOR, "sts:AssumeRole", account_id=account_a.pk),
                    )
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    before = len(chain_of(account_a.pk))
    threads = [threading.Thread(target=writer, args=(index,)) for index in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    verified = verify_account(account_a.pk)
    assert verified.intact, verified.problem
    assert verified.length == before + WRITERS * EVENTS_EACH


@pytest.mark.django_db(transaction=True)
def test_the_migration_chains_the_events_recorded_before_it() -> None:
    executor = MigrationExecutor(connection)
    before, after = [("iam", "0007_audit_append_only")], [("iam", "0008_audit_hash_chain")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("iam", "AuditEvent")
    for index, account_id in enumerate(["1111222233334444", "", "1111222233334444"]):
        old.objects.create(channel="api", account_id=account_id, action=f"ram:Old{index}")
    executor.loader.build_graph()
    executor.migrate(after)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert verify_account("1111222233334444").length == 2
    assert verify_account("1111222233334444").intact
    assert verify_account("").intact


def test_append_keeps_the_event_it_was_given(account_a) -> None:  # type: ignore[no-untyped-def]
    event = new_event(SYSTEM_ACTOR, "ram:Test", account_id=account_a.pk, details={"n": 1})
    append(event)
    assert AuditEvent.objects.get(pk=event.pk).hash == event.hash
