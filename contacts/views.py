"""Pages of the contacts app: thin — resolve what the user may see, form, service, redirect."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from cadres.auth import staff_required
from cadres.exports import ScopedExportMixin
from cadres.models import Cadre, Organisation
from cadres.selectors import cadre_list, get_in_scope_or_404, user_cadre
from config import ratelimit
from config.forms import add_service_errors, save_form, save_public_form, service_error_text
from config.pagination import BoundedLazyPaginator, BoundedPaginator
from config.qr import qr_svg

from . import need_services, selectors, services
from .confirm_views import share_panel
from .filters import ContactFilter, NeedFilter
from .forms import (
    BatchLogForm,
    ContactEditForm,
    MyContactsFilter,
    PublicNeedForm,
    QuickLogForm,
)
from .models import OFFLINE_CHANNELS, Channel, Contact, Need
from .need_status import need_from_token, need_status_token
from .tables import ContactTable, NeedTable

logger = logging.getLogger(__name__)
LAST_CHANNEL_KEY = "contacts_last_channel"
EXPORT_MAX_ROWS = 50_000
OFFLINE_VALUES = [c.value for c in OFFLINE_CHANNELS]


def _cadre_or_404(request: HttpRequest) -> Cadre:
    """Logging is a cadre's act: a login without a cadre record has nothing to log."""
    cadre = user_cadre(request.user)
    if cadre is None:
        raise Http404
    return cadre


def _contact_initial(request: HttpRequest) -> dict:
    return {"channel": request.session.get(LAST_CHANNEL_KEY, Channel.WECHAT)}


# --- Logging ------------------------------------------------------------------------------


def _contact_log_from_form(
    request: HttpRequest,
    form: Form,
    *,
    cadre: Cadre,
    youths: list[int],
    success: Callable[[Contact], str],
    link_unlinked: bool = False,
    rename: dict[str, str] | None = None,
) -> HttpResponse | None:
    """What quick_log and batch_log do with a valid form (the contact fields they share): log
    through the service, put its refusals on the form (then None: show the form again), or
    remember the channel for the next log, say what was saved and go home."""
    data = form.cleaned_data
    try:
        client_key = services.client_key_clean(data.get("client_key"))
        contact = services.contact_log(
            cadre=cadre,
            youths=youths,
            channel=data["channel"],
            date=data["date"],
            topic=data["topic"],
            notes=data["notes"],
            need_raised=data["need_raised"],
            need_category=data["need_category"] or Need.Category.OTHER,
            help_given=data["help_given"],
            link_unlinked=link_unlinked,
            client_key=client_key,
            by=request.user,
        )
    except ValidationError as exc:
        add_service_errors(form, exc, rename={"client_key": "__all__", **(rename or {})})
        return None
    if _is_sync(request):
        return JsonResponse(
            {"ok": True, "id": contact.pk, "replayed": getattr(contact, "replayed", False)}
        )
    request.session[LAST_CHANNEL_KEY] = contact.channel
    messages.success(request, success(contact))
    return redirect("home")


def _is_sync(request: HttpRequest) -> bool:
    """A contact sent by the phone's offline queue (static/lianqing/offline.js): answered in
    JSON, so the queue knows what was kept and why something was refused."""
    return request.headers.get("X-Lianqing-Sync") == "1"


def _sync_refused(form: Form) -> JsonResponse:
    errors = {name: [str(e) for e in errs] for name, errs in form.errors.items()}
    text = "；".join(e for errs in errors.values() for e in errs)
    return JsonResponse({"ok": False, "errors": errors, "message": text}, status=422)


