"""Each account's audit events become a hash chain (``iam.audit_chain``): two columns, the chain
heads, the verification checkpoints; the events recorded so far are chained in id order, as they
stand now. On PostgreSQL the row trigger of 0007 is disabled for that, inside this migration's
transaction only (no other session ever sees it disabled). On SQLite a trigger moves an account's
chain head on with each event inserted (on PostgreSQL the event's own statement does,
``iam.joint_insert``)."""

import django.utils.timezone
from django.db import migrations, models

BATCH = 2000

SQLITE_HEAD_TRIGGER = """
CREATE TRIGGER iam_auditevent_chain_head AFTER INSERT ON iam_auditevent
BEGIN
    INSERT INTO iam_auditchainhead (account_id, length, previous_hash, last_hash)
    VALUES (NEW.account_id, 1, NEW.previous_hash, NEW.hash)
    ON CONFLICT (account_id) DO UPDATE SET
        length = length + 1, previous_hash = excluded.previous_hash, last_hash = excluded.last_hash;
END
"""


class RunSQLOnSQLite(migrations.RunSQL):
    """``RunSQL`` on SQLite only (a no-op on PostgreSQL, forwards and backwards)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "sqlite":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "sqlite":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def chain_recorded_events(apps, schema_editor):  # type: ignore[no-untyped-def]
    from iam.audit_chain import GENESIS, content_digest, link

    postgresql = schema_editor.connection.vendor == "postgresql"
    if postgresql:
        schema_editor.execute(
            "ALTER TABLE iam_auditevent DISABLE TRIGGER iam_auditevent_no_update_or_delete"
        )
    events = apps.get_model("iam", "AuditEvent").objects
    heads: dict[str, tuple[int, str, str]] = {}
    last_id = 0
    while batch := list(events.filter(id__gt=last_id).order_by("id")[:BATCH]):
        for event in batch:
            length, _, previous = heads.get(event.account_id, (0, GENESIS, GENESIS))
            event.previous_hash = previous
            event.hash = link(previous, content_digest(event))
            heads[event.account_id] = (length + 1, previous, event.hash)
        events.bulk_update(batch, ["previous_hash", "hash"])
        last_id = batch[-1].id
    apps.get_model("iam", "AuditChainHead").objects.bulk_create(
        apps.get_model("iam", "AuditChainHead")(
            account_id=account_id, length=length, previous_hash=previous, last_hash=last
        )
        for account_id, (length, previous, last) in heads.items()
    )
    if postgresql:
        schema_editor.execute(
            "ALTER TABLE iam_auditevent ENABLE TRIGGER iam_auditevent_no_update_or_delete"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("iam", "0007_audit_append_only"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditChainCheckpoint",
            fields=[
                (
                    "account_id",
                    models.CharField(blank=True, max_length=16, primary_key=True, serialize=False),
                ),
                ("length", models.BigIntegerField(default=0)),
                ("last_event_id", models.BigIntegerField(blank=True, null=True)),
                ("last_hash", models.CharField(max_length=64)),
                ("broken_at", models.BigIntegerField(blank=True, null=True)),
                ("problem", models.CharField(blank=True, max_length=300)),
                ("verified", models.DateTimeField()),
                ("fully_verified", models.DateTimeField(blank=True, null=True)),
            ],
        ),
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                (
                    "account_id",
                    models.CharField(blank=True, max_length=16, primary_key=True, serialize=False),
                ),
                ("length", models.BigIntegerField()),
                ("previous_hash", models.CharField(max_length=64)),
                ("last_hash", models.CharField(max_length=64)),
            ],
        ),
        migrations.AddField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(default="", editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="previous_hash",
            field=models.CharField(default="", editable=False, max_length=64),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="time",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now),
        ),
        migrations.RunPython(chain_recorded_events, migrations.RunPython.noop),
        RunSQLOnSQLite(SQLITE_HEAD_TRIGGER, "DROP TRIGGER IF EXISTS iam_auditevent_chain_head"),
    ]
