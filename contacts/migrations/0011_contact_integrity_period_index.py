"""contact_integrity_period_idx: padding detection's entries statement reads a period's
hand-typed contacts as a range of the date, index-only, whatever the years of history
(issue 16 item 4; docs/scaling.md). Built CONCURRENTLY on PostgreSQL like contacts/0010 (an
interrupted build leaves an INVALID index: DROP INDEX CONCURRENTLY contact_integrity_period_idx
and migrate again)."""

from django.db import migrations, models

from contacts.migrations._concurrent import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("contacts", "0010_contactyouth_period_index"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="contact",
            index=models.Index(
                condition=models.Q(("activity__isnull", True), ("is_deleted", False)),
                fields=["date"],
                include=("cadre", "created_at", "id", "notes_key", "notes_chars"),
                name="contact_integrity_period_idx",
            ),
        ),
    ]
