"""contact_integrity_entries_idx (padding detection's entries statement, read index-only), and
autovacuum settings that keep the contact tables' visibility map current.

An index-only scan reads a row's heap page unless the visibility map marks the page all-visible,
and only VACUUM marks it. The contact tables only grow, so autovacuum visits them on its insert
threshold: by default 1,000 rows plus a fifth of the table, about a million contacts at province
scale, a quarter's logs. The newest pages, the ones the nightly run reads, would then be the
ones never marked. At 1 % (50,000 contacts, a few days' logs) each VACUUM has only the new
pages to visit (it skips the marked ones). PostgreSQL only; the building is ~40 s at province
scale (measured on the province copy, load ~11) and blocks writes to contacts meanwhile."""

from django.conf import settings
from django.db import migrations, models


TABLES = ("contacts_contact", "contacts_contactyouth")


def autovacuum_on_inserts(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(
            f"ALTER TABLE {table} SET (autovacuum_vacuum_insert_scale_factor = 0.01, "
            "autovacuum_vacuum_insert_threshold = 10000)"
        )


def autovacuum_defaults(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(
            f"ALTER TABLE {table} RESET (autovacuum_vacuum_insert_scale_factor, "
            "autovacuum_vacuum_insert_threshold)"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("activities", "0006_activity_teams"),
        ("cadres", "0010_exportjob_erased_status"),
        ("contacts", "0008_contact_notes_key"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(
                condition=models.Q(("activity__isnull", True), ("is_deleted", False)),
                fields=["cadre", "created_at", "id"],
                include=("date", "notes_key", "notes_chars"),
                name="contact_integrity_entries_idx",
            ),
        ),
        migrations.RunPython(autovacuum_on_inserts, autovacuum_defaults),
    ]
