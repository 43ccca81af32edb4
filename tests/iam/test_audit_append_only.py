"""On PostgreSQL the audit table itself refuses UPDATE, DELETE and TRUNCATE (migration 0007)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from django.db import DatabaseError, connection, transaction

from iam.audit import SYSTEM_ACTOR, record
from iam.audit_chain import verify_account

pytestmark = pytest.mark.django_db

TABLE = "iam_auditevent"


@pytest.fixture(autouse=True)
def postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            "the append-only triggers exist on PostgreSQL only; run with "
            "DATABASE_URL=postgres://… to test them (on SQLite the hash chain detects rewrites)"
        )


@pytest.fixture
def event_id(account_a) -> int:  # type: ignore[no-untyped-def]
    return record(SYSTEM_ACTOR, "ram:Test", account_id=account_a.pk).pk


def refused(sql: str, params: tuple = ()) -> str:
    """The error a statement fails with (in a savepoint, so the test's transaction goes on)."""
    with pytest.raises(DatabaseError) as failure, transaction.atomic(), connection.cursor() as c:
        c.execute(sql, params)
    return str(failure.value)


@pytest.fixture
def non_superuser() -> Iterator[str]:
    """A role that may do anything to the audit table that privileges allow, yet is no
    superuser (as the migrating role should not be); the test runs as it until it ends."""
    role = f"audit_test_{secrets.token_hex(4)}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
        cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON {TABLE} TO {role}")
        cursor.execute(f"SET LOCAL ROLE {role}")
    yield role
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")


def test_an_update_is_refused(event_id: int) -> None:
    error = refused(f"UPDATE {TABLE} SET details = '{{}}' WHERE id = %s", (event_id,))
    assert "the audit trail is append-only: UPDATE on iam_auditevent is refused" in error


def test_a_delete_is_refused(event_id: int) -> None:
    error = refused(f"DELETE FROM {TABLE} WHERE id = %s", (event_id,))
    assert "append-only: DELETE on iam_auditevent is refused" in error


def test_a_truncate_is_refused(event_id: int, non_superuser: str) -> None:
    error = refused(f"TRUNCATE {TABLE}")
    assert "append-only: TRUNCATE on iam_auditevent is refused" in error


def test_the_event_survives_every_attempt(event_id: int, non_superuser: str) -> None:
    refused(f"UPDATE {TABLE} SET action = 'ram:Other' WHERE id = %s", (event_id,))
    refused(f"DELETE FROM {TABLE} WHERE id = %s", (event_id,))
    refused(f"TRUNCATE {TABLE}")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT action FROM {TABLE} WHERE id = %s", [event_id])
        assert cursor.fetchone() == ("ram:Test",)


def test_a_superuser_may_truncate_so_the_test_runner_can_empty_the_database(
    event_id: int,
) -> None:
    """Django's test runner flushes with TRUNCATE; a superuser could drop the trigger anyway."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if not cursor.fetchone()[0]:
            pytest.skip("the suite does not run as a PostgreSQL superuser")
        cursor.execute(f"TRUNCATE {TABLE}")
        cursor.execute(f"SELECT count(*) FROM {TABLE}")
        assert cursor.fetchone() == (0,)


@pytest.fixture
def application_role() -> Iterator[str]:
    """The role the application runs as, set up as the README says: privileges on every table
    (as the owner's default privileges grant them), then UPDATE, DELETE and TRUNCATE taken back
    on the audit table; it owns nothing. The test runs as it until it ends."""
    role = f"ram_console_app_{secrets.token_hex(4)}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        cursor.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"
        )
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
        cursor.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {TABLE} FROM {role}")
        cursor.execute(f"SET LOCAL ROLE {role}")
    yield role
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")


def test_the_application_role_appends_events_to_the_chain(account_a, application_role: str) -> None:  # type: ignore[no-untyped-def]
    event = record(SYSTEM_ACTOR, "ram:Test", account_id=account_a.pk)
    assert verify_account(account_a.pk).last_id == event.pk


@pytest.mark.parametrize(
    ("sql", "error"),
    [
        (f"UPDATE {TABLE} SET action = 'ram:Other'", "permission denied for table iam_auditevent"),
        (f"DELETE FROM {TABLE}", "permission denied for table iam_auditevent"),
        (f"TRUNCATE {TABLE}", "permission denied for table iam_auditevent"),
        (
            f"DROP TRIGGER iam_auditevent_no_update_or_delete ON {TABLE}",
            "must be owner of relation iam_auditevent",
        ),
        (
            f"ALTER TABLE {TABLE} DISABLE TRIGGER iam_auditevent_no_update_or_delete",
            "must be owner of table iam_auditevent",
        ),
        ("DROP FUNCTION iam_audit_append_only()", "must be owner of function"),
        (f"DROP TABLE {TABLE}", "must be owner of table iam_auditevent"),
    ],
)
def test_the_application_role_can_change_remove_or_unprotect_nothing(  # type: ignore[no-untyped-def]
    event_id: int, application_role: str, sql: str, error: str
) -> None:
    assert error in refused(sql)
