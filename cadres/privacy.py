"""Personal data a youth can take back (PIPL arts. 19, 28, 31, 47): consent records, erasure on
request, the retention rule, and the youth's own "加入联系" (self-join with consent).

Writes of the cadres app, re-exported by `cadres.services` (`youth_erase`, `consent_record`,
`youth_self_join`). This module imports `cadres.services` only inside functions: services imports
it at load time.

Erasure anonymises rather than deletes the Youth row: contacts, attendances and stored scores
refer to it, and their counts must not change when a person leaves. What identified the person
(name, phone, WeChat, unit, notes, gender; their historical rows; their name and phone in other
tables' text) is gone; what remains is a row "（已删除）" with a field, an organisation and a birth
year, reached by no list, search or page.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import importlib.util
import json
from collections.abc import Callable, Iterable, Iterator

from django.apps import apps
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.fields import TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from .models import (
    Cadre,
    CadreYouth,
    Consent,
    ErasureLog,
    ExportJob,
    ExportLog,
    Organisation,
    RosterImport,
    Sector,
    User,
    Youth,
)
from .phones import normalise_phone
from .scoping import seen_by_q
from .selectors import linkable_youths

# What an erased youth is called everywhere the row still appears (a contact's youth list).
ERASED_NAME = "（已删除）"
# What replaces the person's name, phone or WeChat ID inside other people's text.
REDACTED = "［已删除］"

# The wording a youth agrees to on the self-join page. A change of wording is a new version:
# each Consent records the version it was given to.
CONSENT_WORDING_VERSION = "join-2026-12"
CONSENT_WORDING = _lazy(
    "我同意团干部%(cadre)s（%(org)s）保存我填写的姓名、手机号、领域、单位和出生年份，"
    "用于与我联系、了解和帮助解决我的需求，不用于其他用途。我可以随时联系团委撤回同意并要求删除这些信息。"
)
GUARDIAN_WORDING = _lazy("我是该青年的监护人（父母或其他监护人），同意以上内容。")

# Said when the phone belongs to a youth the cadre may not see: neither where nor whom.
JOIN_PHONE_HELD = _lazy("该手机号已登记，请联系团委核实")


# --- Consent ---------------------------------------------------------------------------------


def consent_record(
    *,
    youth: Youth,
    purpose: str = Consent.Purpose.CONTACT,
    wording_version: str,
    method: str,
    cadre: Cadre | None = None,
    guardian_consent: bool = False,
    by: User | None = None,
) -> Consent:
    """Record that `youth` agreed to `purpose` under this wording version, now."""
    return Consent.objects.create(
        youth=youth,
        purpose=purpose,
        wording_version=wording_version,
        method=method,
        cadre=cadre,
        guardian_consent=guardian_consent,
        recorded_by=by,
    )


# --- Self-join --------------------------------------------------------------------------------

_JOIN_SALT = "lianqing.cadres.join"


def join_token(cadre: Cadre) -> str:
    """The token in a cadre's "加入联系" link (/join/<token>/): the cadre's id, signed, so that
    nobody can walk /join/1/, /join/2/ … to collect every cadre's name and organisation."""
    return signing.Signer(salt=_JOIN_SALT).sign(str(cadre.pk))


def cadre_for_join_token(token: str) -> Cadre | None:
    """The active cadre a join token names, or None (forged, truncated, or the cadre left)."""
    try:
        pk = int(signing.Signer(salt=_JOIN_SALT).unsign(token))
    except (signing.BadSignature, ValueError):
        return None
    today = timezone.localdate()
    return (
        Cadre.objects.select_related("organisation")
        .filter(Q(active_until__isnull=True) | Q(active_until__gte=today), pk=pk)
        .first()
    )


# pg_advisory_xact_lock(class, key) of self-joins: "LQ" and a hash of the phone.
_JOIN_LOCK_CLASS = 0x4C51


