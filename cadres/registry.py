"""Registry writes staff and cadres make from their pages (issue 14 items 1–2, issue 12 item 6):
a youth added in the field with its link, liaison channels, the branch secretary's change.

Built on the rules in `cadres.services` (the linking rule, youth creation, the registry lock),
which it imports; nothing imports this module back, so there is no cycle.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from .models import (
    Cadre,
    CadreType,
    CadreYouth,
    Gender,
    LiaisonChannel,
    Organisation,
    Sector,
    User,
    Youth,
)
from .phones import normalise_phone, normalise_phone_field
from .roster_import import _lock_roster_commits
from .selectors import linkable_youths
from .services import (
    cadre_ids_holding,
    cadre_progress_refresh,
    cadre_youth_link,
    youth_create,
)

# --- A youth met in the field: added by a cadre (or staff for a cadre), linked in one step. ---

# Said when the phone belongs to a youth the adding user may not see: neither who nor where.
PHONE_HELD_OUTSIDE = _lazy("该手机号已登记，请联系团委核实")


class PossibleDuplicate(ValidationError):
    """The youth being added may already be registered in the cadre's subtree: `candidates` are
    the youths to link instead (same phone, or same name + birth year + unit)."""

    def __init__(self, candidates: list[Youth], *, same_phone: bool = False) -> None:
        self.candidates = candidates
        self.same_phone = same_phone  # then "somebody else" is not offered: one phone, one youth
        names = "；".join(
            _("可能是 %(name)s（%(year)s，%(unit)s）")
            % {"name": y.name, "year": y.birth_year, "unit": y.unit or _("单位未填")}
            for y in candidates
        )
        super().__init__(_("%(names)s——改为关联？") % {"names": names})


@dataclass
class YouthAdded:
    youth: Youth
    created: bool  # False: an existing youth was linked instead
    link: CadreYouth


def youth_duplicates(
    *, cadre: Cadre, phone: str, name: str, birth_year: int | None, unit: str
) -> list[Youth]:
    """Youths of the cadre's subtree the new record may describe (the registry's matching rule,
    `youth_match`, within the linking rule's reach)."""
    from django.db.models import Q

    match = Q(pk__in=[])
    if phone:
        match |= Q(phone=phone)
    if name and birth_year:
        match |= Q(name=name.strip(), birth_year=birth_year, unit=unit.strip())
    return list(linkable_youths(cadre=cadre).filter(match).order_by("pk")[:3])


@transaction.atomic
def youth_add_for_cadre(
    *,
    cadre: Cadre,
    name: str,
    birth_year: int,
    sector: Sector,
    phone: str = "",
    unit: str = "",
    gender: str = "",
    guardian_consent: bool = False,
    link_existing: Youth | None = None,
    confirm_new: bool = False,
    by: User,
) -> YouthAdded:
    """Register a youth a cadre met and put them in the cadre's list, in one step.

    1. serialise with every other registry write (`_lock_roster_commits`): two phones adding
       the same youth at once give one record — the second sees the first's as a duplicate;
    2. `link_existing`: link that youth instead (it must be linkable: `cadre_youth_link`);
    3. a phone held by a youth outside the cadre's subtree is refused without saying whose
       (PHONE_HELD_OUTSIDE);
    4. possible duplicates in the subtree (`youth_duplicates`) stop the save with the
       candidates (PossibleDuplicate), unless the user confirmed it is somebody else — never
       for the same phone, which the registry treats as the same person;
    5. a youth possibly under 14 needs the guardian's consent box;
    6. create the youth in the cadre's organisation and link them (`cadre_youth_link`: the
       linking rule and the ceiling); a refused link rolls the new youth back.
    """
    _lock_roster_commits()
    if link_existing is not None:
        link = cadre_youth_link(cadre=cadre, youth=link_existing, by=by)
        return YouthAdded(youth=link_existing, created=False, link=link)
    phone = normalise_phone_field(phone)
    duplicates = youth_duplicates(
        cadre=cadre, phone=phone, name=name, birth_year=birth_year, unit=unit
    )
    same_phone = bool(phone) and any(y.phone == phone for y in duplicates)
    if phone and not same_phone and Youth.objects.filter(phone=phone).exists():
        raise ValidationError({"phone": str(PHONE_HELD_OUTSIDE)})
    if duplicates and (same_phone or not confirm_new):
        raise PossibleDuplicate(duplicates, same_phone=same_phone)
    if birth_year >= Youth.minor_birth_year_floor() and not guardian_consent:
        raise ValidationError(
            {"guardian_consent": _("未满 14 周岁的青年：请先征得监护人同意，并勾选此项。")}
        )
    youth = youth_create(
        name=name,
        birth_year=birth_year,
        sector=sector,
        organisation=cadre.organisation,
        gender=gender,
        unit=unit,
        phone=phone,
        by=by,
    )
    link = cadre_youth_link(cadre=cadre, youth=youth, by=by)
    return YouthAdded(youth=youth, created=True, link=link)


