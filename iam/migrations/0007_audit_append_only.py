"""On PostgreSQL, the audit table refuses UPDATE and DELETE (row triggers) and TRUNCATE (a
statement trigger), whoever asks: the application's own checks (``AuditEvent.save``/``delete``,
the queryset's ``update``/``delete``) then have the database behind them. Only a role that owns
the table can disable the triggers (``ALTER TABLE … DISABLE TRIGGER``), so the application should
run as a role that owns nothing (README, "An audit trail nobody can rewrite").

A superuser's TRUNCATE is let through: Django's test runner empties a test database with one
TRUNCATE of every table between transactional tests, and a superuser could drop the trigger
anyway. Neither the migrating role nor the application's role should be a superuser.

SQLite has no such triggers here; the hash chain (``iam.audit_chain``) detects a rewrite there.
"""

from django.db import migrations

CREATE = """
CREATE FUNCTION iam_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE'
       AND (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'the audit trail is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Audit events can only be inserted; nothing may change or remove one.';
END
$$;
CREATE TRIGGER iam_auditevent_no_update_or_delete
    BEFORE UPDATE OR DELETE ON iam_auditevent
    FOR EACH ROW EXECUTE FUNCTION iam_audit_append_only();
CREATE TRIGGER iam_auditevent_no_truncate
    BEFORE TRUNCATE ON iam_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION iam_audit_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS iam_auditevent_no_truncate ON iam_auditevent;
DROP TRIGGER IF EXISTS iam_auditevent_no_update_or_delete ON iam_auditevent;
DROP FUNCTION IF EXISTS iam_audit_append_only();
"""


class RunSQLOnPostgreSQL(migrations.RunSQL):
    """``RunSQL`` on PostgreSQL only (a no-op on SQLite, forwards and backwards)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [
        ("iam", "0006_logon_security"),
    ]

    operations = [
        RunSQLOnPostgreSQL(CREATE, DROP),
    ]
