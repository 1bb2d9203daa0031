"""Writes of the cadres app: the organisation tree and users."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Length, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import (
    PATH_SEGMENT_WIDTH,
    PATH_SEPARATOR,
    Cadre,
    CadreProgress,
    CadreYouth,
    LiaisonChannel,
    Organisation,
    Sector,
    User,
    Youth,
)
from .phones import normalise_phone
from .privacy import consent_record, youth_erase, youth_self_join  # noqa: F401 (write API)
from .quota import progress_expression, quota_met_expression
from .scoping import organisation_subtree
from .selectors import link_ceiling, linkable_youths


def _segment(pk: int) -> str:
    return f"{pk:0{PATH_SEGMENT_WIDTH}d}{PATH_SEPARATOR}"


@transaction.atomic
def organisation_create(
    *, name: str, kind: str, parent: Organisation | None = None, is_active: bool = True
) -> Organisation:
    """Create an organisation and give it its materialised path.

    1. insert with a placeholder path unique to this transaction (the pk is not known yet);
    2. set path = parent's path + own zero-padded pk.
    """
    import uuid

    org = Organisation.objects.create(
        name=name,
        kind=kind,
        parent=parent,
        is_active=is_active,
        path=f"~{uuid.uuid4().hex}",
        depth=(parent.depth + 1) if parent else 0,
    )
    org.path = (parent.path if parent else "") + _segment(org.pk)
    Organisation.objects.filter(pk=org.pk).update(path=org.path)
    return org


@transaction.atomic
def organisation_update(
    *,
    organisation: Organisation,
    name: str,
    kind: str,
    parent: Organisation | None,
    is_active: bool,
) -> Organisation:
    """Edit an organisation; moving it under another parent re-roots its whole subtree.

    The move is two set-based UPDATEs (path prefix replaced, depth shifted) whatever the size of
    the subtree, under a row lock so that two concurrent moves cannot interleave.
    """
    org = Organisation.objects.select_for_update().get(pk=organisation.pk)
    if parent is not None:
        parent = Organisation.objects.select_for_update().get(pk=parent.pk)
        if org.is_ancestor_of(parent):
            raise ValidationError({"parent": _("不能把组织移到它自己或它的下级组织之下。")})
    org.name, org.kind, org.is_active = name, kind, is_active
    if (parent.pk if parent else None) != org.parent_id:
        old_path = org.path
        new_path = (parent.path if parent else "") + _segment(org.pk)
        depth_shift = ((parent.depth + 1) if parent else 0) - org.depth
        # The subtree as it is before the move (org.path is still the old path here).
        organisation_subtree(organisation=org).update(
            path=Concat(Value(new_path), Substr("path", len(old_path) + 1, Length("path"))),
            depth=F("depth") + depth_shift,
        )
        org.parent = parent
        org.path, org.depth = new_path, org.depth + depth_shift
    org.save(update_fields=["name", "kind", "is_active", "parent"])
    return org


def user_create(
    *,
    username: str,
    password: str | None,
    organisation: Organisation | None,
    role: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    is_superuser: bool = False,
    is_demo: bool = False,
) -> User:
    """Create a login. Admins (and only admins) get access to Django admin."""
    user = User(
        username=username,
        organisation=organisation,
        role=role,
        first_name=first_name,
        last_name=last_name,
        email=email,
        is_superuser=is_superuser,
        is_demo=is_demo,
        is_staff=is_superuser or role == User.Role.ADMIN,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    return user


# --- Youths and links: used by the registry, contact logging, imports and activity sign-ups. ---


def youth_match(
    *, phone: str = "", name: str = "", birth_year: int | None = None, unit: str = ""
) -> Youth | None:
    """The existing youth a new record describes, or None.

    Same normalised phone is the same person; without a phone, the same name + birth year + unit.
    """
    if phone:
        found = Youth.objects.filter(phone=phone).order_by("pk").first()
        if found is not None:
            return found
    if name and birth_year:
        return (
            Youth.objects.filter(name=name.strip(), birth_year=birth_year, unit=unit.strip())
            .order_by("pk")
            .first()
        )
    return None


def youth_create(
    *,
    name: str,
    birth_year: int,
    sector: Sector,
    organisation: Organisation,
    gender: str = "",
    unit: str = "",
    phone: str = "",
    wechat_id: str = "",
    notes: str = "",
    by: User | None = None,
) -> Youth:
    youth = Youth(
        name=name.strip(),
        birth_year=birth_year,
        sector=sector,
        organisation=organisation,
        gender=gender,
        unit=unit.strip(),
        phone=normalise_phone(phone),
        wechat_id=wechat_id.strip(),
        notes=notes,
    )
    youth.full_clean()
    youth._history_user = by  # type: ignore[attr-defined]  # simple_history's hook
    youth.save()
    return youth


def cadre_youth_link(
    *,
    cadre: Cadre,
    youth: Youth,
    channel: LiaisonChannel | None = None,
    linked_on: datetime.date | None = None,
    by: User | None = None,
) -> CadreYouth:
    """Put a youth in a cadre's list; linking twice keeps the first link (idempotent).

    The rules (the youth in the cadre's own subtree, the ceiling) are `cadre_youths_link`'s."""
    if channel is not None and channel.cadre_id != cadre.pk:
        raise ValidationError({"channel": _("联系渠道不属于该团干部。")})
    cadre_youths_link(cadre=cadre, youths={youth.pk: linked_on}, channel=channel, by=by)
    return CadreYouth.objects.get(cadre=cadre, youth=youth)


def _link_refused_outside() -> str:
    # Also the answer for an id of no youth at all: the message must not tell which it was.
    return _("所选青年不在团干部所在组织（含下级组织）的范围内，无法关联。")


def _link_refused_ceiling(cadre: Cadre, ceiling: int) -> str:
    return _(
        "团干部%(name)s联系的青年已达上限 %(max)s 名（联系指标的 %(factor)s 倍），不能再增加。"
    ) % {"name": cadre.name, "max": ceiling, "factor": settings.LIANQING_LINK_CEILING_FACTOR}


def cadre_link_refusals(*, cadre: Cadre, youth_ids: Sequence[int | None]) -> dict[int, str]:
    """Why `cadre` may not link each of these youths, by position in `youth_ids` (see
    `_link_check`); a position missing from the result may be linked. Reads only."""
    return _link_check(cadre, youth_ids)[0]


def _link_check(cadre: Cadre, youth_ids: Sequence[int | None]) -> tuple[dict[int, str], set[int]]:
    """The linking rules, in one place: (refusals by position, youths already linked).

    1. a youth outside the cadre's own organisation subtree is refused (the linking rule,
       `selectors.linkable_youths`);
    2. youths already linked cost nothing; every other one counts, in order, against the
       ceiling (`selectors.link_ceiling`), and those past it are refused.
    None stands for a youth not yet created (a roster row), in an organisation the caller has
    checked with `cadre_may_link_organisation`: it is never linked yet, and it counts.
    A handful of queries per 2,000 youths.
    """
    known = sorted({pk for pk in youth_ids if pk is not None})
    already: set[int] = set()
    allowed: set[int] = set()
    for start in range(0, len(known), _IN_CHUNK):
        chunk = known[start : start + _IN_CHUNK]
        already.update(
            CadreYouth.objects.filter(cadre=cadre, youth_id__in=chunk).values_list(
                "youth_id", flat=True
            )
        )
        allowed.update(
            linkable_youths(cadre=cadre).filter(pk__in=chunk).values_list("pk", flat=True)
        )
    ceiling = link_ceiling(cadre)
    room = ceiling - CadreYouth.objects.filter(cadre=cadre).count()
    refusals: dict[int, str] = {}
    counted: set[int] = set()
    for position, pk in enumerate(youth_ids):
        if pk is not None and pk in already:
            continue
        if pk is not None and pk not in allowed:
            refusals[position] = _link_refused_outside()
            continue
        if pk is not None and pk in counted:
            continue  # the same youth twice in one request counts once
        if room <= 0:
            refusals[position] = _link_refused_ceiling(cadre, ceiling)
            continue
        room -= 1
        if pk is not None:
            counted.add(pk)
    return refusals, already


def cadre_may_link_organisation(*, cadre: Cadre, organisation: Organisation) -> bool:
    """Youths registered in `organisation` are linkable by `cadre` (the linking rule, for youths
    about to be created there: the roster import checks it before writing anything)."""
    return cadre.organisation.is_ancestor_of(organisation)


# Ids per `IN (…)` query: well under SQLite's and PostgreSQL's parameter limits.
_IN_CHUNK = 2000


@transaction.atomic
def cadre_youths_link(
    *,
    cadre: Cadre,
    youths: Mapping[int, datetime.date | None],
    channel: LiaisonChannel | None = None,
    by: User | None = None,
) -> int:
    """Link youths (id -> day the link began, None: today) to a cadre, all or none; youths
    already linked keep their first link. Returns the number of new links.

    This is where the linking rules are enforced, for every path that links (the registry, the
    quick log, the roster import):
    1. lock the cadre row, so that two concurrent links cannot both pass the ceiling;
    2. `_link_check`: a youth outside the cadre's own organisation subtree, or past the
       ceiling, refuses the whole request with the reason (ValidationError on "youths");
    3. bulk-insert the new links with their history rows (`by`), recount the cadre's progress.
    """
    from simple_history.utils import bulk_create_with_history

    Cadre.objects.select_for_update().filter(pk=cadre.pk).first()
    ids = list(youths)
    refusals, already = _link_check(cadre, ids)
    if refusals:
        raise ValidationError({"youths": sorted(set(refusals.values()))})
    today = timezone.localdate()
    links = [
        CadreYouth(cadre=cadre, youth_id=pk, channel=channel, linked_on=youths[pk] or today)
        for pk in ids
        if pk not in already
    ]
    if links:
        bulk_create_with_history(links, CadreYouth, batch_size=_IN_CHUNK, default_user=by)
        cadre_progress_refresh(cadre_ids=[cadre.pk])
    return len(links)


# In the caller's transaction when there is one (no savepoint), else its own: the rows stay
# locked from before the rules are read until the verdict is stored.
@transaction.atomic(savepoint=False)
def cadre_progress_refresh(*, cadre_ids: Iterable[int] | None = None, recount: bool = True) -> int:
    """Recount the stored quota progress of these cadres, or of every cadre when None, and
    apply the quota rule to it. Call it after any write to CadreYouth, LiaisonChannel, a
    youth's sector or a cadre's type that does not go through a cadres service (bulk loads,
    admin); `recount=False` when only a quota rule changed (the counts did not). Returns the
    number of cadres updated.

    1. make sure every cadre concerned has its row (new cadres have none yet);
    2. recount youths, fields and channel kinds in one UPDATE (skipped with `recount=False`);
    3. store the rule's verdict on those counts, `progress` and `quota_met`: one UPDATE per
       cadre type concerned, with that type's rule (`selectors.quota_rules`) through the one
       quota rule (`cadres.quota`), so that the list sorts and filters on stored columns.
    """
    from .selectors import progress_counts, quota_rules

    cadres = Cadre.objects.all()
    if cadre_ids is not None:
        ids = sorted(set(cadre_ids))
        if not ids:
            return 0
        cadres = cadres.filter(pk__in=ids)
    missing = cadres.filter(progress_counts__isnull=True).values_list("pk", flat=True)
    CadreProgress.objects.bulk_create(
        [CadreProgress(cadre_id=pk) for pk in missing], ignore_conflicts=True, batch_size=5000
    )
    rows = CadreProgress.objects.all()
    if cadre_ids is not None:
        rows = rows.filter(cadre_id__in=ids)
        if recount:
            # Links moved: the stored scores follow within a minute (assessment/freshness.py).
            # The full recount (None) is the nightly safety net, followed by the nightly run.
            from assessment.freshness import numbers_changed

            numbers_changed(cadre_ids=ids)
    # Lock the rows before reading the rules (in id order, so that two refreshes never wait for
    # each other crosswise). A rule change re-rates every row in its own transaction: it now
    # either committed before the read below, which then sees the new rule, or it waits for
    # these rows until this transaction ends and re-rates them after it. Reading the rules first
    # left a window in which a concurrent rule change committed, and this transaction wrote
    # the old rule's verdict after it (kept until the nightly recount).
    list(rows.select_for_update().order_by("cadre_id").values_list("cadre_id", flat=True))
    n = rows.update(**progress_counts()) if recount else 0
    types = quota_rules()
    if cadre_ids is not None:
        # The rule statements only for the types these cadres have (one, for a link).
        present = set(cadres.order_by().values_list("cadre_type", flat=True).distinct())
        types = {t: rule for t, rule in types.items() if t in present}
    rated = 0
    for cadre_type, (quota, min_sectors, _channels) in types.items():
        rated += rows.filter(cadre__cadre_type=cadre_type).update(
            progress=progress_expression(youths="youth_count", quota=quota),
            quota_met=quota_met_expression(
                youths="youth_count", fields="sector_count", quota=quota, min_sectors=min_sectors
            ),
        )
    return n if recount else rated


def cadres_removed() -> None:
    """What deleting cadres moves (admin deletes them, bypassing the services): the stored
    scores, flags, per-organisation figures and statistics that counted them are recomputed
    for the whole of each current period within a minute (`numbers_changed`; whole periods,
    as the deleted cadres' ids mark nothing any more). Their progress rows go with them."""
    from assessment.freshness import numbers_changed

    numbers_changed()


def cadre_ids_holding(*, youth_ids: Iterable[int]) -> list[int]:
    """Cadres whose progress depends on these youths (e.g. after a youth's field changed)."""
    return list(
        CadreYouth.objects.filter(youth_id__in=list(youth_ids))
        .values_list("cadre_id", flat=True)
        .distinct()
    )
