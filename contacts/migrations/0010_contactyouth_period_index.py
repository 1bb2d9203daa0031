"""contactyouth_period_idx: a period's contact-youth rows by a range of the index, read
index-only, so computing a quarter reads that window's rows whatever the years of history
(issue 16 item 4; docs/scaling.md "Cost grows with the period, not with history").

Built CONCURRENTLY on PostgreSQL (the migration is not atomic): the table has 7M rows a year at
province scale and a plain CREATE INDEX blocks every contact logged meanwhile. An interrupted
concurrent build leaves an INVALID index behind: drop it (DROP INDEX CONCURRENTLY
contactyouth_period_idx) and migrate again. Other databases build it plainly."""

from django.db import migrations, models

from contacts.migrations._concurrent import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("contacts", "0009_integrity_entries_index"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="contactyouth",
            index=models.Index(
                fields=["date"],
                include=("cadre", "youth", "is_offline", "contact"),
                name="contactyouth_period_idx",
            ),
        ),
    ]