@login_required
def quick_log(request: HttpRequest) -> HttpResponse:
    """One screen on a phone: pick a youth, tap a channel, save."""
    cadre = _cadre_or_404(request)
    form = QuickLogForm(request.POST or None, initial=_contact_initial(request))
    if request.method == "POST" and form.is_valid():
        done = _contact_log_from_form(
            request,
            form,
            cadre=cadre,
            youths=[form.cleaned_data["youth"]],
            link_unlinked=form.cleaned_data["link"],
            rename={"youths": "youth"},
            success=lambda contact: (
                _("已记录与 %(name)s 的联系（%(channel)s）。")
                % {"name": contact.youth_names[0], "channel": contact.get_channel_display()}
            ),
        )
        if done:
            return done
    if request.method == "POST" and _is_sync(request):
        return _sync_refused(form)
    youths = list(selectors.cadre_youths(cadre=cadre))
    picked = None
    if form.is_bound:
        # Keep the youth that was picked, including one found by search (not yet linked).
        raw = form.data.get("youth")
        picked = next((y for y in youths if str(y.pk) == raw), None)
        if picked is None and raw and raw.isdigit():
            picked = selectors.linkable_youth(cadre=cadre, pk=int(raw))
    else:
        # Back from "新增青年": the youth just added and linked is picked.
        raw = request.GET.get("youth", "")
        picked = next((y for y in youths if str(y.pk) == raw), None)
    return render(
        request,
        "contacts/quick_log.html",
        {"form": form, "youths": youths, "picked": picked, "offline_values": OFFLINE_VALUES},
    )


@login_required
def batch_log(request: HttpRequest) -> HttpResponse:
    """One visit, meeting or group chat with several youths: one form, many youths."""
    cadre = _cadre_or_404(request)
    youths = list(selectors.cadre_youths(cadre=cadre))
    form = BatchLogForm(request.POST or None, youths=youths, initial=_contact_initial(request))
    if request.method == "POST" and form.is_valid():
        n = len(form.cleaned_data["youths"])
        done = _contact_log_from_form(
            request,
            form,
            cadre=cadre,
            youths=form.cleaned_data["youths"],
            success=lambda contact: (
                _("已记录与 %(n)s 名青年的联系（%(channel)s）。")
                % {"n": n, "channel": contact.get_channel_display()}
            ),
        )
        if done:
            return done
    if request.method == "POST" and _is_sync(request):
        return _sync_refused(form)
    selected = {str(v) for v in form["youths"].value() or []}
    return render(
        request,
        "contacts/batch_log.html",
        {"form": form, "youths": youths, "selected": selected, "offline_values": OFFLINE_VALUES},
    )


@login_required
def youth_search(request: HttpRequest) -> JsonResponse:
    """Youths of the cadre's organisation not yet in their list (quick log: link in one step).
    Minimal data: name, birth year, unit."""
    cadre = _cadre_or_404(request)
    found = selectors.linkable_youth_search(cadre=cadre, q=request.GET.get("q", ""))
    return JsonResponse(
        {
            "results": [
                {"id": y.pk, "name": y.name, "birth_year": y.birth_year, "unit": y.unit}
                for y in found
            ]
        }
    )


def _contact_for_user(request: HttpRequest, pk: int) -> Contact:
    return get_in_scope_or_404(
        Contact.objects.select_related("cadre__organisation", "activity", "created_by"),
        user=request.user,
        pk=pk,
        org_field="cadre__organisation",
        cadre_field="cadre",
    )


@login_required
def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact_for_user(request, pk)
    history = contact.history.select_related("history_user").order_by("-history_date")[:20]
    return render(
        request,
        "contacts/contact_detail.html",
        {
            "contact": contact,
            "youth_rows": contact.youth_rows.select_related("youth"),
            "needs": contact.needs.all(),
            "history": history,
            "confirm": share_panel(request, contact),
            "refusal": services.contact_editable(contact, by=request.user),
            "edit_days": services.EDIT_WINDOW_DAYS,
        },
    )


@login_required
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct a contact: the cadre within EDIT_WINDOW_DAYS of recording it, staff of the
    subtree later; every change is in the contact's history."""
    contact = _contact_for_user(request, pk)
    refusal = services.contact_editable(contact, by=request.user)
    if refusal:
        messages.error(request, refusal)
        return redirect("contacts:detail", pk=contact.pk)
    current = list(contact.youth_rows.select_related("youth").order_by("pk"))
    offered = {y.pk: y for y in selectors.cadre_youths(cadre=contact.cadre)}
    for row in current:
        offered.setdefault(row.youth_id, row.youth)
    initial = {
        "channel": contact.channel,
        "date": contact.date,
        "topic": contact.topic,
        "notes": contact.notes,
        "help_given": contact.help_given,
        "youths": [r.youth_id for r in current],
    }
    form = ContactEditForm(request.POST or None, youths=list(offered.values()), initial=initial)
    saved = save_form(
        request,
        form,
        lambda: services.contact_update(
            contact=contact,
            youths=form.cleaned_data["youths"],
            channel=form.cleaned_data["channel"],
            date=form.cleaned_data["date"],
            topic=form.cleaned_data["topic"],
            notes=form.cleaned_data["notes"],
            help_given=form.cleaned_data["help_given"],
            by=request.user,
        ),
    )
    if saved is not None:
        messages.success(request, _("联系记录已修改（修改记录可查）。"))
        return redirect("contacts:detail", pk=contact.pk)
    selected = {str(v) for v in (form["youths"].value() or [])}
    return render(
        request,
        "contacts/contact_edit.html",
        {
            "form": form,
            "contact": contact,
            "youths": list(offered.values()),
            "selected": selected,
            "offline_values": OFFLINE_VALUES,
        },
    )


