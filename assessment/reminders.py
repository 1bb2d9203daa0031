"""Reminders that help, never nag (issue #14, item 5): who is reminded of what, and the digest.

What each kind is (one place each; HORIZON_DAYS = 2):
- need_due: an open need (新提交/办理中) due within 2 days or overdue; for the cadre who owns it,
  the staff member who owns it (when it lies in their subtree), and, when nobody owns it, the
  staff of the receiving organisation;
- follow_up: the follow-up date (回访日期) of the latest step of an open supervision case, within
  2 days or past; for whoever recorded that step and whoever opened the case, when the case lies
  in their subtree (cadres never see supervision, `assessment.selectors.case_list`);
- dormant: a cadre's linked youths silent longest (the definition of `contacts.selectors`:
  no contact by that cadre for LIANQING_DORMANT_DAYS), the top 5 to call; one reminder a week;
- activity: an activity starting tomorrow, not cancelled or done, the cadre is responsible for;
- channels: the liaison channel kinds the cadre holds none of (the checklist on the cadre's
  home); one reminder a week.

Nothing here is about the app itself: no "you have not logged in", no streaks, no counts of
visits (MISSION.md: no metric rewards opening the app). A kind switched off by a user is neither
written for them nor mailed to them.

The daily pass, `reminders_refresh`, computes every kind for all users at once: one query per
kind (two or three for some), whatever the number of users. In one transaction it inserts the
new reminders, skipping any (user, kind, key) already there, updates the unread ones whose text
changed and deletes the unread ones no longer true (`_write`): a reminder read stays read and
never comes back unread; one no longer true (the need was answered) disappears; a rerun, or two
workers, leave the same rows.

The weekly digest, `digests_send`, mails each user who asked for it (and has an e-mail address
and something unread) their unread reminders, at most once a week: the (user, week) row in
DigestSent is claimed in bounded batches before sending (see DigestSent).
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.functions import RowNumber
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cadres.models import Cadre, CadreYouth, LiaisonChannel, User
from cadres.selectors import user_subtree_q
from contacts.models import ContactYouth, Need
from contacts.selectors import OPEN_STATUSES, dormant_cutoff, dormant_days

from . import sources
from .models import CaseStep, DigestSent, Notification, NotificationPreference, SupervisionCase

logger = logging.getLogger(__name__)

Kind = Notification.Kind
KINDS: tuple[str, ...] = tuple(Kind.values)
# A need or a follow-up is worth a reminder from two days before its date.
HORIZON_DAYS = 2
DORMANT_TOP = 5
# Read reminders are kept this long (the centre's history), then deleted by the daily pass.
KEEP_READ_DAYS = 60
STAFF_ROLES = (User.Role.STAFF, User.Role.ADMIN)


@dataclass(frozen=True)
class Row:
    user_id: int
    kind: str
    key: str
    object_id: int | None
    due_on: datetime.date | None
    data: dict


def week_start(day: datetime.date) -> datetime.date:
    """The Monday of `day`'s week: the digest's and the weekly lists' unit."""
    return day - datetime.timedelta(days=day.weekday())


def _muted(kind: str) -> QuerySet:
    """Users who switched `kind` off (a subquery)."""
    return NotificationPreference.objects.filter(**{kind: False}).values("user_id")


def _staff_in_scope(user_field: str, org_field: str) -> Q:
    """The user named by `user_field` is active staff whose subtree holds the row."""
    return Q(
        **{f"{user_field}__is_active": True, f"{user_field}__role__in": STAFF_ROLES}
    ) & user_subtree_q(org_field=org_field, user_field=user_field)


def _in_office(prefix: str, today: datetime.date) -> Q:
    return Q(**{f"{prefix}active_until__isnull": True}) | Q(**{f"{prefix}active_until__gte": today})


# --- The kinds ------------------------------------------------------------------------------


