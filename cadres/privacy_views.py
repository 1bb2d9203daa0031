"""Pages of the personal-data rules (cadres/privacy.py): staff erase a youth (a confirmation
step, a dedicated permission), and a youth joins a cadre's list from the cadre's card."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from config import ratelimit
from config.forms import save_form, save_public_form

from . import services
from .auth import staff_required
from .models import CadreYouth, User, Youth
from .privacy import CONSENT_WORDING_VERSION, cadre_for_join_token
from .privacy_forms import JoinForm, YouthEraseForm
from .selectors import get_youth_for_user


def may_erase(user: User) -> bool:
    """Erasing is irreversible: staff who hold the dedicated permission (superusers do)."""
    return bool(user.sees_subtree and user.has_perm("cadres.erase_youth"))


@staff_required
def youth_erase(request: HttpRequest, pk: int) -> HttpResponse:
    """The confirmation page (GET) and the erasure (POST) of one youth in the user's scope."""
    if not may_erase(request.user):
        raise Http404
    youth = get_youth_for_user(user=request.user, pk=pk)
    form = YouthEraseForm(request.POST or None, youth=youth)
    log = save_form(
        request,
        form,
        lambda: services.youth_erase(
            youth=youth, reason=form.cleaned_data["reason"], by=request.user
        ),
    )
    if log is not None:
        messages.success(
            request,
            _("已删除该青年的个人信息。删除编号：%(tag)s（可告知本人，记录中不含其个人信息）。")
            % {"tag": log.tag},
        )
        return redirect("cadres:youth_list")
    context = {
        "youth": youth,
        "form": form,
        "n_links": CadreYouth.objects.filter(youth=youth).count(),
        "n_contacts": youth.contact_rows.count(),
        "n_needs": youth.needs.count(),
    }
    return render(request, "cadres/youth_erase.html", context)


def _join_rate_limited(request: HttpRequest) -> bool:
    return ratelimit.hit(request, "cadres-join", limit=settings.LIANQING_JOIN_RATE, window=60)


@never_cache
def join(request: HttpRequest, token: str) -> HttpResponse:
    """加入联系: a youth scans a cadre's card, fills in who they are and consents to contact."""
    cadre = cadre_for_join_token(token)
    if cadre is None:
        raise Http404
    form = JoinForm(request.POST or None, cadre=cadre)

    def join_youth() -> Youth:
        data = form.cleaned_data
        return services.youth_self_join(
            cadre=cadre,
            name=data["name"],
            phone=data["phone"],
            sector=data["sector"],
            birth_year=data["birth_year"],
            unit=data["unit"],
            gender=data["gender"],
            consent=data["consent"],
            guardian_consent=data["guardian_consent"],
            wording_version=CONSENT_WORDING_VERSION,
        )

    post = save_public_form(request, form, join_youth, limited=_join_rate_limited)
    if post.bot or post.saved is not None:
        return redirect("join_done", token)
    return render(
        request,
        "cadres/join.html",
        {"form": form, "cadre": cadre, "wording_version": CONSENT_WORDING_VERSION},
        status=post.status,
    )


def join_done(request: HttpRequest, token: str) -> HttpResponse:
    cadre = cadre_for_join_token(token)
    if cadre is None:
        raise Http404
    return render(request, "cadres/join_done.html", {"cadre": cadre})
