"""Admin for contacts and needs: scoped and read-only.

Every write goes through contacts.services (the ContactYouth fact table, soft deletion, need
status and history depend on it); the admin is for looking things up across the subtree.
"""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from cadres.admin import ReadOnlyAdminMixin, ScopedAdminMixin
from config.pagination import CappedCountPaginator

from .models import Contact, Need


@admin.register(Contact)
class ContactAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    scope_org_field = "cadre__organisation"
    list_display = ["date", "cadre", "channel", "is_offline", "topic", "activity", "is_deleted"]
    # The date filter's fixed ranges (today, past 7 days, this month, this year) cost no query;
    # date_hierarchy ran SELECT DISTINCT over every contact's date on each page (5M rows).
    list_filter = ["channel", "is_deleted", "date"]
    search_fields = ["cadre__name", "topic"]
    list_select_related = ["cadre", "activity"]
    # No COUNT over millions of contacts on every page: neither of the whole table nor of the
    # filtered list (capped, see CappedCountPaginator).
    show_full_result_count = False
    paginator = CappedCountPaginator


@admin.register(Need)
class NeedAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ["created_at", "category", "organisation", "owner_cadre", "status", "due_date"]
    list_filter = ["status", "category", "source"]
    search_fields = ["question", "asker_name", "owner_cadre__name"]
    list_select_related = ["organisation", "owner_cadre"]
    show_full_result_count = False
    paginator = CappedCountPaginator
