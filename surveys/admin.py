"""Admin for campaigns and re-election procedures only.

There is deliberately no admin for ballots, codes or receipts: individual ballots are never
listed anywhere (MISSION.md, "Anonymity is absolute")."""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from cadres.admin import ScopedAdminMixin

from .models import Campaign, ReelectionProcedure


@admin.register(Campaign)
class CampaignAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope_org_field = "branch"
    list_display = [
        "__str__",
        "secretary",
        "year",
        "electorate",
        "opens_at",
        "closes_at",
        "outcome",
    ]
    list_filter = ["year", "outcome"]
    # Results are written by the closing service only.
    readonly_fields = [
        "closed_at",
        "closed_by",
        "turnout",
        "is_valid",
        "n_satisfied",
        "n_basic",
        "n_not_satisfied",
        "satisfaction_rate",
        "aspect_results",
        "outcome",
    ]
    raw_id_fields = ["branch", "secretary", "created_by"]

    def get_queryset(self, request):
        # The rated secretary never sees their own campaign, not even here.
        return super().get_queryset(request).exclude(secretary__user_id=request.user.pk)


@admin.register(ReelectionProcedure)
class ReelectionProcedureAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    scope_org_field = "campaign__branch"
    list_display = ["campaign", "status", "updated_at"]
    list_filter = ["status"]
    raw_id_fields = ["campaign", "updated_by"]
