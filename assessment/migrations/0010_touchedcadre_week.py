"""TouchedCadre carries the week of the change, so that an incremental run rewrites its
organisations' weekly statistics for the touched weeks only (the year's run read a whole year
of contacts for each touched organisation)."""

import datetime

from django.db import migrations, models

# Markers waiting at the upgrade have no week: each period that has any gets a whole-period
# marker instead (its next run recomputes everything), so no change is lost.
PLACEHOLDER = datetime.date(2000, 1, 3)


def whole_periods(apps, schema_editor):
    TouchedCadre = apps.get_model("assessment", "TouchedCadre")
    periods = set(TouchedCadre.objects.values_list("period", flat=True))
    TouchedCadre.objects.all().delete()
    TouchedCadre.objects.bulk_create(
        [TouchedCadre(period=code, cadre_id=0, week=PLACEHOLDER) for code in sorted(periods)]
    )


class Migration(migrations.Migration):
    dependencies = [
        ("assessment", "0009_subtree_score_stats"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="touchedcadre", name="touchedcadre_unique"),
        migrations.AddField(
            model_name="touchedcadre",
            name="week",
            field=models.DateField(default=PLACEHOLDER, verbose_name="周"),
            preserve_default=False,
        ),
        migrations.RunPython(whole_periods, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="touchedcadre",
            constraint=models.UniqueConstraint(
                fields=("period", "cadre_id", "week"), name="touchedcadre_week_unique"
            ),
        ),
    ]