def _lock_phone(phone: str) -> None:
    """Serialise self-joins of one phone number: a youth who taps "提交" twice, or two phones
    submitting the same number at once, make one record. SQLite serialises writers itself."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [_JOIN_LOCK_CLASS, phone]
            )


@transaction.atomic
def youth_self_join(
    *,
    cadre: Cadre,
    name: str,
    phone: str,
    sector: Sector,
    birth_year: int,
    unit: str = "",
    gender: str = "",
    consent: bool,
    guardian_consent: bool = False,
    wording_version: str = CONSENT_WORDING_VERSION,
) -> Youth:
    """A youth adds themself to `cadre`'s list from the cadre's contact card ("加入联系").

    1. explicit consent is required, and for a minor under 14 the guardian's too (PIPL art. 31);
    2. under a lock on the phone number: the phone of a youth the cadre may link (the cadre's
       subtree) is that youth; the phone of anybody else refuses with JOIN_PHONE_HELD, which
       says neither where nor whom; otherwise a new youth in the cadre's organisation;
    3. the link through `cadre_youth_link` (the linking rule and the ceiling), then the Consent
       with its wording version. Joining twice changes nothing but adds the consent again.
    """
    from . import services

    if not consent:
        raise ValidationError({"consent": _("请阅读并勾选同意后再提交。")})
    if birth_year >= Youth.minor_birth_year_floor() and not guardian_consent:
        raise ValidationError(
            {"guardian_consent": _("未满14周岁的青年需由监护人同意：请监护人勾选此项。")}
        )
    phone = normalise_phone(phone)
    if not phone:
        raise ValidationError({"phone": _("请填写手机号。")})
    _lock_phone(phone)
    youth = linkable_youths(cadre=cadre).filter(phone=phone).order_by("pk").first()
    if youth is None:
        if Youth.objects.filter(phone=phone, erased_at__isnull=True).exists():
            raise ValidationError({"phone": str(JOIN_PHONE_HELD)})
        youth = services.youth_create(
            name=name,
            birth_year=birth_year,
            sector=sector,
            organisation=cadre.organisation,
            gender=gender,
            unit=unit,
            phone=phone,
        )
    try:
        services.cadre_youth_link(cadre=cadre, youth=youth)
    except ValidationError:
        # The ceiling (or a cadre moved away): the public page names no figure.
        raise ValidationError(_("暂时无法加入这名团干部的联系名单，请联系团委。")) from None
    consent_record(
        youth=youth,
        wording_version=wording_version,
        method=Consent.Method.SELF_JOIN,
        cadre=cadre,
        guardian_consent=guardian_consent,
    )
    return youth


# --- Erasure ----------------------------------------------------------------------------------


def erasure_tag(youth_pk: int) -> str:
    """The log's reference for an erased youth: a keyed hash of the row id, irreversible without
    the server's key, and the same on every call (the committee can check a reference)."""
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"lianqing-erasure:{youth_pk}".encode(), hashlib.sha256
    )
    return digest.hexdigest()[:16]


def redact(text: str, needles: Iterable[str]) -> str:
    """`text` with every needle (a name, a phone number) replaced by REDACTED."""
    for needle in needles:
        if needle:
            text = text.replace(needle, REDACTED)
    return text


def text_mentions(fields: Iterable[str], needles: Iterable[str]) -> Q:
    """Rows whose text fields contain any of the needles (to redact them)."""
    q = Q(pk__in=[])
    for needle in needles:
        for name in fields:
            q |= Q(**{f"{name}__contains": needle})
    return q


def _needles(youth: Youth) -> list[str]:
    # A one-character "name" would redact half of every Chinese note; names have two or more.
    values = [youth.name.strip() if len(youth.name.strip()) >= 2 else "", youth.phone]
    values.append(youth.wechat_id if len(youth.wechat_id) >= 4 else "")
    return [v for v in values if v]


def _scrub_roster_imports(youth: Youth, needles: list[str]) -> int:
    """Rows of stored roster imports (the preview's JSON) describing this youth: anonymised.

    The JSON is searched as text (a phone is ASCII everywhere; a name may be stored \\u-escaped
    by SQLite's JSON, so both spellings are tried), then rewritten row by row in Python."""
    if not needles:
        return 0
    spellings = set(needles) | {json.dumps(n)[1:-1] for n in needles}
    matches = RosterImport.objects.annotate(text=Cast("rows", TextField())).filter(
        text_mentions(["text"], spellings)
    )
    touched = 0
    for record in matches.only("pk", "rows"):
        changed = False
        rows = []
        for row in record.rows:
            same = (youth.phone and row.get("phone") == youth.phone) or (
                row.get("name") == youth.name and row.get("birth_year") == youth.birth_year
            )
            if same:
                row = {
                    **row,
                    "name": ERASED_NAME,
                    "phone": "",
                    "wechat_id": "",
                    "unit": "",
                    "notes": "",
                    "gender": "",
                }
                changed = True
            rows.append(row)
        if changed:
            RosterImport.objects.filter(pk=record.pk).update(rows=rows)
            touched += 1
    return touched


