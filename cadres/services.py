"""Writes of the cadres app: the organisation tree and users."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import connection, transaction
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
    RosterImport,
    Sector,
    User,
    Youth,
)


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
        if parent.path.startswith(org.path):
            raise ValidationError({"parent": _("不能把组织移到它自己或它的下级组织之下。")})
    org.name, org.kind, org.is_active = name, kind, is_active
    if (parent.pk if parent else None) != org.parent_id:
        old_path = org.path
        new_path = (parent.path if parent else "") + _segment(org.pk)
        depth_shift = ((parent.depth + 1) if parent else 0) - org.depth
        Organisation.objects.filter(path__startswith=old_path).update(
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

_FULL_WIDTH = str.maketrans("０１２３４５６７８９＋－　（）", "0123456789+- ()")


def normalise_phone(raw: str) -> str:
    """A mainland mobile number as 11 digits, from what people actually type or paste.

    Accepts full-width digits, spaces, dashes, brackets and a +86 / 0086 / 86 prefix; returns ""
    for an empty value and raises ValidationError (Chinese message) for anything else.
    """
    text = (raw or "").translate(_FULL_WIDTH).strip()
    if not text:
        return ""
    digits = "".join(ch for ch in text if ch.isdigit())
    if text.startswith("+86") or (digits.startswith("0086") and len(digits) == 15):
        digits = digits[2:] if text.startswith("+86") else digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) != 11 or not digits.startswith("1") or digits[1] not in "3456789":
        raise ValidationError(_("手机号格式不正确：应为 11 位手机号码，例如 13812345678。"))
    return digits


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
    youth._history_user = by
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
    """Put a youth in a cadre's list; linking twice keeps the first link (idempotent)."""
    if channel is not None and channel.cadre_id != cadre.pk:
        raise ValidationError({"channel": _("联系渠道不属于该团干部。")})
    link, created = CadreYouth.objects.get_or_create(
        cadre=cadre,
        youth=youth,
        defaults={"channel": channel, "linked_on": linked_on or timezone.localdate()},
    )
    if created and by is not None:
        link.history.filter(history_type="+").update(history_user=by)
    if created:
        cadre_progress_refresh(cadre_ids=[cadre.pk])
    return link


def cadre_progress_refresh(*, cadre_ids: Iterable[int] | None = None) -> int:
    """Recount the stored quota progress (youths, fields, channel kinds) of these cadres, or of
    every cadre when None: one set-based UPDATE. Call it after any write to CadreYouth,
    LiaisonChannel or a youth's sector that does not go through a cadres service (bulk loads,
    admin). Returns the number of cadres updated."""
    from .selectors import progress_counts

    cadres = Cadre.objects.all()
    if cadre_ids is not None:
        ids = sorted(set(cadre_ids))
        if not ids:
            return 0
        cadres = cadres.filter(pk__in=ids)
    # 1. make sure every cadre concerned has its row (new cadres have none yet);
    missing = cadres.filter(progress_counts__isnull=True).values_list("pk", flat=True)
    CadreProgress.objects.bulk_create(
        [CadreProgress(cadre_id=pk) for pk in missing], ignore_conflicts=True, batch_size=5000
    )
    # 2. recount them all in one UPDATE.
    rows = CadreProgress.objects.all()
    if cadre_ids is not None:
        rows = rows.filter(cadre_id__in=ids)
    return rows.update(**progress_counts())


def cadre_ids_holding(*, youth_ids: Iterable[int]) -> list[int]:
    """Cadres whose progress depends on these youths (e.g. after a youth's field changed)."""
    return list(
        CadreYouth.objects.filter(youth_id__in=list(youth_ids))
        .values_list("cadre_id", flat=True)
        .distinct()
    )


# --- Roster import: prepare (check + preview), then commit all or nothing. ---


def roster_import_prepare(
    *,
    data: bytes,
    filename: str,
    organisation: Organisation,
    cadre: Cadre | None = None,
    by: User | None = None,
    progress=None,
) -> RosterImport:
    """Check an uploaded roster and keep it for preview.

    1. read the file (xlsx / CSV in UTF-8, UTF-8-BOM or GBK) and check every row;
    2. a file-level problem (empty, unreadable, missing columns) becomes a one-line report;
    3. count how many rows match youths already registered, so the preview says so.
    Nothing but the RosterImport row is written; a file with errors can never be committed.
    """
    from . import roster

    if (
        cadre is not None
        and cadre.organisation_id != organisation.pk
        and not (
            cadre.organisation.path.startswith(organisation.path)
            or organisation.path.startswith(cadre.organisation.path)
        )
    ):
        raise ValidationError({"cadre": _("团干部与青年所属组织不在同一组织体系内。")})
    record = RosterImport(
        created_by=by,
        filename=roster.clean_filename(filename),
        organisation=organisation,
        cadre=cadre,
    )
    try:
        parsed = roster.parse_roster(data, filename, progress=progress)
    except roster.RosterFileError as exc:
        record.status = RosterImport.Status.INVALID
        record.errors = [{"row": None, "column": "", "problem": str(exc)}]
        record.save()
        return record
    if parsed.errors:
        record.status = RosterImport.Status.INVALID
        record.errors = [e.as_dict() for e in parsed.errors]
        record.save()
        return record
    new, matched = _plan_roster(parsed.rows)
    record.status = RosterImport.Status.PREVIEW
    record.rows = parsed.rows
    record.n_new, record.n_matched = len(new), len(parsed.rows) - len(new)
    record.save()
    return record


