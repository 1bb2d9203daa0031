"""Admin for activities: scoped. Attendance, hours and honours are read-only here because
their writes go through activities.services (derived contacts, capacity, approvals);
partners are shared reference data and editable."""

from __future__ import annotations

from django.contrib import admin

from cadres.admin import ReadOnlyAdminMixin, ScopedAdminMixin

from .models import (
    Activity,
    Commendation,
    EntrepreneurshipProject,
    Partner,
    Registration,
    VolunteerHours,
    VolunteerOrganisation,
)


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "kind"]
    list_filter = ["kind"]
    search_fields = ["name"]


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["title", "category", "organisation", "starts_at", "status"]
    list_filter = ["category", "status"]
    search_fields = ["title", "place"]
    date_hierarchy = "starts_at"
    list_select_related = ["organisation"]


@admin.register(Registration)
class RegistrationAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    scope_org_field = "activity__organisation"
    list_display = ["activity", "youth", "name", "checked_in_at", "hours"]
    search_fields = ["activity__title", "youth__name", "name"]
    list_select_related = ["activity", "youth"]


@admin.register(VolunteerOrganisation)
class VolunteerOrganisationAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "organisation"]
    search_fields = ["name"]


@admin.register(VolunteerHours)
class VolunteerHoursAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["youth", "volunteer_organisation", "hours", "status"]
    list_filter = ["status"]
    list_select_related = ["youth", "volunteer_organisation"]


@admin.register(Commendation)
class CommendationAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["title", "youth", "organisation", "activity"]
    search_fields = ["title", "youth__name"]
    list_select_related = ["youth", "organisation", "activity"]


@admin.register(EntrepreneurshipProject)
class EntrepreneurshipProjectAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "youth", "organisation", "stage"]
    list_filter = ["stage"]
    search_fields = ["name", "youth__name"]
    list_select_related = ["youth", "organisation"]
