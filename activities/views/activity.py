"""Activity pages: the list and calendar, one activity, create / edit / plan from needs, photos."""

from __future__ import annotations

import calendar
import datetime
from collections import defaultdict
from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from cadres.auth import staff_required
from cadres.exports import ScopedExportMixin
from config.forms import run_action, save_form
from config.pagination import BoundedPaginator
from config.qr import qr_svg

from .. import selectors, services
from ..filters import ActivityFilter
from ..forms import ActivityForm, NeedsActivityForm, PhotoForm
from ..models import Activity
from ..plans import plan_item_scope
from ..tables import ActivityTable

if TYPE_CHECKING:
    from contacts.models import Need


def _manageable(request: HttpRequest, pk: int) -> Activity:
    """The activity if the user may run it (staff in scope, responsible cadre); 404 otherwise."""
    activity = selectors.activity_get(user=request.user, pk=pk)
    if not selectors.can_manage(activity, request.user):
        raise Http404
    return activity


# --- lists and calendar -------------------------------------------------------------------------


def _links(request: HttpRequest) -> dict[str, str]:
    """Query strings for the view switch and the exports, keeping the current filters."""

    def with_(**changes) -> str:
        query = request.GET.copy()
        for key, value in changes.items():
            query.pop(key, None)
            if value is not None:
                query[key] = value
        return query.urlencode()

    return {
        "list": with_(view=None, month=None),
        "calendar": with_(view="calendar", page=None),
        "csv": with_(_export="csv", view=None, page=None),
        "xlsx": with_(_export="xlsx", view=None, page=None),
    }


class ListPage(LoginRequiredMixin, ScopedExportMixin, SingleTableMixin, FilterView):
    """The app's filtered, paginated, exportable lists (activities, projects)."""

    # Paginated once, by the table (a FilterView paginate_by would COUNT the list again).
    table_pagination = {"per_page": 30, "paginator_class": BoundedPaginator}


class ActivityListView(ListPage):
    table_class = ActivityTable
    filterset_class = ActivityFilter
    template_name = "activities/list.html"
    export_name = "activities"

    def get_queryset(self):
        return selectors.activity_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["links"] = _links(self.request)
        if self.request.GET.get("view") == "calendar":
            context["calendar"] = self._month(self.object_list)
        return context

    def _month(self, qs) -> dict:
        today = timezone.localdate()
        try:
            year, month = (int(x) for x in self.request.GET.get("month", "").split("-"))
            first = datetime.date(year, month, 1)
        except (TypeError, ValueError):
            first = today.replace(day=1)
        last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
        tz = timezone.get_current_timezone()
        lo = datetime.datetime.combine(first, datetime.time.min, tzinfo=tz)
        hi = datetime.datetime.combine(
            last + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz
        )
        by_day = defaultdict(list)
        for activity in qs.filter(starts_at__gte=lo, starts_at__lt=hi).order_by("starts_at")[:500]:
            by_day[timezone.localdate(activity.starts_at)].append(activity)
        weeks = [
            [
                {"day": d, "in_month": d.month == first.month, "items": by_day.get(d, [])}
                for d in week
            ]
            for week in calendar.Calendar(firstweekday=0).monthdatescalendar(
                first.year, first.month
            )
        ]
        prev_month = (first - datetime.timedelta(days=1)).replace(day=1)
        next_month = last + datetime.timedelta(days=1)
        query = self.request.GET.copy()
        query.pop("month", None)
        query.pop("page", None)
        return {
            "first": first,
            "weeks": weeks,
            "today": today,
            "prev": prev_month.strftime("%Y-%m"),
            "next": next_month.strftime("%Y-%m"),
            "query": query.urlencode(),
            "days": [_("周一"), _("周二"), _("周三"), _("周四"), _("周五"), _("周六"), _("周日")],
            "agenda": [(d, by_day[d]) for d in sorted(by_day)],
        }


# --- one activity -------------------------------------------------------------------------------


@login_required
def activity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    activity = selectors.activity_get(user=request.user, pk=pk)
    manage = selectors.can_manage(activity, request.user)
    context = {
        "activity": activity,
        "manage": manage,
        "partners": list(activity.partners.all()),
        "cadres": list(activity.responsible_cadres.select_related("organisation")),
        "photos": list(activity.photos.all()),
        "commendations": list(activity.commendations.select_related("youth")),
        "needs": list(activity.source_needs.all()[:20]),
        "photo_form": PhotoForm(),
    }
    if manage:
        register_url = request.build_absolute_uri(
            reverse("activities:public_register", args=[activity.register_code])
        )
        checkin_url = request.build_absolute_uri(
            reverse("activities:public_checkin", args=[activity.checkin_code])
        )
        context.update(
            register_url=register_url,
            checkin_url=checkin_url,
            register_qr=qr_svg(register_url, box_size=8),
            checkin_qr=qr_svg(checkin_url, box_size=8),
        )
    return render(request, "activities/detail.html", context)


