"""The asker's private status link for a need (有问必答 closes the loop, issue 15 item 6).

A youth who asks without an account gets, on the thanks page, a link (and its QR code) to see
the need's status and answer later, and to say once whether it helped. The link carries a
signature of the need's id (Django's signing with its own salt): it cannot be guessed or turned
into another need's link, and it names nothing — no phone, no name. Viewing it twice is
harmless; the feedback is taken once.
"""

from __future__ import annotations

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Need

_SALT = "lianqing.contacts.need-status"


def need_status_token(need: Need) -> str:
    return signing.dumps(need.pk, salt=_SALT, compress=True)


def need_from_token(token: str) -> Need | None:
    """The need a status link names, or None for a forged, damaged or foreign token."""
    if not token or len(token) > 200:
        return None
    try:
        pk = signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(pk, int):
        return None
    return Need.objects.select_related("organisation", "owner_cadre").filter(pk=pk).first()


@transaction.atomic
def need_feedback_record(*, need: Need, helped: bool) -> Need:
    """The asker says whether the answer helped: once, and only after an answer exists."""
    locked = Need.objects.select_for_update().get(pk=need.pk)
    if locked.status not in (Need.Status.ANSWERED, Need.Status.CLOSED) or not locked.answer:
        raise ValidationError(_("还没有答复，答复后才能反馈。"))
    if locked.youth_feedback_at is not None:
        raise ValidationError(_("已经收到您的反馈，谢谢。"))
    locked.youth_helped = helped
    locked.youth_feedback_at = timezone.now()
    locked.save(update_fields=["youth_helped", "youth_feedback_at"])
    return locked
