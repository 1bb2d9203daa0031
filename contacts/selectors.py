"""Reads of the contacts app shared by views, panels, exports and (later) the assessment app.

Every statistic reads the ContactYouth fact table (only live contacts have rows; cadre, date and
is_offline are denormalised on it), so a per-cadre figure is an index range scan on
(cadre, date, youth) or an EXISTS probe on (cadre, youth, date), never a join to Contact.

Definitions (one place each):
- **dormant youth** of a cadre: a youth linked to the cadre (CadreYouth) whom that cadre has not
  contacted, on any channel, in the last `LIANQING_DORMANT_DAYS` days (default 90), counting from
  `today` inclusive of the cutoff day;
- **never met offline this year**: a linked youth with no offline contact (talk, visit, activity,
  meeting) by that cadre since 1 January of `today`'s year;
- **online → offline conversion** in a period: among the distinct youths a cadre contacted online
  in the period, those the same cadre also met offline in the same period (`converted`), and the
  rate converted / online youths.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import (
    Count,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.utils import timezone

from cadres.models import Cadre, CadreYouth, User, Youth
from cadres.selectors import get_youth_for_user, linkable_youths, scope_queryset, user_cadre

from .models import Confirmation, Contact, ContactYouth, Need

OPEN_STATUSES = (Need.Status.NEW, Need.Status.IN_PROGRESS)


def dormant_days() -> int:
    return int(getattr(settings, "LIANQING_DORMANT_DAYS", 90))


def dormant_cutoff(today: datetime.date | None = None) -> datetime.date:
    """Contacts on or after this day keep a youth awake."""
    return (today or timezone.localdate()) - datetime.timedelta(days=dormant_days())


# --- Youth-side evidence --------------------------------------------------------------------


def _local_day_bounds(start: datetime.date, end: datetime.date) -> tuple:
    """[start 00:00, end+1 00:00) in the project's time zone, as aware datetimes."""
    tz = timezone.get_default_timezone()
    lower = datetime.datetime.combine(start, datetime.time.min, tzinfo=tz)
    upper = datetime.datetime.combine(
        end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz
    )
    return lower, upper


def youth_side_evidence(*, start: datetime.date, end: datetime.date) -> QuerySet:
    """Distinct (cadre_id, youth_id) pairs with youth-side evidence in start..end (inclusive).

    The one definition of "the youth, not only the cadre, says this contact happened":
    - a confirmed Confirmation (见面码 scan, or "是的，我们联系过" on a share link) of a contact
      dated in the period, unless it came from the cadre's own device (same_device);
    - an attendance: the youth checked in at an activity in the period, expanded to the cadre the
      way activities derives contacts (each cadre linked to the youth and each responsible cadre),
      i.e. the ContactYouth rows of contacts derived from an activity;
    - a need the youth submitted themself (public form) in the period, owned by the cadre.

    One UNION query for all cadres (values_list rows `(cadre_id, youth_id)`); scoring embeds its
    SQL (assessment.metrics), so every page and the score share this definition.
    """
    confirmed = (
        Confirmation.objects.filter(
            outcome=Confirmation.Outcome.CONFIRMED,
            same_device=False,
            contact__isnull=False,
            day__gte=start,
            day__lte=end,
        )
        .order_by()
        .values_list("cadre_id", "youth_id")
    )
    attended = (
        ContactYouth.objects.filter(contact__activity__isnull=False, date__gte=start, date__lte=end)
        .order_by()
        .values_list("cadre_id", "youth_id")
    )
    lower, upper = _local_day_bounds(start, end)
    asked = (
        Need.objects.filter(
            source=Need.Source.PUBLIC,
            youth__isnull=False,
            owner_cadre__isnull=False,
            created_at__gte=lower,
            created_at__lt=upper,
        )
        .order_by()
        .values_list("owner_cadre_id", "youth_id")
    )
    return confirmed.union(attended, asked)


def confirmation_signals(*, user: User) -> QuerySet[Confirmation]:
    """Denials and same-device confirmations of the cadres the user may see, newest first: for
    supervisors only (the view requires staff; a cadre never sees who denied)."""
    qs = (
        Confirmation.objects.filter(Q(outcome=Confirmation.Outcome.DENIED) | Q(same_device=True))
        .select_related("cadre__organisation", "youth", "contact")
        .order_by("-created_at", "-id")
    )
    return scope_queryset(qs, user=user, org_field="cadre__organisation", cadre_field="cadre")


# --- Contacts -------------------------------------------------------------------------------