# Said on an import whose kept upload named an erased youth (the file is dropped unchecked).
UPLOAD_ERASED = _lazy("文件已删除：其中含有一名已删除个人信息的青年（个人信息删除），请重新上传。")


def _drop_pending_uploads(needles: list[str]) -> int:
    """Uploads kept for their background check (status CHECKING, seconds to minutes) that may
    name the person: dropped unchecked, the import refused with UPLOAD_ERASED. A CSV is searched
    as bytes in UTF-8 and GB18030; an .xlsx is compressed, so every pending one is dropped."""
    if not needles:
        return 0
    encoded = [n.encode(codec) for n in needles for codec in ("utf-8", "gb18030")]
    dropped = []
    pending = RosterImport.objects.filter(status=RosterImport.Status.CHECKING).exclude(upload=b"")
    # Locked: a check storing its outcome holds the row until it commits; the row is then
    # re-read and, no longer CHECKING, skipped here (its stored rows are scrubbed next).
    for pk, filename, upload in pending.select_for_update().values_list("pk", "filename", "upload"):
        data = bytes(upload)
        if filename.lower().endswith(".xlsx") or any(n in data for n in encoded):
            dropped.append(pk)
    return RosterImport.objects.filter(pk__in=dropped).update(
        status=RosterImport.Status.INVALID,
        upload=b"",
        rows=[],
        errors=[{"row": None, "column": "", "problem": str(UPLOAD_ERASED)}],
    )


# Said on a checked import, not yet committed, whose rows named an erased youth.
PREVIEW_ERASED = _lazy(
    "导入已作废：名单中含有一名已删除个人信息的青年（个人信息删除），请重新上传。"
)


def _void_uncommitted_previews(youth_pk: int) -> int:
    """Checked imports waiting for (or in) their commit whose rows name the person: voided, the
    preview dropped, the import refused with PREVIEW_ERASED. Scrubbing their rows instead would
    let the commit, which matches the stored rows again, create a youth named ERASED_NAME.

    Locked before the youth row (the commit locks its import, then touches youths: one order,
    no deadlock); a commit holding the lock finishes first and its import, DONE by then, is
    scrubbed like any other."""
    current = Youth.objects.filter(pk=youth_pk).first()
    needles = _needles(current) if current is not None else []
    if not needles:
        return 0
    spellings = set(needles) | {json.dumps(n)[1:-1] for n in needles}
    waiting = RosterImport.objects.filter(
        status__in=[RosterImport.Status.PREVIEW, RosterImport.Status.COMMITTING]
    )
    voided = list(
        waiting.annotate(text=Cast("rows", TextField()))
        .filter(text_mentions(["text"], spellings))
        .select_for_update(of=("self",))
        .values_list("pk", flat=True)
    )
    return RosterImport.objects.filter(pk__in=voided).update(
        status=RosterImport.Status.INVALID,
        rows=[],
        errors=[{"row": None, "column": "", "problem": str(PREVIEW_ERASED)}],
    )


def _scrub_export_logs(needles: list[str]) -> int:
    """An export's filter may have searched for the person by name or phone."""
    touched = 0
    for log in ExportLog.objects.filter(text_mentions(["querystring"], needles)).only(
        "pk", "querystring"
    ):
        ExportLog.objects.filter(pk=log.pk).update(querystring=redact(log.querystring, needles))
        touched += 1
    return touched


