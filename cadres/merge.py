"""Two registry entries for one person (登记重复): merged into one, keeping every link, contact,
attendance, need, confirmation, consent, volunteer hour, commendation and project (issue 15
item 2).

Every column in the project that points at a Youth is named in `YOUTH_COLUMNS` with what the
merge does with it; `tests/cadres/test_merge.py` compares that list with the models, so a new
foreign key to Youth fails a test until somebody decides how a merge treats it. The merge is
one transaction: a refusal or an error writes nothing.

Rows of the duplicate that would clash with a unique constraint (both records linked to the
same cadre, both in the same contact, both registered for the same activity…) are facts the kept
record already has: they are combined into the kept row where the duplicate carries more (the
earlier link, an attendance) and then dropped. Historical rows (django-simple-history) are left
as written: they record what was, under the id it had; the merge itself is in the history of
both records and of every row it changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, Min, Model, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import CadreYouth, Organisation, User, Youth
from .scoping import scope_queryset

# "app_label.Model.field" of every concrete column pointing at Youth, and how the merge treats
# it: "move" (repoint the duplicate's rows at the kept youth; clashing rows dropped after
# `COMBINE`), or "history" (a historical table: left as written).
YOUTH_COLUMNS: dict[str, str] = {
    "cadres.CadreYouth.youth": "move",
    "cadres.HistoricalCadreYouth.youth": "history",
    "cadres.Consent.youth": "move",
    "contacts.ContactYouth.youth": "move",
    "contacts.Need.youth": "move",
    "contacts.HistoricalNeed.youth": "history",
    "contacts.Confirmation.youth": "move",
    "activities.Registration.youth": "move",
    "activities.VolunteerOrganisation_members.youth": "move",
    "activities.VolunteerHours.youth": "move",
    "activities.Commendation.youth": "move",
    "activities.EntrepreneurshipProject.youth": "move",
}


def youth_columns() -> dict[str, tuple[type[Model], str]]:
    """Every concrete column of every installed model (auto-created M2M tables and historical
    tables too) that is a foreign key to Youth, as "app.Model.field" → (model, field name)."""
    found: dict[str, tuple[type[Model], str]] = {}
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.get_fields(include_hidden=True):
            target = field.remote_field.model if field.remote_field is not None else None
            if getattr(field, "concrete", False) and field.many_to_one and target is Youth:
                found[f"{model._meta.label}.{field.name}"] = (model, field.name)
    return found


@dataclass(frozen=True)
class Merged:
    youth: Youth
    moved: dict[str, int]  # rows repointed per table
    combined: dict[str, int]  # duplicate rows dropped because the kept youth had the same fact


def _unique_sets(model: type[Model], field: str) -> list[tuple[list[str], Q]]:
    """The unique constraints involving `field`: (the other fields, the constraint's condition)."""
    sets: list[tuple[list[str], Q]] = []
    for constraint in model._meta.constraints:
        fields = list(getattr(constraint, "fields", ()) or ())
        if field in fields:
            condition = getattr(constraint, "condition", None) or Q()
            sets.append(([f for f in fields if f != field], condition))
    for together in model._meta.unique_together:
        if field in together:
            sets.append(([f for f in together if f != field], Q()))
    return sets


def _clashes(model: type[Model], field: str, kept: Youth, dup: Youth) -> QuerySet:
    """The duplicate's rows that, repointed, would repeat a row of the kept youth."""
    rows = model._default_manager.filter(**{field: dup}).none()
    for others, condition in _unique_sets(model, field):
        twin = model._default_manager.filter(condition, **{field: kept}).filter(
            **{name: OuterRef(name) for name in others}
        )
        rows = rows | model._default_manager.filter(condition, **{field: dup}).filter(Exists(twin))
    return rows


def _combine_links(kept: Youth, dup: Youth) -> None:
    # Both records linked to one cadre: the link began when the earlier of the two began.
    for link in CadreYouth.objects.filter(youth=dup, cadre__youth_links__youth=kept):
        CadreYouth.objects.filter(
            youth=kept, cadre_id=link.cadre_id, linked_on__gt=link.linked_on
        ).update(linked_on=link.linked_on)


def _combine_registrations(kept: Youth, dup: Youth) -> None:
    # Both records registered for one activity: an attendance on either is the person's.
    from activities.models import Registration

    twins = Registration.objects.filter(youth=dup, activity__registrations__youth=kept)
    for reg in twins.exclude(checked_in_at__isnull=True):
        Registration.objects.filter(
            youth=kept, activity_id=reg.activity_id, checked_in_at__isnull=True
        ).update(
            checked_in_at=reg.checked_in_at, checked_out_at=reg.checked_out_at, hours=reg.hours
        )


# Before the duplicate's clashing rows are dropped, what they carry that the kept row lacks.
COMBINE: dict[str, Callable[[Youth, Youth], None]] = {
    "cadres.CadreYouth.youth": _combine_links,
    "activities.Registration.youth": _combine_registrations,
}


def _history_rows(qs: QuerySet, history_type: str, by: User, reason: str) -> None:
    """One history row per row of `qs` (as it is now) for a model with simple_history; a
    queryset UPDATE or DELETE sends no signals, so the merge writes the record itself."""
    history = getattr(qs.model, "history", None)
    if history is None:
        return
    now = timezone.now()
    fields = [f.attname for f in qs.model._meta.concrete_fields]
    history_fields = {f.attname for f in history.model._meta.concrete_fields}
    history.model.objects.bulk_create(
        [
            history.model(
                **{k: v for k, v in row.items() if k in history_fields},
                history_date=now,
                history_type=history_type,
                history_user=by,
                history_change_reason=reason,
            )
            for row in qs.values(*fields)
        ],
        batch_size=2000,
    )


def merge_organisation(a: Organisation, b: Organisation) -> Organisation | None:
    """The organisation of the merged record: the deeper of the two when one contains the
    other (every cadre who held either record may still hold it: the linking rule), else None —
    two records from different subtrees are not merged."""
    if a.is_ancestor_of(b):
        return b
    if b.is_ancestor_of(a):
        return a
    return None


@transaction.atomic
def youth_merge(*, kept: Youth, duplicate: Youth, by: User) -> Merged:
    """Merge `duplicate` into `kept`: one person, one record.

    1. both in `by`'s scope (staff of their subtree), neither erased, not the same record, and
       in one line of the tree (`merge_organisation`): else ValidationError, nothing written;
    2. lock both rows (in id order) and every registry write (`_lock_roster_commits`);
    3. per column of `YOUTH_COLUMNS`: combine then drop the duplicate's clashing rows, repoint
       the rest (history rows for tables with history);
    4. the kept record takes the deeper organisation and fills its blank phone, WeChat, unit,
       gender from the duplicate (notes are joined); the duplicate is deleted (its history and
       a "-" row with who and why stay);
    5. recount every cadre concerned; the stored scores follow from the earliest contact moved.
    """
    from .roster_import import _lock_roster_commits
    from .services import cadre_progress_refresh

    if not by.sees_subtree:
        raise ValidationError(_("只有团委工作人员可以合并青年记录。"))
    if kept.pk == duplicate.pk:
        raise ValidationError({"other": _("请选择另一条记录。")})
    scope = scope_queryset(Youth.objects.filter(erased_at__isnull=True), user=by)
    if scope.filter(pk__in=[kept.pk, duplicate.pk]).count() != 2:
        raise ValidationError({"other": _("所选青年不在你的管辖范围内。")})
    _lock_roster_commits()
    locked = {
        y.pk: y
        for y in Youth.objects.select_for_update()
        .select_related("organisation")
        .filter(pk__in=[kept.pk, duplicate.pk])
        .order_by("pk")
    }
    kept, duplicate = locked[kept.pk], locked[duplicate.pk]
    organisation = merge_organisation(kept.organisation, duplicate.organisation)
    if organisation is None:
        raise ValidationError(
            {
                "other": _(
                    "两条记录分属不同的组织（%(a)s、%(b)s），不能合并；"
                    "如确是同一人，请先由上级团委调整其所属组织。"
                )
                % {"a": kept.organisation.name, "b": duplicate.organisation.name}
            }
        )
    reason = _("合并重复登记：%(dup)s → %(kept)s") % {"dup": duplicate.pk, "kept": kept.pk}
    from contacts.models import ContactYouth

    first_contact = ContactYouth.objects.filter(youth=duplicate).aggregate(d=Min("date"))["d"]
    cadre_ids = set(
        CadreYouth.objects.filter(youth__in=[kept, duplicate]).values_list("cadre_id", flat=True)
    )
    moved: dict[str, int] = {}
    combined: dict[str, int] = {}
    columns = youth_columns()
    for key, treatment in YOUTH_COLUMNS.items():
        if treatment != "move" or key not in columns:
            continue
        model, field = columns[key]
        if key in COMBINE:
            COMBINE[key](kept, duplicate)
        clash_ids = list(_clashes(model, field, kept, duplicate).values_list("pk", flat=True))
        clashing = model._default_manager.filter(pk__in=clash_ids)
        _history_rows(clashing, "-", by, reason)
        # Nothing refers to these rows (the test of YOUTH_COLUMNS's tables checks it), so one
        # DELETE without signals: the history rows above are the record.
        combined[key] = clashing._raw_delete(clashing.db) if clash_ids else 0
        rows = model._default_manager.filter(**{field: duplicate})
        ids = list(rows.values_list("pk", flat=True))
        moved[key] = rows.update(**{field: kept})
        _history_rows(model._default_manager.filter(pk__in=ids), "~", by, reason)
    # 4. one record with what either knew.
    for name in ("phone", "wechat_id", "unit", "gender"):
        if not getattr(kept, name) and getattr(duplicate, name):
            setattr(kept, name, getattr(duplicate, name))
    if duplicate.notes and duplicate.notes not in kept.notes:
        kept.notes = "\n".join(n for n in (kept.notes, duplicate.notes) if n)
    kept.organisation = organisation
    if kept.moved_away_on is not None and duplicate.moved_away_on is None:
        kept.moved_away_on = None  # the duplicate's links make them somebody's youth again
    kept._history_user = by  # type: ignore[attr-defined]
    kept._change_reason = reason  # type: ignore[attr-defined]
    kept.save()
    duplicate._history_user = by  # type: ignore[attr-defined]
    duplicate._change_reason = reason  # type: ignore[attr-defined]
    duplicate.delete()
    # 5. the numbers: progress of every cadre concerned, and the scores from the first contact.
    cadre_progress_refresh(cadre_ids=cadre_ids)
    if first_contact is not None:
        from assessment.freshness import numbers_changed

        numbers_changed(on=first_contact)
    return Merged(youth=kept, moved=moved, combined=combined)


def merge_candidates(
    *, user: User, youth: Youth, q: str = "", also: object = None
) -> QuerySet[Youth]:
    """Records the user may merge into `youth`: in scope and likely the same person (same
    name, or same phone), or matching the search `q` (a name or a phone), plus `also` (the
    record the edit page found holding the new phone). At most 20."""
    from .phones import normalise_phone

    scope = scope_queryset(
        Youth.objects.filter(erased_at__isnull=True).exclude(pk=youth.pk), user=user
    )
    likely = Q(name=youth.name)
    if youth.phone:
        likely |= Q(phone=youth.phone)
    q = q.replace("\x00", "").strip()[:50]  # a NUL reaches PostgreSQL as an error, not a search
    if q:
        likely = Q(name__icontains=q)
        try:
            phone = normalise_phone(q)
        except ValidationError:
            phone = ""
        if phone:
            likely |= Q(phone=phone)
    if isinstance(also, str) and also.isdigit():
        likely |= Q(pk=int(also))
    ordered = scope.filter(likely).order_by("name", "birth_year", "pk")
    # Not sliced: a form validates its choice with .get() on this queryset.
    return (
        scope.filter(pk__in=list(ordered.values_list("pk", flat=True)[:20]))
        .select_related("organisation", "sector")
        .order_by("name", "birth_year", "pk")
    )