def contact_list(*, user: User) -> QuerySet[Contact]:
    """Live contacts the user may see (staff: their subtree's cadres; a cadre: their own),
    newest first, with what a list row shows; the youths come in one prefetch query."""
    qs = Contact.objects.filter(is_deleted=False).select_related("cadre__organisation")
    qs = qs.prefetch_related(
        Prefetch(
            "youth_rows",
            queryset=ContactYouth.objects.select_related("youth").only(
                "contact_id", "youth__id", "youth__name"
            ),
        )
    )
    return scope_queryset(
        qs, user=user, org_field="cadre__organisation", cadre_field="cadre"
    ).order_by("-date", "-id")


def cadre_recent_contacts(*, cadre_id: int, limit: int = 5) -> list[Contact]:
    """A cadre's latest live contacts with their youths: two queries."""
    return list(
        Contact.objects.filter(cadre_id=cadre_id, is_deleted=False)
        .order_by("-date", "-id")
        .prefetch_related(
            Prefetch(
                "youth_rows",
                queryset=ContactYouth.objects.select_related("youth").only(
                    "contact_id", "youth__id", "youth__name"
                ),
            )
        )[:limit]
    )


def cadre_youths(*, cadre: Cadre) -> QuerySet[Youth]:
    """The cadre's own youths (quick-log choices), most recently contacted first, each annotated
    with `last_contact` (by this cadre). One query; a cadre holds ~100 youths at any scale."""
    last = (
        ContactYouth.objects.filter(cadre_id=cadre.pk, youth=OuterRef("pk"))
        .order_by("-date")
        .values("date")[:1]
    )
    return (
        Youth.objects.filter(cadre_links__cadre=cadre)
        .annotate(last_contact=Subquery(last))
        .only("id", "name", "unit", "birth_year")
        .order_by("-last_contact", "name", "id")
    )


def linkable_youth_search(*, cadre: Cadre, q: str, limit: int = 10) -> list[Youth]:
    """Youths the cadre may link (`cadres.selectors.linkable_youths`: the cadre's organisation
    subtree), not yet linked to the cadre, whose name starts with `q` (or whose phone ends with
    it): offered in the quick log to link in the same step."""
    q = (q or "").replace("\x00", "").strip()[:20]  # NUL: PostgreSQL refuses it (a 500)
    if not q:
        return []
    match = Q(name__startswith=q)
    if q.isdigit() and len(q) >= 4:
        match |= Q(phone__endswith=q)
    return list(
        linkable_youths(cadre=cadre)
        .filter(match)
        .exclude(cadre_links__cadre=cadre)
        .only("id", "name", "unit", "birth_year")
        .order_by("name", "id")[:limit]
    )


def linkable_youth(*, cadre: Cadre, pk: int) -> Youth | None:
    """One youth the cadre may link (to show again what was picked)."""
    return (
        linkable_youths(cadre=cadre).filter(pk=pk).only("id", "name", "unit", "birth_year").first()
    )


@dataclass(frozen=True)
class ContactStats:
    """One cadre's contact figures for a period (see the module docstring for definitions)."""

    contacts: int = 0  # live contact events
    youths: int = 0  # distinct youths reached
    online_youths: int = 0  # distinct youths reached online
    offline_youths: int = 0  # distinct youths met offline
    converted: int = 0  # reached online and also met offline

    @property
    def conversion_rate(self) -> float | None:
        """converted / online_youths, or None when nobody was reached online."""
        return self.converted / self.online_youths if self.online_youths else None


def cadre_contact_stats(
    *, cadre_ids: Iterable[int], start: datetime.date, end: datetime.date
) -> dict[int, ContactStats]:
    """Contact figures per cadre for start..end (both inclusive), set-based: two queries per
    1,000 cadres whatever the number of contacts. Cadres without contacts get ContactStats()."""
    ids = list(dict.fromkeys(int(i) for i in cadre_ids))
    result = {cid: ContactStats() for cid in ids}
    table = ContactYouth._meta.db_table
    true = "TRUE" if connection.vendor == "postgresql" else "1"
    for offset in range(0, len(ids), 1000):
        chunk = ids[offset : offset + 1000]
        marks = ", ".join(["%s"] * len(chunk))
        # Per (cadre, youth): reached online? met offline? then per cadre: sums. Portable SQL.
        sql = f"""
            SELECT cadre_id, COUNT(*), SUM(o_n), SUM(o_f), SUM(o_n * o_f)
            FROM (
                SELECT cadre_id, youth_id,
                       MAX(CASE WHEN is_offline = {true} THEN 0 ELSE 1 END) AS o_n,
                       MAX(CASE WHEN is_offline = {true} THEN 1 ELSE 0 END) AS o_f
                FROM "{table}"
                WHERE cadre_id IN ({marks}) AND date >= %s AND date <= %s
                GROUP BY cadre_id, youth_id
            ) per_youth
            GROUP BY cadre_id
        """  # noqa: S608 - identifiers are ours, values are parameters
        with connection.cursor() as cursor:
            cursor.execute(sql, [*chunk, start, end])
            rows = cursor.fetchall()
        counts = dict(
            ContactYouth.objects.filter(cadre_id__in=chunk, date__gte=start, date__lte=end)
            .values("cadre_id")
            .annotate(n=Count("contact_id", distinct=True))
            .values_list("cadre_id", "n")
        )
        for cid, youths, online, offline, converted in rows:
            result[cid] = ContactStats(
                contacts=counts.get(cid, 0),
                youths=youths,
                online_youths=int(online or 0),
                offline_youths=int(offline or 0),
                converted=int(converted or 0),
            )
    return result


