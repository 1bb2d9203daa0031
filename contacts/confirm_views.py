"""Pages where youths confirm contacts: the cadre's 见面码 screen (and its pending links), the
public page a youth reaches by scanning it, and the public page of a contact's share link.
Thin: token → form → contacts.confirmations → render. Rules live in contacts/confirmations.py."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from cadres.auth import staff_required
from cadres.models import Cadre
from cadres.selectors import user_cadre
from config import ratelimit
from config.forms import add_service_errors, service_error_text
from config.pagination import BoundedLazyPaginator
from config.qr import qr_svg

from . import confirmations as conf
from . import selectors
from .forms import MeetingPhoneForm, ShareAnswerForm
from .models import Confirmation, Contact

MEET_RATE = 60  # taps per address in MEET_WINDOW seconds (a school's Wi-Fi is one address)
MEET_WINDOW = 10 * 60
SHARE_ADDRESS_FAILS = 10  # wrong four digits per address per hour (over all links)
SHARE_LINK_FAILS = 5  # wrong four digits per link over its whole life: a 5 / 10,000 guess


def _device(request: HttpRequest) -> tuple[str, str | None]:
    """(hash of this browser's device cookie, a new cookie value to set or None)."""
    value = request.get_signed_cookie(conf.DEVICE_COOKIE, default=None, salt=conf.DEVICE_COOKIE)
    if value:
        return conf.device_hash(value), None
    value = conf.new_device_cookie()
    return conf.device_hash(value), value


def _with_cookies(
    request: HttpRequest,
    response: HttpResponse,
    new_device: str | None,
    youth_id: int | None = None,
) -> HttpResponse:
    secure = request.is_secure()
    if new_device:
        response.set_signed_cookie(
            conf.DEVICE_COOKIE,
            new_device,
            salt=conf.DEVICE_COOKIE,
            max_age=conf.DEVICE_COOKIE_AGE,
            httponly=True,
            samesite="Lax",
            secure=secure,
        )
    if youth_id is not None:
        response.set_cookie(
            conf.YOUTH_COOKIE,
            conf.youth_cookie_value(youth_id=youth_id),
            max_age=conf.YOUTH_COOKIE_AGE,
            httponly=True,
            samesite="Lax",
            secure=secure,
        )
    return response


def _own_cadre(request: HttpRequest) -> Cadre:
    cadre = user_cadre(request.user)
    if cadre is None:
        raise Http404
    return cadre


def meeting_url(request: HttpRequest, cadre_id: int) -> str:
    return request.build_absolute_uri(
        reverse("contacts:meet_scan", args=[conf.meeting_code(cadre_id=cadre_id)])
    )


# --- The cadre's 见面码 screen -------------------------------------------------------------------


@never_cache
@login_required
def meeting_screen(request: HttpRequest) -> HttpResponse:
    """The cadre's 见面码: a QR code of this minute's code, today's confirmations, pending links.
    The page reloads itself every 20 s (contacts/meeting.js), so the code shown is always valid
    for at least another 40 s."""
    cadre = _own_cadre(request)
    device, new_device = _device(request)
    conf.cadre_device_remember(cadre=cadre, device=device)
    url = meeting_url(request, cadre.pk)
    response = render(
        request,
        "contacts/meeting_screen.html",
        {
            "cadre": cadre,
            "qr_svg": qr_svg(url),
            "meet_url": url,
            "today": conf.meeting_today(cadre=cadre),
            "pending": conf.meeting_pending(cadre=cadre),
            "now": timezone.localtime(),
        },
    )
    return _with_cookies(request, response, new_device)


def _pending_for_user(request: HttpRequest, pk: int) -> Confirmation:
    cadre = _own_cadre(request)
    return get_object_or_404(
        Confirmation.objects.select_related("youth"),
        pk=pk,
        cadre=cadre,
        kind=Confirmation.Kind.MEETING,
        contact__isnull=True,
    )


@login_required
@require_POST
def meeting_accept(request: HttpRequest, pk: int) -> HttpResponse:
    confirmation = _pending_for_user(request, pk)
    try:
        conf.meeting_accept(confirmation=confirmation, by=request.user)
    except ValidationError as exc:
        messages.error(request, service_error_text(exc))
    else:
        messages.success(
            request,
            _("已把 %(name)s 加入联系名单，并记录了今天的见面（青年已确认）。")
            % {"name": confirmation.youth.name},
        )
    return redirect("contacts:meet")


@login_required
@require_POST
def meeting_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    confirmation = _pending_for_user(request, pk)
    conf.meeting_dismiss(confirmation=confirmation, by=request.user)
    messages.info(request, _("已忽略这条扫码记录。"))
    return redirect("contacts:meet")


# --- The youth's side of the 见面码 -------------------------------------------------------------


def _error_page(request: HttpRequest, exc: ValidationError, status: int) -> HttpResponse:
    return render(
        request, "contacts/confirm_error.html", {"message": service_error_text(exc)}, status=status
    )


@never_cache
def meeting_scan(request: HttpRequest, code: str) -> HttpResponse:
    """What a youth's camera opens: the code is checked now (current or previous minute), and
    a signed ticket carries the scan to the 确认见面 tap."""
    try:
        cadre_id = conf.meeting_code_check(code=code)
    except ValidationError as exc:
        return _error_page(request, exc, 410 if exc.code == "expired" else 400)
    cadre = Cadre.objects.select_related("organisation").filter(pk=cadre_id).first()
    if cadre is None:
        raise Http404
    return _meeting_form(request, cadre, conf.meeting_ticket(cadre_id=cadre.pk))


def _meeting_form(
    request: HttpRequest,
    cadre: Cadre,
    ticket: str,
    form: MeetingPhoneForm | None = None,
    status: int = 200,
    forget: bool = False,
    error: str = "",
) -> HttpResponse:
    youth = None if forget else conf.youth_from_cookie(request.COOKIES.get(conf.YOUTH_COOKIE))
    device, new_device = _device(request)
    response = render(
        request,
        "contacts/meeting_confirm.html",
        {
            "cadre": cadre,
            "ticket": ticket,
            "youth": youth,
            "form": form or MeetingPhoneForm(),
            "phone_tail": youth.phone[-4:] if youth and youth.phone else "",
            "error": error,
        },
        status=status,
    )
    return _with_cookies(request, response, new_device)


@never_cache
@require_POST
def meeting_confirm(request: HttpRequest) -> HttpResponse:
    """The tap: the ticket names the cadre; the cookie (or the phone typed once) the youth."""
    try:
        cadre_id = conf.meeting_ticket_check(ticket=request.POST.get("ticket", ""))
    except ValidationError as exc:
        return _error_page(request, exc, 410 if exc.code == "expired" else 400)
    cadre = Cadre.objects.select_related("organisation").filter(pk=cadre_id).first()
    if cadre is None:
        raise Http404
    ticket = request.POST["ticket"]
    remembered = conf.youth_from_cookie(request.COOKIES.get(conf.YOUTH_COOKIE))
    if request.POST.get("forget"):
        response = _meeting_form(request, cadre, ticket, forget=True)
        response.delete_cookie(conf.YOUTH_COOKIE)
        return response
    use_cookie = remembered is not None and not request.POST.get("phone")
    form = MeetingPhoneForm(None if use_cookie else request.POST)
    if ratelimit.hit(request, "contacts-meet", limit=MEET_RATE, window=MEET_WINDOW):
        return _meeting_form(
            request, cadre, ticket, form, status=429, error=_("操作太频繁了，请过几分钟再试。")
        )
    device, new_device = _device(request)
    try:
        if use_cookie:
            youth = conf.meeting_youth(cadre=cadre, phone=remembered.phone)  # type: ignore[union-attr]
        elif form.is_valid():
            youth = conf.meeting_youth(cadre=cadre, phone=form.cleaned_data["phone"])
        else:
            return _meeting_form(request, cadre, ticket, form, status=400)
        confirmation = conf.meeting_confirm(
            cadre=cadre,
            youth=youth,
            device=device,
            same_device=conf.is_cadre_device(cadre=cadre, device=device, user=request.user),
        )
    except ValidationError as exc:
        if use_cookie:  # nothing was typed: the message goes above the remembered name
            return _meeting_form(request, cadre, ticket, status=400, error=service_error_text(exc))
        add_service_errors(form, exc, rename={"youths": "phone"})
        return _meeting_form(request, cadre, ticket, form, status=400)
    response = render(
        request,
        "contacts/meeting_done.html",
        {"cadre": cadre, "confirmation": confirmation, "youth": youth},
    )
    return _with_cookies(request, response, new_device, youth_id=youth.pk)


# --- Share links ---------------------------------------------------------------------------


def share_url(request: HttpRequest, contact: Contact) -> str:
    return request.build_absolute_uri(
        reverse("contacts:share", args=[conf.share_token(contact_id=contact.pk)])
    )


@never_cache
def share_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """A contact's share link: the youth gives the last four digits of their phone and answers.

    Wrong digits are counted per link over its whole life and per address per hour; after the
    limit the link refuses further guesses (the youth asks the cadre, the contact stays)."""
    try:
        contact_id = conf.share_token_check(token=token)
    except ValidationError as exc:
        return _error_page(request, exc, 410 if exc.code == "expired" else 400)
    contact = (
        Contact.objects.select_related("cadre__organisation")
        .filter(pk=contact_id, is_deleted=False)
        .first()
    )
    if contact is None:
        return _error_page(
            request, ValidationError(_("这条联系记录已被删除，不需要确认。")), status=410
        )
    link_scope = f"contacts-share-link-{contact.pk}"
    form = ShareAnswerForm(request.POST or None)
    status = 200
    device, new_device = _device(request)
    if request.method == "POST":
        if ratelimit.is_limited(None, link_scope, limit=SHARE_LINK_FAILS) or ratelimit.is_limited(
            request, "contacts-share-address", limit=SHARE_ADDRESS_FAILS
        ):
            form.is_valid()
            form.add_error(None, _("尝试次数太多，这个链接已暂停确认。如有疑问请直接联系团干部。"))
            status = 429
        elif form.is_valid():
            try:
                youth = conf.share_youth(contact=contact, last4=form.cleaned_data["last4"])
            except ValidationError as exc:
                ratelimit.count(None, link_scope, window=conf.SHARE_MAX_AGE)
                ratelimit.count(request, "contacts-share-address", window=3600)
                add_service_errors(form, exc)
                status = 400
            else:
                try:
                    confirmation = conf.share_answer(
                        contact=contact,
                        youth=youth,
                        confirmed=form.cleaned_data["answer"] == "yes",
                        device=device,
                        same_device=conf.is_cadre_device(
                            cadre=contact.cadre, device=device, user=request.user
                        ),
                    )
                except ValidationError as exc:
                    return _with_cookies(request, _error_page(request, exc, status=409), new_device)
                response = render(
                    request, "contacts/share_done.html", {"confirmation": confirmation}
                )
                return _with_cookies(request, response, new_device)
        else:
            status = 400
    response = render(
        request,
        "contacts/share_confirm.html",
        {"contact": contact, "form": form, "cadre": contact.cadre},
        status=status,
    )
    return _with_cookies(request, response, new_device)


def share_panel(request: HttpRequest, contact: Contact) -> dict:
    """What the contact page shows about confirmation: for the cadre who logged it, the share
    link, its QR code and who confirmed (never who denied); for supervisors (staff who see the
    subtree), every answer with its outcome."""
    is_own = contact.cadre.user_id == request.user.pk
    panel: dict = {
        "is_own": is_own,
        "confirmed_ids": conf.contact_confirmed_youth_ids(contact=contact),
    }
    youth_ids = set(contact.youth_rows.values_list("youth_id", flat=True))
    # Nothing left to ask when every youth of the contact has confirmed it.
    if is_own and not contact.is_deleted and youth_ids - panel["confirmed_ids"]:
        device, new = _device(request)
        if new is None:  # the 见面码 screen gives the cadre's browser its cookie
            conf.cadre_device_remember(cadre=contact.cadre, device=device)
        url = share_url(request, contact)
        panel.update(share_url=url, share_qr=qr_svg(url), share_days=conf.SHARE_MAX_AGE // 86400)
    if getattr(request.user, "sees_subtree", False) and not is_own:
        panel["answers"] = conf.contact_confirmations_for_supervisor(contact=contact)
    return panel


# --- Supervisors ------------------------------------------------------------------------------


@staff_required
def confirmation_signals(request: HttpRequest) -> HttpResponse:
    """Youths who said "没有这回事" and confirmations from the cadre's own device, in the user's
    subtree: supervisors check them (the cadre never sees who denied)."""
    paginator = BoundedLazyPaginator(selectors.confirmation_signals(user=request.user), 50)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "contacts/confirmation_signals.html", {"page": page})