def _erase_export_files(youth: Youth, cadre_ids: list[int], now: datetime.datetime) -> int:
    """The export files kept for download (cadres/export_jobs.py, 24 h) that may hold the
    person: deleted, their jobs marked ERASED.

    Rule (over-inclusive on purpose; the user can export again): every unexpired job of a user
    who may see an organisation where the youth appears — the youth's own, or that of a cadre
    who held them or logged a contact with them (contact lists show the youth there). Such a
    user is a superuser, a staff member or admin whose subtree holds that organisation, or the
    cadre themself. Files are not opened: a retention sweep erases many youths at once."""
    from contacts.models import ContactYouth

    from .export_jobs import export_jobs_erase

    cadres = set(cadre_ids) | set(
        ContactYouth.objects.filter(youth=youth).values_list("contact__cadre_id", flat=True)
    )
    paths = [youth.organisation.path]
    paths += Cadre.objects.filter(pk__in=cadres).values_list("organisation__path", flat=True)
    sees = seen_by_q(paths=paths, cadre_ids=cadres)
    jobs = ExportJob.objects.filter(sees, expires_at__gt=now)
    return export_jobs_erase(jobs=jobs)


def _app_hooks() -> Iterator[Callable[..., dict[str, int]]]:
    """Every other app's `<app>/privacy.py:youth_erase_rows`: each app erases in its own tables
    (contacts: notes and needs; activities: sign-ups), as each app seeds its own demo data."""
    for config in apps.get_app_configs():
        module = f"{config.name}.privacy"
        if config.name != "cadres" and importlib.util.find_spec(module) is not None:
            yield importlib.import_module(module).youth_erase_rows


@transaction.atomic
def youth_erase(
    *,
    youth: Youth,
    reason: str,
    by: User | None,
    kind: str = ErasureLog.Kind.REQUEST,
    now: datetime.datetime | None = None,
) -> ErasureLog:
    """Erase a youth's personal data, irreversibly, keeping the counts.

    1. lock the youth row; an erased youth cannot be erased again;
    2. every other app redacts the name, phone and WeChat ID in its own rows and their history
       (`_app_hooks`: contacts' notes, needs' asker fields, sign-ups);
    3. this app: checked imports not yet committed that name them voided (before the youth is
       locked: `_void_uncommitted_previews`); pending uploads that may name them (under row
       locks: a running check stores nothing afterwards), then roster-import rows and export filters naming them;
       export files that may hold them deleted (`_erase_export_files`); consents withdrawn; links to
       cadres ended (they can no longer be contacted; cadres' progress recounted), while the
       contacts, attendances and stored scores that counted them stay;
    4. the Youth row anonymised (ERASED_NAME, no phone, unit, notes) and every historical row of
       it deleted (django-simple-history kept each earlier version);
    5. the ErasureLog: who, when, why, the organisation and a tag; counts of rows, no values.
    """
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写删除原因。")})
    voided = _void_uncommitted_previews(youth.pk)
    locked = Youth.objects.select_for_update().filter(pk=youth.pk).first()
    if locked is None or locked.erased_at is not None:
        raise ValidationError(_("这名青年的个人信息已删除。"))
    youth = locked
    needles = _needles(youth)
    cadre_ids = list(
        CadreYouth.objects.filter(youth=youth).values_list("cadre_id", flat=True).distinct()
    )
    counts: dict[str, int] = {}
    for hook in _app_hooks():
        counts.update(hook(youth=youth, needles=needles, cadre_ids=cadre_ids))
    # Pending uploads first, under their row locks: a check storing its preview now is waited
    # for, and its rows are then scrubbed by the next statement (READ COMMITTED: a statement
    # sees what committed before it began); a check still running finds its import INVALID and
    # stores nothing (`cadres.roster_import._store_check`).
    counts["cadres.RosterImport"] = voided + _drop_pending_uploads(needles)
    counts["cadres.RosterImport"] += _scrub_roster_imports(youth, needles)
    counts["cadres.ExportLog"] = _scrub_export_logs(needles)
    counts["cadres.ExportJob"] = _erase_export_files(youth, cadre_ids, now)
    counts["cadres.Consent"] = Consent.objects.filter(
        youth=youth, withdrawn_at__isnull=True
    ).update(withdrawn_at=now)
    counts["cadres.CadreYouth"], _detail = CadreYouth.objects.filter(youth=youth).delete()
    Youth.objects.filter(pk=youth.pk).update(
        name=ERASED_NAME,
        gender="",
        unit="",
        phone="",
        wechat_id="",
        notes="",
        erased_at=now,
    )
    counts["cadres.HistoricalYouth"], _detail = Youth.history.filter(id=youth.pk).delete()
    if cadre_ids:
        from .services import cadre_progress_refresh

        cadre_progress_refresh(cadre_ids=cadre_ids)
    return ErasureLog.objects.create(
        tag=erasure_tag(youth.pk),
        kind=kind,
        reason=reason[:200],
        erased_by=by,
        organisation_id=youth.organisation_id,
        erased_at=now,
        counts={k: v for k, v in counts.items() if v},
    )