# --- Dormant youths -------------------------------------------------------------------------


def _recent_contact(cutoff: datetime.date, *, offline: bool = False) -> Exists:
    rows = ContactYouth.objects.filter(
        cadre_id=OuterRef("cadre_id"), youth_id=OuterRef("youth_id"), date__gte=cutoff
    )
    if offline:
        rows = rows.filter(is_offline=True)
    return Exists(rows)


@dataclass(frozen=True)
class DormantCounts:
    linked: int = 0
    dormant: int = 0  # no contact in the last LIANQING_DORMANT_DAYS days
    never_offline: int = 0  # not met offline since 1 January


def cadre_dormant_counts(
    *, cadre_ids: Iterable[int], today: datetime.date | None = None
) -> dict[int, DormantCounts]:
    """Per cadre: linked youths, dormant ones, and those never met offline this year. One query
    (an EXISTS probe per link on the (cadre, youth, date) index)."""
    today = today or timezone.localdate()
    ids = list(dict.fromkeys(int(i) for i in cadre_ids))
    rows = (
        CadreYouth.objects.filter(cadre_id__in=ids)
        .annotate(
            awake=_recent_contact(dormant_cutoff(today)),
            met=_recent_contact(today.replace(month=1, day=1), offline=True),
        )
        .values("cadre_id")
        .annotate(
            linked=Count("id"),
            dormant=Count("id", filter=Q(awake=False)),
            never_offline=Count("id", filter=Q(met=False)),
        )
        .values_list("cadre_id", "linked", "dormant", "never_offline")
    )
    result = {cid: DormantCounts() for cid in ids}
    for cid, linked, dormant, never in rows:
        result[cid] = DormantCounts(linked=linked, dormant=dormant, never_offline=never)
    return result


def cadre_dormant_youths(
    *, cadre: Cadre, today: datetime.date | None = None
) -> tuple[list[Youth], list[Youth]]:
    """The cadre's dormant youths and those never met offline this year, each annotated with
    `last_contact` and `last_offline` (by this cadre), longest silence first. One query."""
    today = today or timezone.localdate()
    by_cadre = ContactYouth.objects.filter(cadre_id=cadre.pk, youth=OuterRef("pk"))
    youths = list(
        Youth.objects.filter(cadre_links__cadre=cadre)
        .annotate(
            last_contact=Subquery(by_cadre.order_by("-date").values("date")[:1]),
            last_offline=Subquery(
                by_cadre.filter(is_offline=True).order_by("-date").values("date")[:1]
            ),
        )
        .select_related("sector")
        .order_by("name", "id")
    )
    cutoff, new_year = dormant_cutoff(today), today.replace(month=1, day=1)
    never = datetime.date.min

    def silence(y: Youth) -> tuple:
        return (y.last_contact or never, y.name)  # type: ignore[attr-defined]

    dormant = sorted([y for y in youths if (y.last_contact or never) < cutoff], key=silence)
    offline = sorted([y for y in youths if (y.last_offline or never) < new_year], key=silence)
    return dormant, offline  # type: ignore[return-value]


# --- Needs ----------------------------------------------------------------------------------


def need_list(*, user: User) -> QuerySet[Need]:
    """Needs the user may see: staff their subtree's (by receiving organisation); a cadre the
    needs they own."""
    qs = Need.objects.select_related("organisation", "owner_cadre", "owner_user", "youth")
    return scope_queryset(qs, user=user, org_field="organisation", cadre_field="owner_cadre")


def needs_by_ids(*, user: User, ids: Iterable[int]) -> list[Need]:
    """The needs with these ids that the user may see (other apps: plan an activity from them)."""
    return list(need_list(user=user).filter(pk__in=list(ids)).order_by("id"))


def need_past_due_q(today: datetime.date | None = None) -> Q:
    """Due before today, whatever the status: an open need past due is overdue."""
    return Q(due_date__lt=today or timezone.localdate())


def need_overdue_q(today: datetime.date | None = None) -> Q:
    return Q(status__in=OPEN_STATUSES) & need_past_due_q(today)