def need_rows(today: datetime.date) -> list[Row]:
    due = Need.objects.filter(
        status__in=OPEN_STATUSES, due_date__lte=today + datetime.timedelta(days=HORIZON_DAYS)
    ).order_by()
    fields = ("id", "due_date", "question")
    recipients: list[tuple] = []
    # 1. the owning cadre (a cadre sees the needs they own);
    recipients += due.filter(owner_cadre__user__is_active=True).values_list(
        "owner_cadre__user_id", *fields
    )
    # 2. the owning staff member, if the need lies in their subtree;
    recipients += due.filter(_staff_in_scope("owner_user", "organisation")).values_list(
        "owner_user_id", *fields
    )
    # 3. nobody owns it: the staff of the receiving organisation (one join, one filter call).
    recipients += due.filter(
        owner_cadre__isnull=True,
        owner_user__isnull=True,
        organisation__users__is_active=True,
        organisation__users__role__in=STAFF_ROLES,
    ).values_list("organisation__users__id", *fields)
    muted = set(_muted("need_due").values_list("user_id", flat=True))
    return [
        Row(user_id, Kind.NEED_DUE, f"need:{pk}:{due_on}", pk, due_on, {"q": question[:80]})
        for user_id, pk, due_on, question in recipients
        if user_id not in muted
    ]


def follow_up_rows(today: datetime.date) -> list[Row]:
    # Steps go 提醒 → 约谈 → 诫勉, each once per case: the latest is the highest kind.
    latest = CaseStep.objects.filter(case=OuterRef("case")).order_by("-kind").values("kind")[:1]
    steps = CaseStep.objects.filter(
        case__status=SupervisionCase.Status.OPEN,
        follow_up_on__lte=today + datetime.timedelta(days=HORIZON_DAYS),
        kind=Subquery(latest),
    ).order_by()
    fields = ("id", "case_id", "kind", "follow_up_on", "case__cadre__name")
    recipients: list[tuple] = []
    for user_field in ("recorded_by", "case__opened_by"):
        recipients += steps.filter(_staff_in_scope(user_field, "case__organisation")).values_list(
            f"{user_field}_id", *fields
        )
    muted = set(_muted("follow_up").values_list("user_id", flat=True))
    return [
        Row(
            user_id,
            Kind.FOLLOW_UP,
            f"step:{step_id}:{due_on}",
            case_id,
            due_on,
            {"cadre": cadre_name, "step": step_kind},
        )
        for user_id, step_id, case_id, step_kind, due_on, cadre_name in recipients
        if user_id not in muted
    ]


def dormant_rows(today: datetime.date) -> list[Row]:
    """Per cadre with a login, the DORMANT_TOP youths silent longest (never contacted first),
    and how many are dormant in all: one query, ranked by a window over the cadre's links."""
    last = (
        ContactYouth.objects.filter(cadre_id=OuterRef("cadre_id"), youth_id=OuterRef("youth_id"))
        .order_by("-date")
        .values("date")[:1]
    )
    links = (
        CadreYouth.objects.filter(_in_office("cadre__", today), cadre__user__is_active=True)
        .exclude(cadre__user_id__in=_muted("dormant"))
        .annotate(last=Subquery(last))
        .filter(Q(last__isnull=True) | Q(last__lt=dormant_cutoff(today)))
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("cadre_id")],
                order_by=[F("last").asc(nulls_first=True), F("youth__name").asc(), F("id").asc()],
            ),
            total=Window(Count("id"), partition_by=[F("cadre_id")]),
        )
        .filter(rank__lte=DORMANT_TOP)
        .order_by("cadre_id", "rank")
        .values_list("cadre__user_id", "cadre_id", "youth_id", "youth__name", "last", "total")
    )
    by_user: dict[int, dict] = {}
    for user_id, cadre_id, youth_id, name, last_date, total in links:
        entry = by_user.setdefault(
            user_id, {"cadre": cadre_id, "total": total, "days": dormant_days(), "youths": []}
        )
        entry["youths"].append(
            {"id": youth_id, "name": name, "last": last_date.isoformat() if last_date else None}
        )
    key = f"week:{week_start(today)}"
    return [
        Row(user_id, Kind.DORMANT, key, data["cadre"], None, data)
        for user_id, data in by_user.items()
    ]


