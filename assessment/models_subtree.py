"""Subtree rollups of a run's stored figures (split from assessment/models.py, which holds the
data of one row each; these hold sums over an organisation and everything below it).

A province dashboard summed ~250,000 weekly statistics rows of the whole subtree on each view
(210 ms of a 1.3 s page under load); the subtree row of the chosen organisation is one indexed
read of about a hundred rows, whatever the size of the subtree. Written only by
assessment/subtree_stats.py, in the statistics run of the same run (services.contact_stats_compute).
"""

from __future__ import annotations

from django.db import models

from .models import ScoreRun


class SubtreeWeekStat(models.Model):
    """Contacts per week and channel of an organisation's whole subtree for a run: the sum of the
    ChannelWeekStat rows of the organisation and all its descendants."""

    run = models.ForeignKey(ScoreRun, on_delete=models.CASCADE, related_name="+", db_index=False)
    organisation = models.ForeignKey(
        "cadres.Organisation", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    week = models.DateField()  # the Monday
    channel = models.CharField(max_length=16)
    contacts = models.PositiveIntegerField()

    class Meta:
        constraints = [
            # Serves the dashboard's and bulletin's weekly chart: WHERE run = ? AND organisation
            # = ? ORDER BY week, channel (one index range), and keeps one row per week × channel.
            models.UniqueConstraint(
                fields=["run", "organisation", "week", "channel"], name="subtreeweek_chart_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.week} {self.channel}: {self.contacts}"


class SubtreeScoreStat(models.Model):
    """The dashboard's figures over the scores of an organisation's whole subtree for a run: the
    raw aggregates of subtree_stats.score_aggregates (counts, sums, average) and the field
    distribution, instead of aggregating 10,000 scores of a province on each view."""

    run = models.ForeignKey(ScoreRun, on_delete=models.CASCADE, related_name="+", db_index=False)
    organisation = models.ForeignKey(
        "cadres.Organisation", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    totals = models.JSONField()
    sectors = models.JSONField()  # [[fields covered, cadres], ...] by fields covered

    class Meta:
        constraints = [
            # Serves the dashboard's and bulletin's totals: WHERE run = ? AND organisation = ?.
            models.UniqueConstraint(fields=["run", "organisation"], name="subtreescore_read_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id} {self.organisation_id}"


class OrganisationFlagStat(models.Model):
    """The open flags of one organisation's own cadres (not its subtree): how many cadres are
    flagged, and how many for each reason code (scoring.REASON_LABELS). A subtree's figures are
    the sum of its organisations' rows, instead of reading every open flag's reasons (7,744 for
    a province) on each staff home and bulletin. Written only by assessment/flags.py
    (flag_stats_store), in the same transaction as the flags themselves, which nothing else
    writes: the rows are always the live counts. Every organisation has a row once it has run."""

    organisation = models.OneToOneField(
        "cadres.Organisation", on_delete=models.CASCADE, related_name="+", primary_key=True
    )
    flagged = models.PositiveIntegerField()
    reasons = models.JSONField()  # {reason code: cadres flagged for it}

    def __str__(self) -> str:
        return f"{self.organisation_id}: {self.flagged}"
