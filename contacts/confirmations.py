"""Youths confirm contacts: the cadre's 见面码 (a QR code that changes every minute) and the share
link of a logged contact. Tokens, device marks and every write of Confirmation live here.

Tokens (none is a lasting secret in a URL):
- 见面码: `<cadre>.<window>.<mac>`, mac = HMAC(SECRET_KEY, cadre + minute window). Accepted in its
  own window and the next one only (so 60–120 s); scanning it gives a signed ticket, valid
  TICKET_MAX_AGE, that carries the scan to the confirming tap (a youth typing their phone the
  first time may take longer than the code lives).
- share link: django.core.signing of the contact id with a timestamp, valid SHARE_MAX_AGE; the
  youth then proves who they are with the last four digits of their phone (rate-limited in the
  views per link and per address).

Devices: every page of these flows gives the browser a random long-lived signed cookie; only a
keyed hash of it is stored. The cadre's own devices are remembered (CadreDevice) when the cadre
opens the 见面码 or a contact; a confirmation from one of them (or with the cadre logged in) is
`same_device`: recorded, never counted as youth-side evidence, a signal for supervisors.
"""

from __future__ import annotations

import datetime
import secrets

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from cadres.models import Cadre, CadreYouth, User, Youth
from cadres.selectors import linkable_youths
from cadres.services import cadre_youths_link

from .models import CadreDevice, Channel, Confirmation, Contact
from .services import contact_log

WINDOW_SECONDS = 60
TICKET_MAX_AGE = 10 * 60  # seconds from scanning the code to tapping 确认见面
SHARE_MAX_AGE = 14 * 24 * 3600  # a share link works for two weeks
ASK_INTERVAL_DAYS = 7  # no youth is asked (share link) more than once a week
DEVICE_COOKIE = "lq_device"
DEVICE_COOKIE_AGE = 2 * 365 * 24 * 3600
YOUTH_COOKIE = "lq_youth"
YOUTH_COOKIE_AGE = 365 * 24 * 3600
DEVICE_YOUTH_DAYS = 30  # one phone confirms for one youth in this many days
MEETING_TOPIC = "见面码确认"

_MEETING_SALT = "lianqing.contacts.meeting"
_TICKET_SALT = "lianqing.contacts.meeting-ticket"
_SHARE_SALT = "lianqing.contacts.share"
_DEVICE_SALT = "lianqing.contacts.device"
_YOUTH_SALT = "lianqing.contacts.youth"


# --- 见面码 tokens ------------------------------------------------------------------------------


def meeting_window(at: datetime.datetime | None = None) -> int:
    return int((at or timezone.now()).timestamp()) // WINDOW_SECONDS


def _meeting_mac(cadre_id: int, window: int) -> str:
    return salted_hmac(_MEETING_SALT, f"{cadre_id}:{window}").hexdigest()[:20]


def meeting_code(*, cadre_id: int, at: datetime.datetime | None = None) -> str:
    """The code the cadre's screen shows now (it changes every WINDOW_SECONDS)."""
    window = meeting_window(at)
    return f"{cadre_id}.{window}.{_meeting_mac(cadre_id, window)}"


def meeting_code_check(*, code: str, at: datetime.datetime | None = None) -> int:
    """The cadre id of a valid code of the current or the previous window.

    Raises ValidationError code "forged" (not ours) or "expired" (ours, but too old)."""
    try:
        cadre_part, window_part, mac = code.split(".")
        cadre_id, window = int(cadre_part), int(window_part)
    except ValueError:
        raise ValidationError(
            _("这个见面码无效。请重新扫描团干部手机上的见面码。"), code="forged"
        ) from None
    if not constant_time_compare(mac, _meeting_mac(cadre_id, window)):
        raise ValidationError(_("这个见面码无效。请重新扫描团干部手机上的见面码。"), code="forged")
    now = meeting_window(at)
    if not (now - 1 <= window <= now):
        raise ValidationError(
            _("见面码已过期（每分钟更新一次）。请当面重新扫描团干部手机上的见面码。"),
            code="expired",
        )
    return cadre_id


def meeting_ticket(*, cadre_id: int) -> str:
    return signing.dumps({"c": cadre_id}, salt=_TICKET_SALT, compress=False)


def meeting_ticket_check(*, ticket: str) -> int:
    try:
        data = signing.loads(ticket, salt=_TICKET_SALT, max_age=TICKET_MAX_AGE)
        return int(data["c"])
    except signing.SignatureExpired:
        raise ValidationError(
            _("扫码已超过 10 分钟。请当面重新扫描团干部手机上的见面码。"), code="expired"
        ) from None
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise ValidationError(
            _("这个见面码无效。请重新扫描团干部手机上的见面码。"), code="forged"
        ) from None


# --- Share-link tokens ----------------------------------------------------------------------


def share_token(*, contact_id: int) -> str:
    return signing.dumps({"k": contact_id}, salt=_SHARE_SALT, compress=False)


