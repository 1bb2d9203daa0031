"""The contacts app's panels: the cadre's home page, the staff home page, a youth's page and a
cadre's page. Each returns rendered card fragments; query counts do not grow with the data."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone

from cadres.models import Cadre, Youth
from cadres.selectors import user_cadre

from . import selectors
from .models import Need


def cadre_panels(request: HttpRequest) -> list[str]:
    """Home of a cadre: the big "记录联系" button, recent contacts, dormant count, open needs."""
    cadre = user_cadre(request.user)
    if cadre is None:
        return []
    today = timezone.localdate()
    owned = Need.objects.filter(owner_cadre=cadre, status__in=selectors.OPEN_STATUSES)
    context = {
        "cadre": cadre,
        "recent": selectors.cadre_recent_contacts(cadre_id=cadre.pk, limit=5),
        "dormant": selectors.cadre_dormant_counts(cadre_ids=[cadre.pk], today=today)[cadre.pk],
        "days": selectors.dormant_days(),
        "needs": list(owned.order_by("due_date", "id")[:5]),
        "need_counts": selectors.need_counts(Need.objects.filter(owner_cadre=cadre), today),
    }
    return [render_to_string("contacts/partials/cadre_home.html", context, request=request)]


def staff_panels(request: HttpRequest) -> list[str]:
    """Home of staff: the needs desk of their subtree at a glance (one aggregate query)."""
    counts = selectors.need_counts(selectors.need_list(user=request.user))
    return [
        render_to_string("contacts/partials/staff_needs.html", {"counts": counts}, request=request)
    ]


def youth_panels(request: HttpRequest, youth: Youth) -> list[str]:
    """A youth's timeline: contacts (including those from activities) and needs, newest first.
    The caller has already checked the user may see this youth."""
    entries = selectors.youth_timeline(youth=youth, user=request.user)
    return [
        render_to_string(
            "contacts/partials/youth_timeline.html",
            {"youth": youth, "entries": entries},
            request=request,
        )
    ]


def cadre_detail_panels(request: HttpRequest, cadre: Cadre) -> list[str]:
    """A cadre's page: recent contacts, dormant youths, online → offline conversion this year.
    The caller has already checked the user may see this cadre."""
    today = timezone.localdate()
    start = today.replace(month=1, day=1)
    context = {
        "cadre": cadre,
        "recent": selectors.cadre_recent_contacts(cadre_id=cadre.pk, limit=5),
        "dormant": selectors.cadre_dormant_counts(cadre_ids=[cadre.pk], today=today)[cadre.pk],
        "stats": selectors.cadre_contact_stats(cadre_ids=[cadre.pk], start=start, end=today)[
            cadre.pk
        ],
        "days": selectors.dormant_days(),
        "start": start,
    }
    return [render_to_string("contacts/partials/cadre_detail.html", context, request=request)]
