"""The development outbox moves to the messaging app.

Recreated rather than renamed: messaging.0001 creates `messaging_outboxmessage`, this copies
every row into it (ids, times and all) and drops `followup_outboxmessage`. Reversing copies
the rows back. The outbox holds development messages only, so the copy is small.
"""

from django.core.management.color import no_style
from django.db import migrations

FIELDS = ("id", "channel", "to", "subject", "body", "created_at")


def _copy(source, target, schema_editor):
    rows = source.objects.order_by("id").values(*FIELDS)
    target.objects.bulk_create((target(**row) for row in rows.iterator()), batch_size=500)
    # The ids were copied: move the table's id sequence past them (PostgreSQL).
    for sql in schema_editor.connection.ops.sequence_reset_sql(no_style(), [target]):
        schema_editor.execute(sql)


def forwards(apps, schema_editor):
    source = apps.get_model("followup", "OutboxMessage")
    _copy(source, apps.get_model("messaging", "OutboxMessage"), schema_editor)


def backwards(apps, schema_editor):
    source = apps.get_model("messaging", "OutboxMessage")
    _copy(source, apps.get_model("followup", "OutboxMessage"), schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ("followup", "0002_escalation_notify_retry_at"),
        ("messaging", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
        migrations.DeleteModel(name="OutboxMessage"),
    ]