MINE_PER_PAGE = 20


@login_required
def my_contacts(request: HttpRequest) -> HttpResponse:
    """A cadre's own contacts, newest first, filterable, a page at a time; each links to its
    correction page."""
    cadre = _cadre_or_404(request)
    filters = MyContactsFilter(request.GET or None)
    contacts = selectors.contact_list(user=request.user).filter(cadre=cadre)
    if filters.is_valid():
        data = filters.cleaned_data
        if data["q"]:
            contacts = contacts.filter(youth_rows__youth__name__contains=data["q"]).distinct()
        if data["channel"]:
            contacts = contacts.filter(channel=data["channel"])
        if data["start"]:
            contacts = contacts.filter(date__gte=data["start"])
        if data["end"]:
            contacts = contacts.filter(date__lte=data["end"])
    page = BoundedPaginator(contacts, MINE_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "contacts/my_contacts.html",
        {
            "filters": filters,
            "page": page,
            "query": query.urlencode(),
            "filtered": any(v for k, v in request.GET.items() if k != "page"),
            "edit_since": timezone.now() - datetime.timedelta(days=services.EDIT_WINDOW_DAYS),
        },
    )


@login_required
@require_POST
def contact_delete(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact_for_user(request, pk)
    try:
        services.contact_delete(contact=contact, by=request.user)
    except ValidationError as exc:
        messages.error(request, service_error_text(exc))
        return redirect("contacts:detail", pk=pk)
    messages.success(request, _("联系记录已删除（可在历史中查到）。"))
    return redirect("contacts:list" if request.user.sees_subtree else "contacts:mine")


# --- Lists --------------------------------------------------------------------------------


class _ScopedListView(ScopedExportMixin, SingleTableMixin, FilterView):
    """A scoped, filtered table with CSV/xlsx export (capped, logged); no COUNT over millions of
    rows: the lazy paginator only asks whether there is a next page."""

    # Paginated once, by the table: a FilterView paginate_by would COUNT millions of rows.
    table_pagination = {"per_page": 25, "paginator_class": BoundedLazyPaginator}
    export_formats = ("csv", "xlsx")

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
        kwargs["user"] = self.request.user
        return kwargs

    def get_table_data(self):
        data = super().get_table_data()
        if self.request.GET.get(self.export_trigger_param):
            return data[:EXPORT_MAX_ROWS]
        return data


@method_decorator(staff_required, name="dispatch")
class ContactListView(_ScopedListView):
    table_class = ContactTable
    filterset_class = ContactFilter
    template_name = "contacts/contact_list.html"
    export_name = "contacts"

    def get_queryset(self):
        return selectors.contact_list(user=self.request.user)


@method_decorator(login_required, name="dispatch")
class NeedListView(_ScopedListView):
    table_class = NeedTable
    filterset_class = NeedFilter
    template_name = "contacts/need_list.html"
    export_name = "needs"
    export_minor_field = "youth__birth_year"  # a need row names its youth

    def get_queryset(self):
        return selectors.need_list(user=self.request.user).order_by("-created_at", "-id")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["counts"] = selectors.need_counts(selectors.need_list(user=self.request.user))
        return context


# --- The public needs form ----------------------------------------------------------------


def _rate_limited(request: HttpRequest) -> bool:
    """More than LIANQING_ASK_RATE submissions a minute from one address: refused."""
    return ratelimit.hit(request, "contacts-ask", limit=settings.LIANQING_ASK_RATE, window=60)


def _default_venue() -> Organisation | None:
    """The venue's organisation when none is named: the topmost banner committee, else the root."""
    active = Organisation.objects.filter(is_active=True)
    return (
        active.filter(kind=Organisation.Kind.BANNER).order_by("depth", "path").first()
        or active.order_by("depth", "path").first()
    )


@never_cache
def ask(request: HttpRequest, cadre_id: int | None = None) -> HttpResponse:
    """有问必答 有求必应: a youth asks without an account, from a cadre's card or the venue."""
    cadre = organisation = None
    if cadre_id is not None:
        cadre = get_object_or_404(
            Cadre.objects.select_related("organisation").filter(
                Q(active_until__isnull=True) | Q(active_until__gte=timezone.localdate())
            ),
            pk=cadre_id,
        )
    else:
        org_id = request.GET.get("org") or request.POST.get("org")
        if org_id and str(org_id).isdigit():
            organisation = Organisation.objects.filter(pk=org_id, is_active=True).first()
        organisation = organisation or _default_venue()
        if organisation is None:
            raise Http404
    form = PublicNeedForm(request.POST or None)
    post = save_public_form(
        request,
        form,
        lambda: need_services.need_submit_public(
            category=form.cleaned_data["category"],
            question=form.cleaned_data["question"],
            asker_name=form.cleaned_data["asker_name"],
            reply_to=form.cleaned_data["reply_to"],
            cadre=cadre,
            organisation=organisation,
        ),
        limited=_rate_limited,
    )
    if post.bot:
        return redirect("contacts:ask_done")
    if post.saved is not None:
        # The thanks page shows the asker's private status link (contacts/need_status.py).
        done = reverse("contacts:ask_done")
        return redirect(f"{done}?{urlencode({'t': need_status_token(post.saved)})}")
    return render(
        request,
        "contacts/ask.html",
        {"form": form, "cadre": cadre, "organisation": organisation},
        status=post.status,
    )


@never_cache
def ask_done(request: HttpRequest) -> HttpResponse:
    days = getattr(settings, "LIANQING_NEED_DUE_DAYS", 7)
    token = request.GET.get("t", "")
    context: dict = {"days": days}
    if need_from_token(token) is not None:
        url = request.build_absolute_uri(reverse("contacts:need_status", args=[token]))
        context.update(status_url=url, qr_svg=qr_svg(url, box_size=8))
    return render(request, "contacts/ask_done.html", context)


# --- Dormant youths and the timeline ------------------------------------------------------


@login_required
def dormant(request: HttpRequest) -> HttpResponse:
    """A cadre: their dormant youths. Staff: counts per cadre of their subtree (a page at a time,
    so the work is bounded whatever the size of the subtree)."""
    today = timezone.localdate()
    start = today.replace(month=1, day=1)
    if request.user.sees_subtree:
        cadres = cadre_list(user=request.user).order_by("organisation__path", "name", "id")
        page = Paginator(cadres, 50).get_page(request.GET.get("page"))
        ids = [c.pk for c in page]
        counts = selectors.cadre_dormant_counts(cadre_ids=ids, today=today)
        stats = selectors.cadre_contact_stats(cadre_ids=ids, start=start, end=today)
        rows = [(c, counts[c.pk], stats[c.pk]) for c in page]
        return render(
            request,
            "contacts/dormant_staff.html",
            {"page": page, "rows": rows, "days": selectors.dormant_days(), "start": start},
        )
    cadre = _cadre_or_404(request)
    dormant_youths, never_offline = selectors.cadre_dormant_youths(cadre=cadre, today=today)
    stats = selectors.cadre_contact_stats(cadre_ids=[cadre.pk], start=start, end=today)[cadre.pk]
    return render(
        request,
        "contacts/dormant_cadre.html",
        {
            "dormant": dormant_youths,
            "never_offline": never_offline,
            "stats": stats,
            "days": selectors.dormant_days(),
            "start": start,
        },
    )


@login_required
def youth_timeline(request: HttpRequest, pk: int) -> HttpResponse:
    youth = selectors.youth_for_user(user=request.user, pk=pk)
    from .panels import youth_panels

    return render(
        request,
        "contacts/youth_timeline.html",
        {
            "youth": youth,
            "panels": youth_panels(request, youth),
            "quick_log_url": reverse("contacts:quick_log"),
        },
    )
