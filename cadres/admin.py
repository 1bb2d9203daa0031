"""Django admin for the organisation tree, users and the registry, scoped like every page."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from config.pagination import CappedCountPaginator

from . import rules, services
from .models import (
    Cadre,
    CadreYouth,
    Consent,
    ErasureLog,
    ExportLog,
    LiaisonChannel,
    Organisation,
    QuotaRule,
    RosterImport,
    Sector,
    User,
    Youth,
)
from .selectors import is_programme_committee, scope_queryset


class ScopedAdminMixin:
    """Admin pages see only the admin user's subtree: the list, the change page (404 outside),
    and the choices of every organisation / cadre / youth field.

    `scope_org_field` is the lookup from the model to its organisation ("" for Organisation).
    """

    scope_org_field: str | None = "organisation"
    # Foreign keys whose choices must be scoped, with the lookup to their organisation.
    scoped_fk_org_fields: dict[str, str] = {
        "organisation": "",
        "parent": "",
        "cadre": "organisation",
        "youth": "organisation",
        "owner_cadre": "organisation",
        "user": "organisation",  # a cadre's login
        "created_by": "organisation",
        "updated_by": "organisation",
        "channel": "cadre__organisation",  # a youth link's liaison channel
        "campaign": "branch",
        "branch": "",
        "secretary": "organisation",
    }

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return scope_queryset(qs, user=request.user, org_field=self.scope_org_field)

    def get_object(self, request, object_id, from_field=None):
        # Django admin would redirect with "does not exist"; outside scope is a plain 404 here,
        # as everywhere else, so that the admin does not confirm what exists elsewhere.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404
        return obj

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.scoped_fk_org_fields and not request.user.is_superuser:
            related = db_field.remote_field.model._default_manager.all()
            kwargs["queryset"] = scope_queryset(
                related, user=request.user, org_field=self.scoped_fk_org_fields[db_field.name]
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class OrganisationForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields = ["name", "kind", "parent", "is_active"]


@admin.register(Organisation)
class OrganisationAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope_org_field = ""
    form = OrganisationForm
    list_display = ["indented_name", "kind", "parent", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name"]
    autocomplete_fields = ["parent"]
    list_per_page = 100

    @admin.display(description=_("名称"), ordering="path")
    def indented_name(self, obj: Organisation) -> str:
        return "　" * obj.depth + obj.name

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        # Only a superuser may create a root; everybody else builds under their own subtree.
        form.base_fields["parent"].required = not request.user.is_superuser
        return form

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            saved = services.organisation_update(
                organisation=obj,
                name=data["name"],
                kind=data["kind"],
                parent=data["parent"],
                is_active=data["is_active"],
            )
        else:
            saved = services.organisation_create(
                name=data["name"],
                kind=data["kind"],
                parent=data["parent"],
                is_active=data["is_active"],
            )
        obj.pk, obj.path, obj.depth = saved.pk, saved.path, saved.depth

    def has_delete_permission(self, request, obj=None):
        # Deleting a node would orphan a subtree's history; deactivate instead.
        return request.user.is_superuser and super().has_delete_permission(request, obj)


@admin.register(User)
class UserAdmin(ScopedAdminMixin, DjangoUserAdmin):
    list_display = ["username", "get_full_name", "organisation", "role", "is_active", "is_demo"]
    list_filter = ["role", "is_active", "is_demo"]
    search_fields = ["username", "first_name", "last_name", "email"]
    autocomplete_fields = ["organisation"]
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("联青"), {"fields": ("organisation", "role", "is_demo")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("联青"), {"fields": ("organisation", "role")}),
    )

    def get_readonly_fields(self, request, obj=None):
        # A subtree admin manages logins but must not hand out powers they do not hold.
        if request.user.is_superuser:
            return super().get_readonly_fields(request, obj)
        return ("is_superuser", "groups", "user_permissions", "last_login", "date_joined")

    def save_model(self, request, obj, form, change):
        # Admin access follows the role, so that the role field is the single source of truth.
        obj.is_staff = obj.is_superuser or obj.role == User.Role.ADMIN
        super().save_model(request, obj, form, change)


class ProgrammeSettingAdminMixin:
    """Programme-wide settings: everyone may look, only the programme's committee changes."""

    def has_add_permission(self, request, obj=None):
        return is_programme_committee(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return is_programme_committee(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return is_programme_committee(request.user) and super().has_delete_permission(request, obj)


@admin.register(Sector)
class SectorAdmin(ProgrammeSettingAdminMixin, admin.ModelAdmin):
    list_display = ["name", "code", "sort_order", "is_active"]
    list_editable = ["sort_order", "is_active"]
    search_fields = ["name"]


@admin.register(QuotaRule)
class QuotaRuleAdmin(ProgrammeSettingAdminMixin, admin.ModelAdmin):
    """The committee sets each cadre type's quota; types without a rule use 100 / 5 / 9."""

    list_display = ["cadre_type", "quota", "min_sectors", "min_channels"]
    list_editable = ["quota", "min_sectors", "min_channels"]

    # Admin edits bypass `rules.quota_rule_set`: they move the same figures (the stored
    # progress at once, or the defaults' after a delete; the scores within a minute).
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        rules.quota_rule_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        rules.quota_rule_changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        rules.quota_rule_changed()


class RefreshProgressAdminMixin:
    """Admin edits bypass the services: recount the quota progress of the cadres concerned."""

    def _cadre_ids(self, objs) -> list[int]:
        return [obj.cadre_id for obj in objs]

    def save_model(self, request, obj, form, change):
        before = self._cadre_ids([type(obj).objects.get(pk=obj.pk)]) if change else []
        super().save_model(request, obj, form, change)
        services.cadre_progress_refresh(cadre_ids=before + self._cadre_ids([obj]))

    def delete_model(self, request, obj):
        ids = self._cadre_ids([obj])
        super().delete_model(request, obj)
        services.cadre_progress_refresh(cadre_ids=ids)

    def delete_queryset(self, request, queryset):
        ids = self._cadre_ids(list(queryset))
        super().delete_queryset(request, queryset)
        services.cadre_progress_refresh(cadre_ids=ids)


@admin.register(Cadre)
class CadreAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ["name", "organisation", "cadre_type", "position", "is_branch_secretary"]
    list_filter = ["cadre_type", "is_branch_secretary"]
    search_fields = ["name", "phone"]
    autocomplete_fields = ["organisation", "user"]
    list_select_related = ["organisation"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # A new cadre gets its progress row; another type brings another quota rule.
        if not change or "cadre_type" in form.changed_data:
            services.cadre_progress_refresh(cadre_ids=[obj.pk])

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        services.cadres_removed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        services.cadres_removed()


@admin.register(Youth)
class YouthAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ["name", "gender", "birth_year", "sector", "unit", "organisation"]
    list_filter = ["sector", "gender"]
    search_fields = ["name", "phone", "unit"]
    autocomplete_fields = ["organisation"]
    list_select_related = ["organisation", "sector"]
    # No COUNT over a million youths on every page: neither of the whole table nor of the
    # filtered list (capped, see CappedCountPaginator).
    show_full_result_count = False
    paginator = CappedCountPaginator

    def get_queryset(self, request):
        # An erased youth is nobody's to edit: the anonymised row only keeps counts right.
        return super().get_queryset(request).filter(erased_at__isnull=True)

    def has_delete_permission(self, request, obj=None):
        # Deleting here left the name and phone in the history tables; a person leaves through
        # the erase page (/cadres/youths/<id>/erase/, cadres.privacy.youth_erase) instead.
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "sector" in form.changed_data:  # the holders' field count may change
            services.cadre_progress_refresh(
                cadre_ids=services.cadre_ids_holding(youth_ids=[obj.pk])
            )


@admin.register(LiaisonChannel)
class LiaisonChannelAdmin(RefreshProgressAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    scope_org_field = "cadre__organisation"
    list_display = ["cadre", "kind", "name", "established_on"]
    list_filter = ["kind"]
    search_fields = ["name", "cadre__name"]
    autocomplete_fields = ["cadre"]


class CadreYouthAdminForm(forms.ModelForm):
    """A link made or changed in the admin obeys the linking rules too (own subtree, ceiling):
    they are asked of the service that enforces them, not written again here."""

    class Meta:
        model = CadreYouth
        fields = ["cadre", "youth", "linked_on", "channel"]

    def clean(self):
        data = super().clean()
        cadre, youth = data.get("cadre"), data.get("youth")
        if cadre is not None and youth is not None:
            refusals = services.cadre_link_refusals(cadre=cadre, youth_ids=[youth.pk])
            if refusals:
                raise forms.ValidationError(list(refusals.values()))
        return data


@admin.register(CadreYouth)
class CadreYouthAdmin(RefreshProgressAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    form = CadreYouthAdminForm
    scope_org_field = "cadre__organisation"
    list_display = ["cadre", "youth", "linked_on", "channel"]
    search_fields = ["cadre__name", "youth__name"]
    autocomplete_fields = ["cadre", "youth"]
    list_select_related = ["cadre", "youth", "channel"]
    show_full_result_count = False
    paginator = CappedCountPaginator  # ~1M links at province scale


class ReadOnlyAdminMixin:
    """Audit records: visible, never edited or deleted through the admin."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ExportLog)
class ExportLogAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    scope_org_field = "user__organisation"
    list_display = ["created_at", "user", "list_name", "export_format", "row_count", "querystring"]
    list_filter = ["list_name", "export_format"]
    list_select_related = ["user"]


@admin.register(ErasureLog)
class ErasureLogAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["erased_at", "tag", "kind", "organisation", "erased_by", "reason"]
    list_filter = ["kind"]
    search_fields = ["tag"]
    list_select_related = ["organisation", "erased_by"]


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    scope_org_field = "youth__organisation"
    list_display = ["given_at", "youth", "purpose", "wording_version", "method", "withdrawn_at"]
    list_filter = ["purpose", "method", "wording_version"]
    list_select_related = ["youth"]


@admin.register(RosterImport)
class RosterImportAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "filename", "organisation", "cadre", "status", "n_new"]
    list_filter = ["status"]
    list_select_related = ["organisation", "cadre"]
    exclude = ["rows", "upload"]


# --- django-axes: the login log shows usernames and addresses of every organisation; it is not
# scoped, so only superusers see it (and may unlock). ---
def _superuser_only(admin_class):
    class SuperuserOnly(admin_class):
        def has_module_permission(self, request):
            return request.user.is_superuser

        def has_view_permission(self, request, obj=None):
            return request.user.is_superuser

        def has_change_permission(self, request, obj=None):
            return request.user.is_superuser

        def has_delete_permission(self, request, obj=None):
            return request.user.is_superuser

    SuperuserOnly.__name__ = f"SuperuserOnly{admin_class.__name__}"
    return SuperuserOnly


def _restrict_axes_admin() -> None:
    from axes import admin as axes_admin
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    for model, admin_class in (
        (AccessAttempt, axes_admin.AccessAttemptAdmin),
        (AccessLog, axes_admin.AccessLogAdmin),
        (AccessFailureLog, axes_admin.AccessFailureLogAdmin),
    ):
        if admin.site.is_registered(model):
            admin.site.unregister(model)
        admin.site.register(model, _superuser_only(admin_class))


_restrict_axes_admin()
