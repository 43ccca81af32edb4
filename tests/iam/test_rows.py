"""The hand-written joins and inserts of the API's hot path (``iam.rows``)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection
from django.utils import timezone

from iam import services
from iam.audit import SYSTEM_ACTOR, new_event
from iam.models import AccessKey, Account, AuditEvent, Service, User
from iam.rows import Table, fetch_one, fetch_one_after_insert, insert_together
from sts import nonces
from sts.models import RoleSession, UsedNonce

pytestmark = pytest.mark.django_db(transaction=True)

KEY_TABLES = (
    Table(AccessKey, "k"),
    Table(User, "u", on="u.id = k.user_id"),
    Table(Account, "a", on="a.id = u.account_id"),
    Table(Service, "v", on="v.id = k.service_id"),
)


def test_a_join_reads_back_model_instances_with_outer_joins_as_none(user_a) -> None:  # type: ignore[no-untyped-def]
    key = services.create_access_key(SYSTEM_ACTOR, user_a).access_key
    found = fetch_one(KEY_TABLES, "k.access_key_id = %s", [key.pk])
    assert found is not None
    access_key, user, account, service = found
    assert (access_key.pk, access_key.status, access_key.secret_ciphertext) == (
        key.pk,
        "Active",
        key.secret_ciphertext,
    )
    assert access_key.created == key.created and timezone.is_aware(access_key.created)
    assert (user.pk, user.name, user.is_active) == (user_a.pk, user_a.name, True)
    assert account.pk == user_a.account_id
    assert service is None
    assert fetch_one(KEY_TABLES, "k.access_key_id = %s", ["LTAInone"]) is None


def test_columns_read_only_some_fields_and_defer_the_rest(
    user_a, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    key = services.create_access_key(SYSTEM_ACTOR, user_a).access_key
    tables = (
        Table(AccessKey, "k", columns=("user_id", "status")),
        Table(User, "u", on="u.id = k.user_id", columns=("name",)),
    )
    with django_assert_num_queries(1):
        found = fetch_one(tables, "k.access_key_id = %s", [key.pk])
        assert found is not None
        access_key, user = found
        assert (access_key.status, user.pk, user.name) == ("Active", user_a.pk, user_a.name)
    assert access_key.get_deferred_fields() >= {"secret_ciphertext", "created"}
    with django_assert_num_queries(1):  # a deferred field is read when first used
        assert access_key.created == key.created


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


def test_the_nonce_rides_on_the_read_only_on_postgresql(user_a) -> None:  # type: ignore[no-untyped-def]
    if connection.vendor != "postgresql":
        assert not nonces.can_spend_with_a_read()
        return
    assert nonces.can_spend_with_a_read()
    key = services.create_access_key(SYSTEM_ACTOR, user_a).access_key
    now = timezone.now()
    for expected_fresh in (True, False):
        insert, params = nonces.insert_statement(key.pk, "n-1", now)
        fresh, found = fetch_one_after_insert(
            insert, params, KEY_TABLES, "k.access_key_id = %s", [key.pk]
        )
        assert fresh is expected_fresh
        assert found is not None and found[0].pk == key.pk
    # An unknown key still spends the nonce and reports it.
    insert, params = nonces.insert_statement("LTAInone", "n-1", now)
    assert fetch_one_after_insert(insert, params, KEY_TABLES, "k.access_key_id = %s", ["x"]) == (
        True,
        None,
    )
    assert UsedNonce.objects.filter(nonce="n-1").count() == 2