def activity_rows(today: datetime.date) -> list[Row]:
    tomorrow = today + datetime.timedelta(days=1)
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(tomorrow, datetime.time.min, tzinfo=tz)
    rows = sources.responsible_activities(
        start=start, end=start + datetime.timedelta(days=1), exclude_users=_muted("activity")
    ).data
    return [
        Row(
            user_id,
            Kind.ACTIVITY,
            f"activity:{pk}:{tomorrow}",
            pk,
            tomorrow,
            {
                "title": title,
                "time": timezone.localtime(starts_at).strftime("%H:%M"),
                "place": place,
            },
        )
        for user_id, pk, title, starts_at, place in rows
    ]


def channel_rows(today: datetime.date) -> list[Row]:
    """Cadres with a login and the channel kinds they hold none of: two queries."""
    reminded = Cadre.objects.filter(_in_office("", today), user__is_active=True).exclude(
        user_id__in=_muted("channels")
    )
    cadres = dict(reminded.order_by().values_list("id", "user_id"))
    held: dict[int, set[str]] = defaultdict(set)
    for cadre_id, kind in (
        LiaisonChannel.objects.filter(cadre__in=reminded.values("id"))
        .order_by()
        .values_list("cadre_id", "kind")
    ):
        held[cadre_id].add(kind)
    key = f"week:{week_start(today)}"
    rows = []
    for cadre_id, user_id in cadres.items():
        missing = [k for k in LiaisonChannel.Kind.values if k not in held[cadre_id]]
        if missing:
            rows.append(Row(user_id, Kind.CHANNELS, key, cadre_id, None, {"missing": missing}))
    return rows


BUILDERS = {
    Kind.NEED_DUE: need_rows,
    Kind.FOLLOW_UP: follow_up_rows,
    Kind.DORMANT: dormant_rows,
    Kind.ACTIVITY: activity_rows,
    Kind.CHANNELS: channel_rows,
}


def reminders_refresh(*, today: datetime.date | None = None) -> dict[str, int]:
    """The daily pass (see the module docstring). Returns the number of current reminders of
    each kind (read or not)."""
    today = today or timezone.localdate()
    rows: dict[tuple[int, str, str], Row] = {}
    counts: dict[str, int] = {}
    for kind, build in BUILDERS.items():
        built = build(today)
        for row in built:
            rows[(row.user_id, row.kind, row.key)] = row  # two routes to one user: one row
        counts[kind] = len({(r.user_id, r.key) for r in built})
    with transaction.atomic():
        _write(rows)
    return counts


def _write(rows: dict[tuple[int, str, str], Row]) -> None:
    """Bring the stored reminders to `rows`, touching only what changed (ids and reminder
    times stay, so a reminder open on a phone can still be marked read after the pass):
    1. read the unread reminders (one query);
    2. insert the new ones, skipping any (user, kind, key) already there, read or not;
    3. update those whose text changed (the dormant list after a call), in bounded batches;
    4. delete the unread ones no longer true, and read ones past KEEP_READ_DAYS."""
    unread = {
        (user_id, kind, key): (pk, object_id, due_on, data)
        for pk, user_id, kind, key, object_id, due_on, data in Notification.objects.filter(
            read_at__isnull=True
        ).values_list("pk", "user_id", "kind", "key", "object_id", "due_on", "data")
    }
    new = [
        Notification(
            user_id=r.user_id,
            kind=r.kind,
            key=r.key,
            object_id=r.object_id,
            due_on=r.due_on,
            data=r.data,
        )
        for ident, r in rows.items()
        if ident not in unread
    ]
    if new:
        Notification.objects.bulk_create(new, ignore_conflicts=True, batch_size=1000)
    changed = [
        Notification(pk=unread[ident][0], object_id=r.object_id, due_on=r.due_on, data=r.data)
        for ident, r in rows.items()
        if ident in unread and unread[ident][1:] != (r.object_id, r.due_on, r.data)
    ]
    if changed:
        Notification.objects.bulk_update(changed, ["object_id", "due_on", "data"], batch_size=500)
    stale = [pk for ident, (pk, *_rest) in unread.items() if ident not in rows]
    if stale:
        # read_at still NULL: a reminder read meanwhile is the user's history, kept.
        Notification.objects.filter(pk__in=stale, read_at__isnull=True).delete()
    Notification.objects.filter(
        read_at__lt=timezone.now() - datetime.timedelta(days=KEEP_READ_DAYS)
    ).delete()