# --- Retention --------------------------------------------------------------------------------


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def retention_candidates(*, today: datetime.date | None = None) -> QuerySet[Youth]:
    """Youths the retention rule anonymises (not yet erased):

    - no link to any cadre, no contact since, and registered before, LIANQING_RETENTION_YEARS
      (default 3) years ago; or
    - past the league age limit (LIANQING_LEAGUE_AGE_LIMIT, 28): older than that in every
      month of this year (only the birth year is known).
    """
    from contacts.models import ContactYouth

    today = today or timezone.localdate()
    cutoff = _years_before(today, settings.LIANQING_RETENTION_YEARS)
    cutoff_at = timezone.make_aware(datetime.datetime.combine(cutoff, datetime.time.min))
    linked = CadreYouth.objects.filter(youth=OuterRef("pk"))
    recent = ContactYouth.objects.filter(youth=OuterRef("pk"), date__gte=cutoff)
    stale = Q(created_at__lt=cutoff_at) & ~Exists(linked) & ~Exists(recent)
    over_age = Q(birth_year__lt=today.year - settings.LIANQING_LEAGUE_AGE_LIMIT - 1)
    return Youth.objects.filter(erased_at__isnull=True).filter(stale | over_age)


def retention_report(*, today: datetime.date | None = None) -> dict:
    """The dry run: how many youths the rule would anonymise, why, and where (no names)."""
    from django.db.models import Count

    today = today or timezone.localdate()
    candidates = retention_candidates(today=today)
    over_age = candidates.filter(
        birth_year__lt=today.year - settings.LIANQING_LEAGUE_AGE_LIMIT - 1
    ).count()
    total = candidates.count()
    by_org = list(
        candidates.values("organisation").annotate(n=Count("pk")).order_by("-n", "organisation")
    )
    names = dict(
        Organisation.objects.filter(pk__in=[r["organisation"] for r in by_org]).values_list(
            "pk", "name"
        )
    )
    return {
        "today": today,
        "total": total,
        "over_age": over_age,
        "stale": total - over_age,
        "by_organisation": [(names[r["organisation"]], r["n"]) for r in by_org],
    }


def retention_apply(
    *,
    today: datetime.date | None = None,
    by: User | None = None,
    seconds: float | None = None,
) -> int:
    """Anonymise every youth `retention_candidates` names; returns how many.

    One `youth_erase` (and one transaction) per youth: a stop half-way leaves every finished
    erasure finished; a rerun finds only the rest. With `seconds`, stop starting new erasures
    after the erasure during which that much time has passed (the beat task's batch, cadres.tasks.retention_sweep)."""
    import time

    started = time.monotonic()
    today = today or timezone.localdate()
    reason = _(
        "超过保存期限：%(years)s 年无联系关系且无联系记录，或超过团员青年年龄上限 %(age)s 岁"
    ) % {
        "years": settings.LIANQING_RETENTION_YEARS,
        "age": settings.LIANQING_LEAGUE_AGE_LIMIT,
    }
    done = 0
    for pk in list(retention_candidates(today=today).values_list("pk", flat=True)):
        youth = Youth.objects.filter(pk=pk, erased_at__isnull=True).first()
        if youth is None:
            continue
        youth_erase(youth=youth, reason=reason, by=by, kind=ErasureLog.Kind.RETENTION)
        done += 1
        # Checked after an erasure: every batch makes progress, however small the budget.
        if seconds is not None and time.monotonic() - started >= seconds:
            break
    return done
