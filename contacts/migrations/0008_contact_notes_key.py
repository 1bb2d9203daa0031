"""Contact.notes_key / notes_chars (contacts/notes_key.py): the note as padding detection
compares it, stored so the nightly detection groups integers instead of running a regexp over
a quarter's notes. Older rows are backfilled: one UPDATE on PostgreSQL, the Python rule row by row elsewhere
(development databases). Measured on the province copy: one quarter's 760,222 contacts took 874 s
at load 14-24; the whole 4.9 M was cancelled after 30 min, so run this migration off-peak."""

from django.db import migrations, models


def backfill(apps, schema_editor):
    from contacts.notes_key import backfill_params, backfill_sql, notes_key

    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(backfill_sql(), backfill_params())
        return
    Contact = apps.get_model("contacts", "Contact")
    ContactYouth = apps.get_model("contacts", "ContactYouth")
    names: dict[int, list[str]] = {}
    for contact_id, name in ContactYouth.objects.values_list("contact_id", "youth__name"):
        names.setdefault(contact_id, []).append(name or "")
    rows = []
    for contact in Contact.objects.filter(activity__isnull=True).exclude(notes="").only("notes"):
        contact.notes_key, contact.notes_chars = notes_key(contact.notes, names.get(contact.pk, []))
        rows.append(contact)
    Contact.objects.bulk_update(rows, ["notes_key", "notes_chars"], batch_size=2000)


class Migration(migrations.Migration):

    dependencies = [
        ("contacts", "0007_need_open_and_newest_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="contact",
            name="notes_chars",
            field=models.PositiveSmallIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="contact",
            name="notes_key",
            field=models.BigIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