# --- Reading a reminder ---------------------------------------------------------------------


def notification_url(n: Notification) -> str:
    """Where a reminder leads: the need, the case, the activity, the cadre's youths, channels."""
    targets: dict[str, tuple[str, list[int | None]]] = {
        Kind.NEED_DUE: ("contacts:need_detail", [n.object_id]),
        Kind.FOLLOW_UP: ("assessment:case", [n.object_id]),
        Kind.ACTIVITY: ("activities:detail", [n.object_id]),
        Kind.DORMANT: ("cadres:my_youths", []),
        # The cadre's channels page (issue #14, item 2), or the home's checklist until it exists.
        Kind.CHANNELS: ("cadres:channels", [n.object_id]),
    }
    target = targets.get(n.kind)
    if target is None:
        return reverse("home")
    try:
        return reverse(target[0], args=target[1])
    except NoReverseMatch:
        return reverse("home")


def _day(value: datetime.date | str | None) -> str:
    if not value:
        return ""
    day = datetime.date.fromisoformat(value) if isinstance(value, str) else value
    return _("%(m)d月%(d)d日") % {"m": day.month, "d": day.day}


def describe(n: Notification, today: datetime.date | None = None) -> str:
    """The reminder's sentence, in the active language (the centre and the digest say the same)."""
    today = today or timezone.localdate()
    d = n.data or {}
    if n.kind == Kind.NEED_DUE:
        if n.due_on and n.due_on < today:
            text = _("需求已逾期（期限%(day)s）：%(q)s")
        elif n.due_on == today:
            text = _("需求今天到期：%(q)s")
        else:
            text = _("需求%(day)s到期：%(q)s")
        return text % {"day": _day(n.due_on), "q": d.get("q", "")}
    if n.kind == Kind.FOLLOW_UP:
        step = CaseStep.Kind(d.get("step", CaseStep.Kind.REMINDER)).label
        if n.due_on and n.due_on < today:
            text = _("督导回访已过期：%(cadre)s（%(step)s后，回访日期%(day)s）")
        else:
            text = _("督导回访：%(cadre)s（%(step)s后，回访日期%(day)s）")
        return text % {"cadre": d.get("cadre", ""), "step": step, "day": _day(n.due_on)}
    if n.kind == Kind.DORMANT:
        youths = d.get("youths", [])
        met = [
            _("%(name)s（上次%(day)s）") % {"name": y["name"], "day": _day(y["last"])}
            for y in youths
            if y.get("last")
        ]
        never = [y["name"] for y in youths if not y.get("last")]
        if never:
            met.append(_("%(names)s（还没有联系过）") % {"names": "、".join(never)})
        return _("%(total)d 位青年超过 %(days)d 天没有联系，可以先联系：%(names)s") % {
            "total": d.get("total", len(youths)),
            "days": d.get("days", dormant_days()),
            "names": "、".join(met),
        }
    if n.kind == Kind.ACTIVITY:
        text = _("明天 %(time)s 您负责的活动：%(title)s")
        if d.get("place"):
            text = _("明天 %(time)s 您负责的活动：%(title)s（%(place)s）")
        return text % {
            "time": d.get("time", ""),
            "title": d.get("title", ""),
            "place": d.get("place"),
        }
    if n.kind == Kind.CHANNELS:
        labels = dict(LiaisonChannel.Kind.choices)
        missing = [str(labels.get(k, k)) for k in d.get("missing", [])]
        return _("还没有建立的联系渠道（%(n)d 类）：%(kinds)s") % {
            "n": len(missing),
            "kinds": "、".join(missing),
        }
    return ""


# --- The weekly digest ----------------------------------------------------------------------


