"""Django admin: the committee can read everything of the assessment; the policy is changed only
through new versions (services.policy_create), so existing versions are read-only here."""

from __future__ import annotations

from django.contrib import admin

from cadres.admin import ScopedAdminMixin

from . import services
from .models import ScoringPolicy, SupervisionCase


@admin.register(ScoringPolicy)
class ScoringPolicyAdmin(admin.ModelAdmin):
    list_display = (
        "version",
        "w_quota",
        "w_reach",
        "w_depth",
        "w_diversity",
        "w_responsiveness",
        "w_ballot",
        "w_confirmed",
        "flag_score_below",
        "note",
        "created_at",
    )
    fields = [*services.POLICY_FIELDS, "note"]

    def has_change_permission(self, request, obj=None):
        return False  # a change is a new version

    def has_delete_permission(self, request, obj=None):
        return False  # stored scores point at it

    def save_model(self, request, obj, form, change):
        values = {name: getattr(obj, name) for name in services.POLICY_FIELDS}
        new = services.policy_create(values=values, note=obj.note, by=request.user)
        obj.pk, obj.version = new.pk, new.version

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)

        class ValidatingForm(form):
            def clean(self):
                data = super().clean()
                if not self.errors:
                    services.policy_validate({n: data.get(n) for n in services.POLICY_FIELDS})
                return data

        return ValidatingForm


@admin.register(SupervisionCase)
class SupervisionCaseAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("cadre", "organisation", "status", "opened_at", "closed_at")
    list_filter = ("status",)
    readonly_fields = ("cadre", "organisation", "flag", "opened_by", "closed_at")