# --- Liaison channels: recorded, edited and ended by the cadre or staff of their subtree. ---


def _channel_clean(channel: LiaisonChannel) -> None:
    if channel.kind != LiaisonChannel.Kind.YOUTH_HOME:
        channel.shows_identity = False  # only a youth home displays the cadre
    today = timezone.localdate()
    if channel.established_on and channel.established_on > today:
        raise ValidationError({"established_on": _("建立日期不能晚于今天。")})
    clash = LiaisonChannel.objects.filter(
        cadre_id=channel.cadre_id, kind=channel.kind, name=channel.name, ended_on__isnull=True
    ).exclude(pk=channel.pk)
    if clash.exists():
        raise ValidationError({"name": _("已有同类型、同名称的联系渠道。")})
    channel.full_clean(validate_constraints=False)


def _channel_save(channel: LiaisonChannel, by: User | None) -> LiaisonChannel:
    channel._history_user = by  # type: ignore[attr-defined]  # simple_history's hook
    channel.save()
    cadre_progress_refresh(cadre_ids=[channel.cadre_id])
    return channel


@transaction.atomic
def channel_create(
    *,
    cadre: Cadre,
    kind: str,
    name: str,
    established_on: datetime.date | None = None,
    shows_identity: bool = False,
    notes: str = "",
    by: User | None,
) -> LiaisonChannel:
    """Record a channel the cadre holds; the cadre's progress (channel kinds) follows."""
    Cadre.objects.select_for_update().filter(pk=cadre.pk).first()
    channel = LiaisonChannel(
        cadre=cadre,
        kind=kind,
        name=name.strip(),
        established_on=established_on or timezone.localdate(),
        shows_identity=shows_identity,
        notes=notes.strip(),
    )
    _channel_clean(channel)
    return _channel_save(channel, by)


@transaction.atomic
def channel_update(
    *,
    channel: LiaisonChannel,
    kind: str,
    name: str,
    established_on: datetime.date,
    shows_identity: bool = False,
    notes: str = "",
    by: User | None,
) -> LiaisonChannel:
    channel = LiaisonChannel.objects.select_for_update().get(pk=channel.pk)
    if channel.ended_on is not None:
        raise ValidationError(_("这个联系渠道已结束，不能修改；可重新建立。"))
    channel.kind, channel.name = kind, name.strip()
    channel.established_on, channel.shows_identity = established_on, shows_identity
    channel.notes = notes.strip()
    _channel_clean(channel)
    return _channel_save(channel, by)


@transaction.atomic
def channel_end(
    *, channel: LiaisonChannel, ended_on: datetime.date | None = None, by: User | None
) -> LiaisonChannel:
    """The cadre no longer holds the channel: it stays on record, stops counting. Ending twice
    keeps the first end date."""
    channel = LiaisonChannel.objects.select_for_update().get(pk=channel.pk)
    if channel.ended_on is not None:
        return channel
    ended_on = ended_on or timezone.localdate()
    if ended_on < channel.established_on:
        raise ValidationError({"ended_on": _("结束日期不能早于建立日期。")})
    channel.ended_on = ended_on
    return _channel_save(channel, by)


