"""Admin for campaigns, re-election procedures and the member rosters only.

There is deliberately no admin for ballots or codes: individual ballots are never listed
anywhere (MISSION.md, "Anonymity is absolute"). A campaign's rules are read-only once its ballot
box is open (as in the service, the form and a database trigger); its tallies and comments are
not shown at all below the small-group threshold."""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from cadres.admin import ScopedAdminMixin

from .campaigns import RULE_FIELDS
from .models import Campaign, Member, ReelectionProcedure


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
    # Results are written by the settlement service only.
    result_fields = [
        "voting_closed_at",
        "closed_at",
        "closed_by",
        "turnout",
        "is_valid",
        "outcome",
        "shares_lost",
    ]
    # Tallies and comments: shown only from the campaign's small-group threshold up.
    tally_fields = [
        "n_satisfied",
        "n_basic",
        "n_not_satisfied",
        "satisfaction_rate",
        "aspect_results",
        "comments",
    ]
    readonly_fields = result_fields + tally_fields + ["counted_receipts"]
    raw_id_fields = ["branch", "secretary", "created_by"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and (obj.is_sealed or obj.status != Campaign.Status.PLANNED):
            # The electorate too: the quorum is reckoned against it (also in the trigger).
            fields += [*RULE_FIELDS, "share_threshold", "share_count", "electorate"]
        return fields

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        if obj is None or not obj.shows_counts:
            exclude += self.tally_fields
        return exclude

    def get_fields(self, request, obj=None):
        hidden = set(self.get_exclude(request, obj))
        return [f for f in super().get_fields(request, obj) if f not in hidden]

    def get_queryset(self, request):
        # The rated secretary never sees their own campaign, not even here.
        return super().get_queryset(request).exclude(secretary__user_id=request.user.pk)


@admin.register(ReelectionProcedure)
class ReelectionProcedureAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    scope_org_field = "campaign__branch"
    list_display = ["campaign", "status", "new_secretary", "updated_at"]
    list_filter = ["status"]
    raw_id_fields = ["campaign", "updated_by"]
    # The result changes the registry: recorded by surveys.settlement.reelection_result_record
    # (the campaign page), never typed here.
    readonly_fields = ["new_secretary", "elected_on"]


@admin.register(Member)
class MemberAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    """The branch rosters. Who received a code slip (Elector) has no admin: it is read on the
    campaign's 领票登记 page only."""

    scope_org_field = "branch"
    list_display = ["name", "branch", "birth_year", "joined_on", "left_on"]
    list_filter = ["left_on"]
    search_fields = ["name"]
    raw_id_fields = ["branch"]