def _plan_roster(rows: list[dict]) -> tuple[list[dict], dict[int, object]]:
    """Split rows into youths to create and rows that are an existing youth or repeat an
    earlier row of the same file. Returns (rows to create, row -> existing pk or earlier row)."""
    from . import roster

    existing = roster.match_existing(rows)
    seen: dict[tuple, int] = {}
    new: list[dict] = []
    matched: dict[int, object] = {}
    for row in rows:
        if row["row"] in existing:
            matched[row["row"]] = existing[row["row"]]
            continue
        earlier = next((seen[k] for k in roster.identity_keys(row) if k in seen), None)
        if earlier is not None:
            matched[row["row"]] = ("row", earlier)
            continue
        for key in roster.identity_keys(row):
            seen[key] = row["row"]
        new.append(row)
    return new, matched


# pg_advisory_xact_lock(class, key) of roster commits: "LQ" and "roster".
_ROSTER_LOCK = (0x4C51, 0x524F5354)


def _lock_roster_commits() -> None:
    """Serialise roster commits: one at a time per deployment, until the transaction ends.

    Why a lock and not a uniqueness rule: two concurrent commits of the same or overlapping
    rosters each matched the registry before the other had written, so both created the same
    youths (2 of 4 trials). The match is by phone OR by name + birth year + unit, and phones are
    optional and sometimes shared (a parent's phone); no unique constraint can express that, and
    one on the phone alone would refuse legacy data and youths who share a phone. With the lock,
    the second commit waits, then matches again (step 2) and finds the first one's youths.
    One lock for the whole registry rather than per organisation: matching spans organisations,
    so overlapping rosters of two townships race just the same. Commits are rare and take
    seconds; a queue of them is harmless. SQLite (development) serialises writers by itself.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", list(_ROSTER_LOCK))


@transaction.atomic
def roster_import_commit(
    *, roster_import: RosterImport, by: User | None, progress=None
) -> RosterImport:
    """Write a previewed roster: all rows or none.

    1. lock the import row; only a clean, not yet committed preview goes on;
    2. match duplicates again (the registry may have changed since the preview);
    3. bulk-create the new youths with their history rows, in batches;
    4. bulk-link every youth of the file to the cadre (if any), skipping existing links;
    5. mark the import done with its counts.
    """
    from simple_history.utils import bulk_create_with_history

    record = RosterImport.objects.select_for_update().get(pk=roster_import.pk)
    _lock_roster_commits()
    if record.status != RosterImport.Status.PREVIEW:
        raise ValidationError(_("这个导入已完成或有错误，不能再次导入。"))
    rows = record.rows
    new, matched = _plan_roster(rows)
    batch = 2000
    created_by_row: dict[int, int] = {}
    for start in range(0, len(new), batch):
        chunk = new[start : start + batch]
        youths = [
            Youth(
                name=r["name"],
                gender=r["gender"],
                birth_year=r["birth_year"],
                sector_id=r["sector_id"],
                unit=r["unit"],
                organisation_id=record.organisation_id,
                phone=r["phone"],
                wechat_id=r["wechat_id"],
                notes=r["notes"],
            )
            for r in chunk
        ]
        youths = bulk_create_with_history(youths, Youth, batch_size=batch, default_user=by)
        if any(y.pk is None for y in youths):  # databases that do not return ids
            raise RuntimeError("bulk_create did not return primary keys")
        for r, youth in zip(chunk, youths, strict=True):
            created_by_row[r["row"]] = youth.pk
        if progress is not None:
            progress(min(start + batch, len(new)), len(new))

    n_linked = 0
    if record.cadre_id:
        youth_for_row: dict[int, tuple[int, str | None]] = {}
        for r in rows:
            target = matched.get(r["row"])
            if target is None:
                pk = created_by_row[r["row"]]
            elif isinstance(target, tuple):
                pk = created_by_row[target[1]]  # an earlier row of the file, created above
            else:
                pk = target
            youth_for_row.setdefault(pk, (pk, r["linked_on"]))
        # A cadre holds hundreds of youths, not millions: their existing links fit in memory.
        already = set(
            CadreYouth.objects.filter(cadre_id=record.cadre_id).values_list("youth_id", flat=True)
        )
        today = timezone.localdate()
        links = [
            CadreYouth(
                cadre_id=record.cadre_id,
                youth_id=pk,
                linked_on=datetime.date.fromisoformat(linked) if linked else today,
            )
            for pk, linked in youth_for_row.values()
            if pk not in already
        ]
        bulk_create_with_history(links, CadreYouth, batch_size=batch, default_user=by)
        n_linked = len(links)
        cadre_progress_refresh(cadre_ids=[record.cadre_id])

    record.status = RosterImport.Status.DONE
    record.n_new, record.n_matched, record.n_linked = len(new), len(rows) - len(new), n_linked
    record.committed_at = timezone.now()
    record.save(update_fields=["status", "n_new", "n_matched", "n_linked", "committed_at"])
    return record
