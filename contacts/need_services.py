"""Writes of the needs desk (有问必答 有求必应): a need is born (from a contact log, the venue or
the public form), given an owner, answered, closed, linked to the activity that answers it, and
handed to a successor when its owner leaves. Contact logs are in contacts/services.py."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assessment.freshness import numbers_changed
from cadres.models import Cadre, Organisation, User, Youth

from .models import NOTES_MAX, TEXT_MAX, Contact, Need

if TYPE_CHECKING:  # activities imports this module: a runtime import would be a cycle
    from activities.models import Activity


def need_due_date(start: datetime.date | None = None) -> datetime.date:
    days = getattr(settings, "LIANQING_NEED_DUE_DAYS", 7)
    return (start or timezone.localdate()) + datetime.timedelta(days=days)


def need_create(
    *,
    organisation_id: int,
    source: str,
    category: str,
    question: str,
    youth_id: int | None = None,
    asker_name: str = "",
    reply_to: str = "",
    owner_cadre: Cadre | None = None,
    owner_user: User | None = None,
    contact: Contact | None = None,
    due_date: datetime.date | None = None,
    by: User | None = None,
) -> Need:
    """The one place a Need is born (from a log, the venue or the public form)."""
    question = (question or "").strip()
    errors = {}
    if not question:
        errors["question"] = _("请填写需求或问题。")
    elif len(question) > TEXT_MAX:
        errors["question"] = _("内容太长：最多 %(limit)s 字。") % {"limit": TEXT_MAX}
    if category not in Need.Category.values:
        errors["category"] = _("请选择类别。")
    if errors:
        raise ValidationError(errors)
    need = Need(
        organisation_id=organisation_id,
        source=source,
        category=category,
        question=question,
        youth_id=youth_id,
        asker_name=asker_name.strip()[:50],
        reply_to=reply_to.strip()[:60],
        owner_cadre=owner_cadre,
        owner_user=owner_user,
        contact=contact,
        due_date=due_date or need_due_date(),
    )
    need._history_user = by  # type: ignore[attr-defined]
    need.save()
    if owner_cadre is not None:  # the owner's due needs, and a youth's own need is evidence
        numbers_changed(
            on=need.due_date, organisation_id=organisation_id, cadre_ids=[owner_cadre.pk]
        )
    return need


def need_submit_public(
    *,
    category: str,
    question: str,
    asker_name: str = "",
    reply_to: str = "",
    cadre: Cadre | None = None,
    organisation: Organisation | None = None,
) -> Need:
    """A youth's own submission (no login). Owner: the cadre whose card QR code was scanned;
    otherwise the staff of the venue's organisation (the need waits in that organisation's
    desk, owner_user empty until somebody takes it)."""
    if cadre is None and organisation is None:
        raise ValidationError(_("无法确定受理组织。"))
    return need_create(
        organisation_id=cadre.organisation_id if cadre else organisation.pk,  # type: ignore[union-attr]
        source=Need.Source.PUBLIC,
        category=category,
        question=question,
        asker_name=asker_name,
        reply_to=reply_to,
        owner_cadre=cadre,
    )


def need_submit_venue(
    *,
    organisation: Organisation,
    category: str,
    question: str,
    asker_name: str = "",
    reply_to: str = "",
    youth: Youth | None = None,
    by: User,
) -> Need:
    """Staff at the youth venue write down a need brought in person; they own it."""
    return need_create(
        organisation_id=organisation.pk,
        source=Need.Source.VENUE,
        category=category,
        question=question,
        asker_name=asker_name,
        reply_to=reply_to,
        youth_id=youth.pk if youth else None,
        owner_user=by,
        by=by,
    )


def needs_attach_activity(*, needs: Iterable[Need], activity: Activity, by: User | None) -> int:
    """Record that these needs are answered by an activity (a lecture or training planned from
    them, 有问必答 → 专题讲座): one UPDATE, for the activities app, which owns no Need.
    Returns the number of needs updated."""
    ids = [n.pk for n in needs]
    return Need.objects.filter(pk__in=ids).update(activity=activity)


def _need_save(
    need: Need, by: User | None, fields: list[str], *, previous_owner_id: int | None = None
) -> Need:
    need._history_user = by  # type: ignore[attr-defined]
    need.save(update_fields=fields)
    owners = [need.owner_cadre_id, previous_owner_id]
    if any(owners):  # scores count needs a cadre owns (due, answered)
        numbers_changed(on=need.due_date, organisation_id=need.organisation_id, cadre_ids=owners)
    return need


@transaction.atomic
def need_assign(
    *,
    need: Need,
    owner_cadre: Cadre | None = None,
    owner_user: User | None = None,
    due_date: datetime.date | None = None,
    by: User,
) -> Need:
    """Give a need an owner (a cadre or a staff member); a new need becomes "in progress"."""
    if owner_cadre is None and owner_user is None:
        raise ValidationError({"owner_cadre": _("请选择负责的团干部或工作人员。")})
    if due_date is not None and due_date < timezone.localdate():
        raise ValidationError({"due_date": _("办理期限不能早于今天。")})
    previous_owner_id = need.owner_cadre_id
    need.owner_cadre, need.owner_user = owner_cadre, owner_user
    if due_date is not None:
        need.due_date = due_date
    if need.status == Need.Status.NEW:
        need.status = Need.Status.IN_PROGRESS
    return _need_save(
        need,
        by,
        ["owner_cadre", "owner_user", "due_date", "status"],
        previous_owner_id=previous_owner_id,
    )


@transaction.atomic
def need_answer(*, need: Need, answer: str, by: User) -> Need:
    answer = (answer or "").strip()
    if not answer:
        raise ValidationError({"answer": _("请填写答复内容。")})
    if len(answer) > NOTES_MAX:
        raise ValidationError({"answer": _("内容太长：最多 %(limit)s 字。") % {"limit": NOTES_MAX}})
    if need.status == Need.Status.CLOSED:
        raise ValidationError({"answer": _("该需求已关闭。")})
    need.answer, need.status, need.answered_at = answer, Need.Status.ANSWERED, timezone.now()
    return _need_save(need, by, ["answer", "status", "answered_at"])


@transaction.atomic
def need_close(*, need: Need, by: User) -> Need:
    need.status = Need.Status.CLOSED
    return _need_save(need, by, ["status"])


@transaction.atomic
def needs_reassign(*, from_cadre: Cadre, to_cadre: Cadre, by: User | None) -> int:
    """The handover (cadres/handover.py): a leaving cadre's open needs go to the successor;
    answered and closed ones stay (their scores are history). One history row each, in bulk."""
    from simple_history.utils import bulk_update_with_history

    from .selectors import OPEN_STATUSES

    needs = list(
        Need.objects.select_for_update().filter(owner_cadre=from_cadre, status__in=OPEN_STATUSES)
    )
    for need in needs:
        need.owner_cadre = to_cadre
    if needs:
        bulk_update_with_history(needs, Need, ["owner_cadre"], batch_size=500, default_user=by)
        numbers_changed(
            organisation_id=to_cadre.organisation_id, cadre_ids=[from_cadre.pk, to_cadre.pk]
        )
    return len(needs)