def need_counts(qs: QuerySet[Need], today: datetime.date | None = None) -> dict[str, int]:
    """Open and overdue needs in a queryset: one aggregate over the open needs only (overdue:
    need_overdue_q, whose status part the WHERE already holds). The counts name no column
    outside the partial index need_open_org_due_idx (organisation, due date, id), so PostgreSQL
    answers from the index alone (province: 395 -> 134 ms under load) instead of reading the
    heap pages of 15,000 open needs."""
    return qs.filter(status__in=OPEN_STATUSES).aggregate(
        open=Count("id"), overdue=Count("id", filter=need_past_due_q(today))
    )


# Needs compared per page: the most recent of the window. Pairwise similarity is cheap for a
# few thousand short texts (an inverted index compares only needs that share a bigram).
NEED_GROUP_WINDOW = 2000


def need_groups(
    *, user: User, start: datetime.date, end: datetime.date, min_size: int = 2
) -> list[dict]:
    """Needs in scope raised in start..end and not yet turned into an activity that ask the
    same thing, whatever category each was filed under (contacts/need_grouping.py): candidates
    for a lecture or training. Each group: ids (newest first), n, open, the most common
    category, a label of its top terms and up to three questions. Two queries."""
    from .need_grouping import similar_groups

    rows = list(
        need_list(user=user)
        .filter(created_at__date__gte=start, created_at__date__lte=end, activity__isnull=True)
        .order_by("-created_at", "-id")
        .values_list("id", "question", "category", "status")[:NEED_GROUP_WINDOW]
    )
    by_id = {pk: (question, category, status) for pk, question, category, status in rows}
    order = {pk: i for i, (pk, *_rest) in enumerate(rows)}
    groups = []
    for ids, terms in similar_groups([(pk, q) for pk, q, _c, _s in rows], min_size=min_size):
        ids = sorted(ids, key=order.__getitem__)[:200]
        categories = Counter(by_id[pk][1] for pk in ids)
        category = categories.most_common(1)[0][0]
        groups.append(
            {
                "ids": ids,
                "n": len(ids),
                "open": sum(1 for pk in ids if by_id[pk][2] in OPEN_STATUSES),
                "category": category,
                "categories": [Need.Category(c).label for c, _n in categories.most_common()],
                "label": " · ".join(terms) or Need.Category(category).label,
                "questions": [by_id[pk][0] for pk in ids[:3]],
            }
        )
    return groups


# --- Youth timeline -------------------------------------------------------------------------


def youth_for_user(*, user: User, pk: int | str) -> Youth:
    """A youth the user may see (`cadres.selectors.youth_scope`: staff of the youth's
    organisation subtree, or a cadre holding the youth). Outside that: 404."""
    return get_youth_for_user(user=user, pk=pk)


def youth_timeline(*, youth: Youth, user: User, limit: int = 100) -> list[dict]:
    """Contacts (including those derived from activities) and needs of a youth, newest first.
    Contacts as far as `user` may see them (staff: their subtree's cadres; a cadre: their own;
    another cadre holding the same youth keeps their notes to themselves); the youth's needs in
    full for staff and for the cadre who owns each, as "need_other" (date and owner only) for
    any other cadre (the caller has checked the user may see the youth).
    Three queries whatever the history length; each entry is a dict with a `kind`."""
    entries: list[dict] = []
    rows = scope_queryset(
        ContactYouth.objects.filter(youth=youth),
        user=user,
        org_field="cadre__organisation",
        cadre_field="cadre",
    )
    rows = rows.select_related("contact__cadre", "contact__activity").order_by(
        "-date", "-contact_id"
    )[:limit]
    for row in rows:
        c = row.contact
        entries.append(
            {
                "kind": "activity" if c.activity_id else "contact",
                "date": row.date,
                "contact": c,
                "cadre": c.cadre,
                "activity": c.activity,
            }
        )
    # Minimal disclosure between cadres: a cadre reads the needs they own (and the committee's
    # unassigned ones); of another cadre's need, only that it exists and who owns it (an entry
    # without the Need: nothing to leak).
    own = None if user.sees_subtree else user_cadre(user)
    needs = Need.objects.filter(youth=youth).select_related("owner_cadre")[:limit]
    for need in needs:
        day = timezone.localdate(need.created_at)
        owned_by_another = need.owner_cadre_id is not None and (
            own is None or need.owner_cadre_id != own.pk
        )
        if user.sees_subtree or not owned_by_another:
            entries.append({"kind": "need", "date": day, "need": need})
        else:
            owner = need.owner_cadre.name if need.owner_cadre else ""
            entries.append({"kind": "need_other", "date": day, "owner": owner})
    entries.sort(key=lambda e: e["date"], reverse=True)
    return entries[:limit]


def open_needs_owned_count(*, cadre_id: int) -> int:
    """How many needs a cadre owns that are not answered or closed (the handover page)."""
    return Need.objects.filter(owner_cadre_id=cadre_id, status__in=OPEN_STATUSES).count()
