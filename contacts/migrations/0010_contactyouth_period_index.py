"""contactyouth_period_idx: a period's contact-youth rows by a range of the index, read
index-only, so computing a quarter reads that window's rows whatever the years of history
(issue 16 item 4; docs/scaling.md "Cost grows with the period, not with history").

Built CONCURRENTLY on PostgreSQL (the migration is not atomic): the table has 7M rows a year at
province scale and a plain CREATE INDEX blocks every contact logged meanwhile. An interrupted
concurrent build leaves an INVALID index behind: drop it (DROP INDEX CONCURRENTLY
contactyouth_period_idx) and migrate again. Other databases build it plainly."""

from django.db import migrations, models


class AddIndexConcurrentlyOnPostgres(migrations.AddIndex):
    """AddIndex, CONCURRENTLY where the database is PostgreSQL (Django's AddIndexConcurrently
    is PostgreSQL-only and the project also runs on SQLite)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.add_index(model, self.index, concurrently=True)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, self.index, concurrently=True)


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