def _save_activity(
    request: HttpRequest,
    form: ActivityForm,
    *,
    activity: Activity | None = None,
    needs: list[Need] | None = None,
) -> Activity:
    """The activity form to its service: partners by name (created on first use), and for an
    activity planned from needs, the needs and whether to invite the askers."""
    data = dict(form.cleaned_data)
    data.pop("partner_names", None)
    invite = data.pop("invite", False)
    data["partners"] = [services.partner_get_or_create(name=n) for n in form.partner_list()]
    if needs is not None:
        return services.activity_from_needs(needs=needs, invite=invite, by=request.user, **data)
    if activity is not None:
        return services.activity_update(activity=activity, by=request.user, **data)
    return services.activity_create(by=request.user, **data)


def _from_plan_item(request: HttpRequest) -> dict[str, object]:
    """ "新建活动" from a plan item (?plan_item=<id>): the item, its organisation and category."""
    raw = request.GET.get("plan_item", "")
    item = plan_item_scope(request.user).filter(pk=raw).first() if raw.isdigit() else None
    if item is None or len(raw) > 12:
        return {}
    initial: dict[str, object] = {"plan_item": item.pk, "organisation": item.plan.organisation_id}
    if item.category in Activity.Category.values:
        initial["category"] = item.category
    return initial


@staff_required
def activity_create(request: HttpRequest) -> HttpResponse:
    form = ActivityForm(request.POST or None, user=request.user, initial=_from_plan_item(request))
    if (activity := save_form(request, form, lambda: _save_activity(request, form))) is not None:
        messages.success(request, _("活动已创建。"))
        return redirect(activity)
    return render(request, "activities/form.html", {"form": form, "title": _("新建活动")})


@staff_required
def activity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    activity = selectors.activity_get(user=request.user, pk=pk)
    form = ActivityForm(request.POST or None, instance=activity, user=request.user)
    saved = save_form(
        request, form, lambda: _save_activity(request, form, activity=Activity.objects.get(pk=pk))
    )
    if saved is not None:
        messages.success(request, _("活动已保存。"))
        return redirect(saved)
    return render(
        request,
        "activities/form.html",
        {"form": form, "title": _("编辑活动"), "activity": activity},
    )


@staff_required
def activity_from_needs(request: HttpRequest) -> HttpResponse:
    """Plan a lecture/training from grouped needs (/activities/new/from-needs/?needs=1,2,3)."""
    from contacts.selectors import needs_by_ids

    raw = request.POST.get("needs") or request.GET.get("needs", "")
    # Ids beyond a 64-bit key cannot exist (and overflow the database driver): ignore them;
    # a grouped list is a few dozen needs, never hundreds.
    ids = [int(x) for x in raw.replace(" ", "").split(",")[:200] if x.isdigit() and len(x) <= 18]
    needs = needs_by_ids(user=request.user, ids=ids)
    if not needs:
        raise Http404
    categories = {n.get_category_display() for n in needs}
    initial = {
        "title": _("%(topic)s专题讲座") % {"topic": "、".join(sorted(categories))},
        "category": Activity.Category.TRAINING,
        "organisation": needs[0].organisation_id,
        "status": Activity.Status.OPEN,
        "description": "\n".join(f"· {n.question[:80]}" for n in needs),
        "invite": True,
        # The cadres who own these needs answer them at the lecture (issue 15 item 6).
        "responsible_cadres": sorted({n.owner_cadre_id for n in needs if n.owner_cadre_id}),
    }
    form = NeedsActivityForm(request.POST or None, user=request.user, initial=initial)
    activity = save_form(request, form, lambda: _save_activity(request, form, needs=needs))
    if activity is not None:
        messages.success(request, _("已根据 %(n)s 条需求创建活动。") % {"n": len(needs)})
        return redirect(activity)
    return render(
        request,
        "activities/form.html",
        {
            "form": form,
            "title": _("根据需求开设讲座/培训"),
            "needs": needs,
            "needs_param": ",".join(str(n.pk) for n in needs),
        },
    )


@login_required
@require_POST
def photo_upload(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _manageable(request, pk)
    form = PhotoForm(request.POST, request.FILES)
    run_action(
        request,
        lambda: services.photo_add(activity=activity, by=request.user, **form.cleaned_data),
        _("照片已上传。"),
        form=form,
    )
    return redirect(activity)