@transaction.atomic
def branch_secretary_change(
    *,
    branch: Organisation,
    on: datetime.date,
    successor: Cadre | None = None,
    name: str = "",
    gender: str = "",
    phone: str = "",
    by: User,
) -> Cadre:
    """A branch elected a new secretary (改选, e.g. after a "not satisfied" ballot): the current
    secretary's office ends on `on` (the record stays, with its history: never deleted) and
    `successor` — a cadre of the branch — or a new cadre record (`name`, `gender`) becomes its
    secretary from `on`. Returns the new secretary. Whether `by` may do this is the caller's
    rule (surveys: staff above the branch)."""
    if branch.kind != Organisation.Kind.BRANCH:
        raise ValidationError(_("只有团支部有团支部书记。"))
    if on > timezone.localdate():
        raise ValidationError({"elected_on": _("改选日期不能晚于今天。")})
    current = list(
        Cadre.objects.select_for_update().filter(organisation=branch, is_branch_secretary=True)
    )
    if successor is not None:
        if successor.organisation_id != branch.pk or not successor.is_active:
            raise ValidationError({"successor": _("请选择该团支部在任的团干部。")})
    else:
        name = (name or "").strip()
        if not name or len(name) > 50:
            raise ValidationError({"name": _("请填写新任书记的姓名（不超过 50 个字）。")})
        if gender not in Gender.values:
            raise ValidationError({"gender": _("请选择新任书记的性别。")})
        phone = normalise_phone(phone)
    for cadre in current:
        if successor is not None and cadre.pk == successor.pk:
            continue
        cadre.is_branch_secretary = False
        if cadre.active_until is None or cadre.active_until > on:
            # The office ended: the cadre record, its history and its past ballots stay.
            cadre.active_until = max(on, cadre.active_from)
        cadre.save(update_fields=["is_branch_secretary", "active_until"])
    if successor is None:
        successor = Cadre.objects.create(
            name=name,
            gender=gender,
            phone=phone,
            organisation=branch,
            cadre_type=CadreType.PART_TIME,
            position=_("团支部书记"),
            is_branch_secretary=True,
            active_from=on,
        )
        cadre_progress_refresh(cadre_ids=[successor.pk])  # its row: the cadre list needs one
    else:
        successor.is_branch_secretary = True
        successor.position = _("团支部书记")
        successor.save(update_fields=["is_branch_secretary", "position"])
    return successor


# --- A youth's registry entry corrected by staff, and a youth who moved away (issue 15 item 2). ---


class PhoneHeldBy(ValidationError):
    """The new phone is another youth's the editor can see: one phone is one person, so the two
    records are probably duplicates (`other`) — the page offers the merge."""

    def __init__(self, other: Youth) -> None:
        self.other = other
        super().__init__(
            {
                "phone": _("该手机号已登记为 %(name)s（%(year)s，%(unit)s）；如是同一人，请合并。")
                % {
                    "name": other.name,
                    "year": other.birth_year,
                    "unit": other.unit or _("单位未填"),
                }
            }
        )


@transaction.atomic
def youth_update(
    *,
    youth: Youth,
    name: str,
    birth_year: int,
    sector: Sector,
    gender: str = "",
    unit: str = "",
    phone: str = "",
    wechat_id: str = "",
    notes: str = "",
    by: User,
) -> Youth:
    """Correct a youth's registry entry (a wrong phone, a new unit, the field).

    1. serialise with every other registry write (`_lock_roster_commits`), so two edits or an
       edit and a field add cannot give one phone to two youths;
    2. the duplicate-phone rule of youth creation: a phone another youth holds is refused —
       with that youth named when the editor may see them (PhoneHeldBy: merge instead), and
       without saying whose otherwise (PHONE_HELD_OUTSIDE);
    3. save with the history row (`by`); a changed field recounts the progress of every cadre
       holding the youth, and the stored scores follow (`cadre_progress_refresh` →
       `assessment.freshness.numbers_changed`).
    The caller resolved `youth` in `by`'s scope (a scoped 404)."""
    from .selectors import youth_scope

    _lock_roster_commits()
    youth = Youth.objects.select_for_update().get(pk=youth.pk)
    if youth.erased_at is not None:
        raise ValidationError(_("该青年的个人信息已删除，不能修改。"))
    phone = normalise_phone_field(phone)
    if phone and phone != youth.phone:
        holder = Youth.objects.filter(phone=phone).exclude(pk=youth.pk).order_by("pk").first()
        if holder is not None:
            if youth_scope(user=by).filter(pk=holder.pk).exists():
                raise PhoneHeldBy(holder)
            raise ValidationError({"phone": str(PHONE_HELD_OUTSIDE)})
    sector_changed = youth.sector_id != sector.pk
    youth.name, youth.birth_year, youth.sector = name.strip(), birth_year, sector
    youth.gender, youth.unit, youth.phone = gender, unit.strip(), phone
    youth.wechat_id, youth.notes = wechat_id.strip(), notes
    youth.full_clean()
    youth._history_user = by  # type: ignore[attr-defined]  # simple_history's hook
    youth.save()
    if sector_changed:
        cadre_progress_refresh(cadre_ids=cadre_ids_holding(youth_ids=[youth.pk]))
    return youth