def share_token_check(*, token: str) -> int:
    try:
        return int(signing.loads(token, salt=_SHARE_SALT, max_age=SHARE_MAX_AGE)["k"])
    except signing.SignatureExpired:
        raise ValidationError(
            _("这个确认链接已过期（两周有效）。如需确认，请联系团干部重新发送。"), code="expired"
        ) from None
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise ValidationError(_("这个确认链接无效，请检查是否完整复制。"), code="forged") from None


# --- Devices and the remembered youth ---------------------------------------------------------


def new_device_cookie() -> str:
    return secrets.token_urlsafe(18)


def device_hash(cookie_value: str) -> str:
    """The keyed hash stored instead of the cookie (which would let anyone impersonate it)."""
    return salted_hmac(_DEVICE_SALT, cookie_value).hexdigest()[:32]


def youth_cookie_value(*, youth_id: int) -> str:
    return signing.dumps({"y": youth_id}, salt=_YOUTH_SALT, compress=False)


def youth_from_cookie(value: str | None) -> Youth | None:
    if not value:
        return None
    try:
        youth_id = int(signing.loads(value, salt=_YOUTH_SALT, max_age=YOUTH_COOKIE_AGE)["y"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    return Youth.objects.filter(pk=youth_id).only("id", "name", "phone", "organisation_id").first()


def cadre_device_remember(*, cadre: Cadre, device: str) -> None:
    """Remember a device the cadre uses while logged in (upsert, one row per device)."""
    if device:
        CadreDevice.objects.update_or_create(cadre=cadre, device=device)


def is_cadre_device(*, cadre: Cadre, device: str, user: User | None) -> bool:
    if user is not None and user.is_authenticated and cadre.user_id == user.pk:
        return True
    return bool(device) and CadreDevice.objects.filter(cadre=cadre, device=device).exists()


def _check_device_youth(*, device: str, youth: Youth) -> None:
    """One phone speaks for one youth: a device that confirmed for another youth recently is
    refused (someone confirming for other youths' phones)."""
    if not device:
        return
    since = timezone.now() - datetime.timedelta(days=DEVICE_YOUTH_DAYS)
    other = (
        Confirmation.objects.filter(device=device, created_at__gte=since)
        .exclude(youth=youth)
        .exists()
    )
    if other:
        raise ValidationError(
            _("这部手机最近已为另一名青年确认过。每名青年请用自己的手机确认。"), code="device"
        )


# --- 见面码 confirmation ----------------------------------------------------------------------


def meeting_youth(*, cadre: Cadre, phone: str) -> Youth:
    """The youth with this (normalised) phone in the cadre's scope (the linking rule's subtree),
    a youth the cadre already holds first. ValidationError "unknown" when nobody matches."""
    youth = None
    if phone:
        youth = (
            Youth.objects.filter(phone=phone, cadre_links__cadre=cadre).order_by("pk").first()
            or linkable_youths(cadre=cadre).filter(phone=phone).order_by("pk").first()
        )
    if youth is None:
        raise ValidationError(
            _(
                "没有在%(org)s的青年名单中找到这个手机号。请让团干部先把你登记到联系名单，"
                "或检查手机号是否填对。"
            )
            % {"org": cadre.organisation.name},
            code="unknown",
        )
    return youth


@transaction.atomic
def meeting_confirm(
    *,
    cadre: Cadre,
    youth: Youth,
    device: str,
    same_device: bool,
    now: datetime.datetime | None = None,
) -> Confirmation:
    """A youth taps 确认见面 on the cadre's code. Nothing is written twice.

    1. lock the cadre row (two taps at once serialise), refuse a second confirmation today and a
       phone that recently spoke for another youth;
    2. a youth in the cadre's list: log an offline contact (面对面交谈, today) through
       contacts.services.contact_log and attach the confirmation to it;
    3. a youth of the cadre's scope not yet linked: a pending confirmation (no contact) the
       cadre accepts in one tap (meeting_accept), or dismisses.
    """
    now = now or timezone.now()
    day = timezone.localdate(now)
    Cadre.objects.select_for_update().filter(pk=cadre.pk).first()
    if Confirmation.objects.filter(
        cadre=cadre, youth=youth, day=day, kind=Confirmation.Kind.MEETING
    ).exists():
        raise ValidationError(_("你今天已经和这位团干部确认过见面了，不用再确认。"), code="already")
    _check_device_youth(device=device, youth=youth)
    contact = None
    if CadreYouth.objects.filter(cadre=cadre, youth=youth).exists():
        contact = contact_log(
            cadre=cadre,
            youths=[youth.pk],
            channel=Channel.TALK,
            date=day,
            topic=_(MEETING_TOPIC),
            by=None,
        )
    try:
        with transaction.atomic():
            return Confirmation.objects.create(
                contact=contact,
                cadre=cadre,
                youth=youth,
                kind=Confirmation.Kind.MEETING,
                outcome=Confirmation.Outcome.CONFIRMED,
                day=day,
                same_device=same_device,
                device=device,
            )
    except IntegrityError:  # pragma: no cover - the lock above makes this a last resort
        raise ValidationError(
            _("你今天已经和这位团干部确认过见面了，不用再确认。"), code="already"
        ) from None


def meeting_pending(*, cadre: Cadre) -> list[Confirmation]:
    """The cadre's 见面码 scans by youths not yet in their list, waiting to be accepted."""
    return list(
        Confirmation.objects.filter(
            cadre=cadre, kind=Confirmation.Kind.MEETING, contact__isnull=True
        )
        .select_related("youth")
        .order_by("-created_at")[:50]
    )


@transaction.atomic
def meeting_accept(*, confirmation: Confirmation, by: User) -> Confirmation:
    """The cadre accepts a pending scan: the youth is linked (the linking rules of
    cadres.services.cadre_youths_link apply) and the contact of that day logged and confirmed."""
    current = (
        Confirmation.objects.select_for_update()
        .filter(pk=confirmation.pk, contact__isnull=True)
        .select_related("cadre", "youth")
        .first()
    )
    if current is None:
        raise ValidationError(_("这条见面确认已经处理过了。"), code="done")
    cadre_youths_link(cadre=current.cadre, youths={current.youth_id: current.day}, by=by)
    contact = contact_log(
        cadre=current.cadre,
        youths=[current.youth_id],
        channel=Channel.TALK,
        date=current.day,
        topic=_(MEETING_TOPIC),
        by=by,
    )
    current.contact = contact
    current.save(update_fields=["contact"])
    return current


def meeting_dismiss(*, confirmation: Confirmation, by: User) -> None:
    """The cadre does not know this youth: the pending scan goes (nothing else was written)."""
    Confirmation.objects.filter(pk=confirmation.pk, contact__isnull=True).delete()


def meeting_today(*, cadre: Cadre) -> list[Confirmation]:
    """Today's confirmed scans on this cadre's code (the 见面码 page shows them as they come)."""
    return list(
        Confirmation.objects.filter(
            cadre=cadre, kind=Confirmation.Kind.MEETING, day=timezone.localdate()
        )
        .select_related("youth")
        .order_by("-created_at")[:50]
    )


# --- Share-link confirmation ------------------------------------------------------------------


def share_youth(*, contact: Contact, last4: str) -> Youth:
    """The youth of this contact whose phone ends in these four digits (ValidationError
    "digits" when none or, ambiguously, several do)."""
    digits = (last4 or "").strip()
    if len(digits) != 4 or not digits.isdigit():
        raise ValidationError({"last4": _("请输入手机号的后四位数字。")}, code="format")
    youths = list(
        Youth.objects.filter(contact_rows__contact=contact, phone__endswith=digits).only(
            "id", "name", "phone"
        )[:2]
    )
    if len(youths) != 1:
        raise ValidationError({"last4": _("手机号后四位不对，请再试一次。")}, code="digits")
    return youths[0]


@transaction.atomic
def share_answer(
    *,
    contact: Contact,
    youth: Youth,
    confirmed: bool,
    device: str,
    same_device: bool,
    now: datetime.datetime | None = None,
) -> Confirmation:
    """The youth's answer to a share link: "是的，我们联系过" (confirmed) or "没有这回事" (denied).

    1. lock the contact, refuse a second answer to it and an answer from a youth who answered
       another link within ASK_INTERVAL_DAYS (no youth is asked more than once a week);
    2. record the Confirmation dated the contact's day. A denial is for supervisors only.
    """
    now = now or timezone.now()
    Contact.objects.select_for_update().filter(pk=contact.pk).first()
    if contact.is_deleted:
        raise ValidationError(_("这条联系记录已被删除，不需要确认。"), code="deleted")
    if Confirmation.objects.filter(
        contact=contact, youth=youth, kind=Confirmation.Kind.SHARE
    ).exists():
        raise ValidationError(_("你已经回复过这条联系记录了，谢谢！"), code="already")
    since = now - datetime.timedelta(days=ASK_INTERVAL_DAYS)
    if Confirmation.objects.filter(
        youth=youth, kind=Confirmation.Kind.SHARE, created_at__gte=since
    ).exists():
        raise ValidationError(
            _("你这一周已经确认过一次联系记录了。为了不打扰你，一周内不再请你确认。谢谢！"),
            code="weekly",
        )
    _check_device_youth(device=device, youth=youth)
    return Confirmation.objects.create(
        contact=contact,
        cadre_id=contact.cadre_id,
        youth=youth,
        kind=Confirmation.Kind.SHARE,
        outcome=Confirmation.Outcome.CONFIRMED if confirmed else Confirmation.Outcome.DENIED,
        day=contact.date,
        same_device=same_device,
        device=device,
    )


def contact_confirmed_youth_ids(*, contact: Contact) -> set[int]:
    """Youths who confirmed this contact (counted ones). Denials are deliberately not returned:
    the cadre's pages show "confirmed" or nothing, never who denied."""
    return set(
        Confirmation.objects.filter(
            contact=contact, outcome=Confirmation.Outcome.CONFIRMED, same_device=False
        ).values_list("youth_id", flat=True)
    )


def contact_confirmations_for_supervisor(*, contact: Contact) -> list[Confirmation]:
    """Every answer about this contact, denials and same-device ones included (supervisors)."""
    return list(Confirmation.objects.filter(contact=contact).select_related("youth"))