def _digest_message(user: dict, items: list[Notification], week: datetime.date) -> EmailMessage:
    site = settings.LIANQING_SITE_URL.rstrip("/")
    with translation.override(settings.LANGUAGE_CODE):
        for n in items:
            n.url = site + notification_url(n)  # type: ignore[attr-defined]
            n.text = describe(n)  # type: ignore[attr-defined]
        context = {
            "name": user["name"],
            "items": items,
            "week": week,
            "today": timezone.localdate(),
            "centre_url": site + reverse("notifications:centre"),
            "settings_url": site + reverse("notifications:settings"),
        }
        subject = render_to_string("assessment/email/digest_subject.txt", context)
        body = render_to_string("assessment/email/digest.txt", context)
    return EmailMessage(
        subject=" ".join(subject.split()),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user["email"]],
    )


def _wanted(week: datetime.date) -> QuerySet[User]:
    return (
        User.objects.filter(is_active=True, notification_preference__weekly_digest=True)
        .exclude(email="")
        .filter(Exists(Notification.objects.filter(user=OuterRef("pk"), read_at__isnull=True)))
        .exclude(Exists(DigestSent.objects.filter(user=OuterRef("pk"), week=week)))
    )


def _digest_order(n: Notification) -> tuple:
    """Most pressing first: needs, follow-ups, tomorrow's activities, then the weekly lists."""
    return (KINDS.index(n.kind), n.due_on or datetime.date.max, n.pk)


PREF_FIELDS = tuple(f"notification_preference__{k}" for k in KINDS)


def digests_send(*, today: datetime.date | None = None, batch_size: int = 200) -> int:
    """Mail this week's digest to every user who asked for it; returns how many were sent.

    For each batch of users (keyset order by id), five queries whatever its size:
    1. the next users who want a digest, have an address and something unread, and have none
       recorded for this week;
    2. claim them: insert (user, week, claim) rows, skipping any (user, week) already there;
    3. read back which rows carry this run's claim: only those users are mailed (two workers
       running at once each get their own share, never the same user);
    4. their unread reminders of the kinds they keep on;
    5. after sending on one connection, forget the claims of the messages that failed, so the
       next run tries them again.
    """
    today = today or timezone.localdate()
    week = week_start(today)
    sent = 0
    last_id = 0
    with get_connection() as connection:
        while True:
            batch = list(
                _wanted(week)
                .filter(pk__gt=last_id)
                .order_by("pk")
                .values("pk", "email", "first_name", "last_name", "username", *PREF_FIELDS)[
                    :batch_size
                ]
            )
            if not batch:
                break
            last_id = batch[-1]["pk"]
            claim = uuid.uuid4()
            DigestSent.objects.bulk_create(
                [DigestSent(user_id=u["pk"], week=week, claim=claim) for u in batch],
                ignore_conflicts=True,
            )
            mine = set(
                DigestSent.objects.filter(week=week, claim=claim).values_list("user_id", flat=True)
            )
            items: dict[int, list[Notification]] = defaultdict(list)
            unread = Notification.objects.filter(user_id__in=mine, read_at__isnull=True)
            for n in sorted(unread, key=_digest_order):
                items[n.user_id].append(n)
            failed: list[int] = []
            for user in batch:
                kept = [
                    n
                    for n in items.get(user["pk"], [])
                    if user[f"notification_preference__{n.kind}"] is not False
                ]
                if user["pk"] not in mine:
                    continue
                if not kept:
                    failed.append(user["pk"])  # nothing to say after all: no mail, no record
                    continue
                user["name"] = (
                    f"{user['last_name']}{user['first_name']}".strip() or user["username"]
                )
                try:
                    connection.send_messages([_digest_message(user, kept, week)])
                except Exception:  # one bad address or a dropped connection: retried next run
                    logger.exception("digest to user %s failed", user["pk"])
                    failed.append(user["pk"])
                    continue
                sent += 1
            if failed:
                DigestSent.objects.filter(week=week, claim=claim, user_id__in=failed).delete()
    return sent