@transaction.atomic
def youth_move_away(
    *, youth: Youth, on: datetime.date | None = None, by: User
) -> tuple[Youth, int]:
    """A youth left (moved to another city, went to study elsewhere): record the day, end every
    link to a cadre with a history row each, recount those cadres. The youth's row, history,
    contacts, attendances and needs stay; nobody may link them again (`linkable_youths`), so the
    quota counts drop them (see cadres/quota.py). Returns the youth and the number of links
    ended. Moving away twice keeps the first day."""
    from .handover import end_links

    youth = Youth.objects.select_for_update().get(pk=youth.pk)
    if youth.erased_at is not None:
        raise ValidationError(_("该青年的个人信息已删除。"))
    if youth.moved_away_on is not None:
        return youth, 0
    on = on or timezone.localdate()
    if on > timezone.localdate():
        raise ValidationError({"on": _("迁出日期不能晚于今天。")})
    holders = list(CadreYouth.objects.filter(youth=youth).values_list("cadre_id", flat=True))
    ended = end_links(CadreYouth.objects.filter(youth=youth), by)
    youth.moved_away_on = on
    youth._history_user = by  # type: ignore[attr-defined]
    youth.save(update_fields=["moved_away_on"])
    cadre_progress_refresh(cadre_ids=holders)
    return youth, ended


# --- Cadres: created and changed by staff of their subtree (issue 15 item 2). ---

CADRE_FIELDS = ("name", "gender", "cadre_type", "position", "phone", "wechat_id", "card_note")


def _cadre_check(*, organisation: Organisation, by: User) -> None:
    from .selectors import organisation_list

    if not organisation_list(user=by).filter(pk=organisation.pk).exists():
        raise ValidationError({"organisation": _("所选组织不在你的管辖范围内。")})


@transaction.atomic
def cadre_create(
    *,
    name: str,
    gender: str,
    organisation: Organisation,
    cadre_type: str,
    position: str = "",
    phone: str = "",
    wechat_id: str = "",
    card_note: str = "",
    active_from: datetime.date | None = None,
    by: User,
) -> Cadre:
    """A new cadre record in an organisation of `by`'s subtree, with its history row; the
    stored progress row and the scores follow (`cadre_progress_refresh`)."""
    _cadre_check(organisation=organisation, by=by)
    phone = normalise_phone_field(phone)
    cadre = Cadre(
        name=name.strip(),
        gender=gender,
        organisation=organisation,
        cadre_type=cadre_type,
        position=position.strip(),
        phone=phone,
        wechat_id=wechat_id.strip(),
        card_note=card_note.strip(),
        active_from=active_from or timezone.localdate(),
    )
    if cadre.active_from > timezone.localdate():
        raise ValidationError({"active_from": _("任职开始日期不能晚于今天。")})
    cadre.full_clean(exclude=["user"])
    cadre._history_user = by  # type: ignore[attr-defined]
    cadre.save()
    cadre_progress_refresh(cadre_ids=[cadre.pk])
    return cadre


@transaction.atomic
def cadre_update(
    *,
    cadre: Cadre,
    name: str,
    gender: str,
    organisation: Organisation,
    cadre_type: str,
    position: str = "",
    phone: str = "",
    wechat_id: str = "",
    card_note: str = "",
    by: User,
) -> Cadre:
    """Change a cadre's record: the type (another quota rule) or the organisation (a move).

    1. lock the cadre row (a link or a handover running at once waits);
    2. the new organisation must be in `by`'s subtree, and every youth the cadre holds must
       stay inside the new organisation's subtree (the linking rule): otherwise nothing
       changes and the page says how many youths and what to do (a handover first);
    3. save with the history row; progress and scores follow (a type brings another quota)."""
    cadre = Cadre.objects.select_for_update().select_related("organisation").get(pk=cadre.pk)
    _cadre_check(organisation=organisation, by=by)
    if organisation.pk != cadre.organisation_id:
        from .scoping import in_subtree

        held = Youth.objects.filter(cadre_links__cadre=cadre)
        outside = held.count() - in_subtree(held, organisation=organisation).count()
        if outside:
            raise ValidationError(
                {
                    "organisation": _(
                        "%(name)s联系的青年中有 %(n)s 名不在%(org)s及其下级组织，不能调整组织；"
                        "请先办理离任交接，或选择包含这些青年的组织。"
                    )
                    % {"name": cadre.name, "n": outside, "org": organisation.name}
                }
            )
    phone = normalise_phone_field(phone)
    cadre.name, cadre.gender, cadre.organisation = name.strip(), gender, organisation
    cadre.cadre_type, cadre.position, cadre.phone = cadre_type, position.strip(), phone
    cadre.wechat_id, cadre.card_note = wechat_id.strip(), card_note.strip()
    cadre.full_clean(exclude=["user"])
    cadre._history_user = by  # type: ignore[attr-defined]
    cadre.save()
    cadre_progress_refresh(cadre_ids=[cadre.pk])
    return cadre
