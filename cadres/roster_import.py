"""The roster import: an upload kept, checked row by row (a job, cadres/jobs.py), previewed,
then committed all or nothing (cadres.services re-exports these entry points)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from . import roster
from .models import Cadre, Organisation, RosterImport, User, Youth
from .scoping import scope_queryset
from .services import cadre_link_refusals, cadre_may_link_organisation, cadre_youths_link
from .spreadsheet import RosterFileError

# --- Roster import: prepare (check + preview), then commit all or nothing. ---

# Reported on a row whose phone belongs to a youth the importer may not see. It says neither where
# nor whom: the upload must not tell a township who is registered in another one.
PHONE_HELD_ELSEWHERE = _lazy("已在其他组织登记，请联系上级团委")


def _import_scope(by: User | None) -> QuerySet[Youth]:
    """The youths an import may match: the importer's scope. Without a user (the command line,
    run by whoever operates the server) the whole registry."""
    youths = Youth.objects.filter(erased_at__isnull=True)
    return youths if by is None else scope_queryset(youths, user=by)


def roster_import_prepare(
    *,
    data: bytes,
    filename: str,
    organisation: Organisation,
    cadre: Cadre | None = None,
    by: User | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RosterImport:
    """Check an uploaded roster at once and keep it for preview (the command line; the web page
    runs the same check as a job: `roster_import_new`, then `roster_import_check`)."""
    record = roster_import_new(filename=filename, organisation=organisation, cadre=cadre, by=by)
    return roster_import_check(roster_import=record, data=data, by=by, progress=progress)


def roster_import_new(
    *,
    filename: str,
    organisation: Organisation,
    cadre: Cadre | None = None,
    by: User | None = None,
    upload: bytes = b"",
) -> RosterImport:
    """An upload waiting for its check (status CHECKING, the file kept in `upload`).

    With a cadre, the new youths' organisation must lie in the cadre's own subtree (the
    linking rule), or nothing is kept."""
    if cadre is not None and not cadre_may_link_organisation(
        cadre=cadre, organisation=organisation
    ):
        raise ValidationError(
            {"cadre": _("团干部只能联系本组织及下级组织的青年：请选择团干部所在组织或其下级组织。")}
        )
    return RosterImport.objects.create(
        created_by=by,
        filename=roster.clean_filename(filename),
        organisation=organisation,
        cadre=cadre,
        status=RosterImport.Status.CHECKING,
        upload=upload,
    )


def roster_import_check(
    *,
    roster_import: RosterImport,
    data: bytes,
    by: User | None,
    progress: Callable[[int, int], None] | None = None,
) -> RosterImport:
    """Check an uploaded roster and keep it for preview.

    1. read the file (xlsx / CSV in UTF-8, UTF-8-BOM or GBK) and check every row;
    2. a file-level problem (empty, unreadable, missing columns) becomes a one-line report;
    3. match the rows against the youths the importer may see (`_plan_roster`): a phone held
       outside that scope, a youth the cadre may not link, or links past the cadre's ceiling are
       row problems; the preview counts only in-scope matches;
    4. store the result (INVALID with the report, or PREVIEW) and drop the uploaded file.
    Nothing but the RosterImport row is written; a file with errors can never be committed.
    """
    record = roster_import
    record.upload = b""
    fields = ["status", "errors", "rows", "n_new", "n_matched", "upload"]
    try:
        parsed = roster.parse_roster(data, record.filename, progress=progress)
    except RosterFileError as exc:
        record.status = RosterImport.Status.INVALID
        record.errors = [{"row": None, "column": "", "problem": str(exc)}]
        record.save(update_fields=fields)
        return record
    if parsed.errors:
        record.status = RosterImport.Status.INVALID
        record.errors = [e.as_dict() for e in parsed.errors]
        record.save(update_fields=fields)
        return record
    plan = _plan_roster(parsed.rows, youths=_import_scope(by), cadre=record.cadre)
    if plan.errors:
        record.status = RosterImport.Status.INVALID
        record.errors = [e.as_dict() for e in plan.errors]
        record.save(update_fields=fields)
        return record
    record.status = RosterImport.Status.PREVIEW
    record.n_new, record.n_matched = len(plan.new), len(parsed.rows) - len(plan.new)
    del plan
    with transaction.atomic():
        _save_rows(record, parsed.rows)
        record.save(update_fields=[f for f in fields if f != "rows"])
    record.rows = parsed.rows
    return record


_ROWS_CHUNK = 5000


def _save_rows(record: RosterImport, rows: list[dict]) -> None:
    """Store the checked rows. On PostgreSQL one JSON line per row is copied into a temporary
    table and aggregated into the jsonb array by one UPDATE: a single UPDATE carrying 100,000
    rows built three copies of a 21 MB text (JSON, quoted, statement), 60 MB at the job's peak,
    and appending chunk by chunk rewrote the growing array each time."""
    if connection.vendor != "postgresql":
        RosterImport.objects.filter(pk=record.pk).update(rows=rows)
        return
    import io
    import json

    table = RosterImport._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS roster_rows_load (n bigserial, value text)"
            " ON COMMIT DROP"
        )
        for start in range(0, len(rows), _ROWS_CHUNK):
            buffer = io.StringIO()
            for row in rows[start : start + _ROWS_CHUNK]:
                buffer.write(_copy_text(json.dumps(row, ensure_ascii=False)) + "\n")
            buffer.seek(0)
            cursor.cursor.copy_expert("COPY roster_rows_load (value) FROM STDIN", buffer)
        cursor.execute(
            f'UPDATE "{table}" SET rows = (SELECT coalesce(jsonb_agg(value::jsonb ORDER BY n),'
            " '[]'::jsonb) FROM roster_rows_load) WHERE id = %s",
            [record.pk],
        )
        cursor.execute("DROP TABLE roster_rows_load")


def roster_rows(pk: int) -> list[dict]:
    """The checked rows of an import. On PostgreSQL read through a server-side cursor, a chunk
    at a time: the whole array as one text, then parsed, was a 21 MB string beside its rows.
    Each chunk is parsed as one JSON array so that its rows share their key strings."""
    if connection.vendor != "postgresql":
        return RosterImport.objects.values_list("rows", flat=True).get(pk=pk)
    import json

    table = RosterImport._meta.db_table
    rows: list[dict] = []
    cursor = connection.chunked_cursor()
    try:
        cursor.execute(
            f'SELECT e.value::text FROM "{table}" r, jsonb_array_elements(r.rows) WITH ORDINALITY'
            " AS e(value, n) WHERE r.id = %s ORDER BY e.n",
            [pk],
        )
        while batch := cursor.fetchmany(_ROWS_CHUNK):
            rows.extend(json.loads("[" + ",".join(text for (text,) in batch) + "]"))
    finally:
        cursor.close()
    return rows


def roster_preview(pk: int, n: int = 20) -> tuple[list[dict], int]:
    """The first `n` checked rows and how many there are, without reading them all."""
    if connection.vendor != "postgresql":
        rows = RosterImport.objects.values_list("rows", flat=True).get(pk=pk)
        return rows[:n], len(rows)
    import json

    table = RosterImport._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT jsonb_path_query_array(rows, '$[0 to {int(n) - 1}]')::text,"
            f' jsonb_array_length(rows) FROM "{table}" WHERE id = %s',
            [pk],
        )
        first, count = cursor.fetchone()
    return json.loads(first), count


@dataclass
class _RosterPlan:
    new: list[dict] = field(default_factory=list)  # rows that create a youth
    # row number -> the existing youth's pk, or ("row", n): the same youth as earlier row n
    matched: dict[int, int | tuple[str, int]] = field(default_factory=dict)
    errors: list[roster.RowError] = field(default_factory=list)


def _plan_roster(rows: list[dict], *, youths: QuerySet[Youth], cadre: Cadre | None) -> _RosterPlan:
    """Decide, row by row, what a roster does; nothing is written.

    1. match rows against `youths` (the importer's scope) only; a phone registered to a youth
       outside it is a row problem (PHONE_HELD_ELSEWHERE), never a match;
    2. a row repeating an earlier row of the file is that row's youth;
    3. with a cadre, every distinct youth of the file goes through `cadre_link_refusals` in
       file order (the linking rule and the ceiling): a refusal is a problem on its row.
    """
    plan = _RosterPlan()
    existing = roster.match_existing(rows, youths=youths)
    elsewhere = roster.phones_held_outside(rows, youths=youths)
    phone_column = roster.COLUMNS["phone"][0]
    seen: dict[object, int] = {}
    for row in rows:
        number = row["row"]
        if row["phone"] in elsewhere and number not in existing:
            plan.errors.append(roster.RowError(number, phone_column, str(PHONE_HELD_ELSEWHERE)))
            continue
        if number in existing:
            plan.matched[number] = existing[number]
            continue
        earlier = next((seen[k] for k in roster.identity_keys(row) if k in seen), None)
        if earlier is not None:
            plan.matched[number] = ("row", earlier)
            continue
        for key in roster.identity_keys(row):
            seen[key] = number
        plan.new.append(row)
    if cadre is not None and not plan.errors:
        # One entry per distinct youth, at its first row: a youth repeated in the file, or
        # matched twice, is linked (and counted) once.
        first_row: dict[object, int] = {}
        for row in rows:
            target = plan.matched.get(row["row"], ("row", row["row"]))
            youth_key: object = ("row", target[1]) if isinstance(target, tuple) else target
            first_row.setdefault(youth_key, row["row"])
        keys = list(first_row)
        refusals = cadre_link_refusals(
            cadre=cadre,
            youth_ids=[None if isinstance(k, tuple) else cast(int, k) for k in keys],
        )
        for position, problem in sorted(refusals.items()):
            plan.errors.append(roster.RowError(first_row[keys[position]], "", problem))
        plan.errors.sort(key=lambda e: e.row)
    return plan


def _plan_problems(errors: list[roster.RowError], limit: int = 10) -> ValidationError:
    lines = [
        _("第 %(row)s 行：%(problem)s") % {"row": e.row, "problem": e.problem}
        for e in errors[:limit]
    ]
    if len(errors) > limit:
        lines.append(_("……另有 %(n)s 处问题。") % {"n": len(errors) - limit})
    lines.append(_("登记情况在预览后有变化，未导入任何数据；请重新上传。"))
    return ValidationError(lines)


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
    *,
    roster_import: RosterImport,
    by: User | None,
    progress: Callable[[int, int], None] | None = None,
) -> RosterImport:
    """Write a previewed roster: all rows or none.

    1. lock the import row (and the cadre's, for the ceiling); only a clean, not yet committed
       preview goes on;
    2. match again in the committing user's scope (the registry may have changed since the
       preview): any row problem now refuses the whole commit, with the rows named;
    3. insert the new youths with their history rows, in batches (COPY on PostgreSQL);
    4. link every youth of the file to the cadre (if any) through `cadre_youths_link`, which
       enforces the linking rule and the ceiling once more;
    5. mark the import done with its counts.
    """
    record = (
        RosterImport.objects.select_for_update().defer("rows", "upload").get(pk=roster_import.pk)
    )
    _lock_roster_commits()
    if record.status not in (RosterImport.Status.PREVIEW, RosterImport.Status.COMMITTING):
        raise ValidationError(_("这个导入已完成或有错误，不能再次导入。"))
    cadre = None
    if record.cadre_id:
        cadre = (
            Cadre.objects.select_for_update().select_related("organisation").get(pk=record.cadre_id)
        )
        if not cadre_may_link_organisation(cadre=cadre, organisation=record.organisation):
            raise ValidationError(_("团干部已不在青年所属组织的上级，不能导入；请重新上传。"))
    rows = roster_rows(record.pk)
    # The cadre's rules are checked once, by cadre_youths_link below (the preview reported them
    # row by row; a refusal now means the registry changed since, and rolls everything back).
    plan = _plan_roster(rows, youths=_import_scope(by), cadre=None)
    if plan.errors:
        raise _plan_problems(plan.errors)
    new, matched = plan.new, plan.matched
    if connection.vendor == "postgresql":
        created_by_row = _copy_new_youths(
            new, organisation_id=record.organisation_id, by=by, progress=progress
        )
    else:
        created_by_row = _create_new_youths(
            new, organisation_id=record.organisation_id, by=by, progress=progress
        )

    n_linked = 0
    if cadre is not None:
        linked_on: dict[int, datetime.date | None] = {}
        for r in rows:
            target = matched.get(r["row"])
            if target is None:
                pk = created_by_row[r["row"]]
            elif isinstance(target, tuple):
                pk = created_by_row[target[1]]  # an earlier row of the file, created above
            else:
                pk = target
            day = datetime.date.fromisoformat(r["linked_on"]) if r["linked_on"] else None
            linked_on.setdefault(pk, day)
        try:
            n_linked = cadre_youths_link(cadre=cadre, youths=linked_on, by=by)
        except ValidationError as exc:
            raise ValidationError([*exc.messages, _("未导入任何数据；请重新上传。")]) from None

    record.status = RosterImport.Status.DONE
    record.n_new, record.n_matched, record.n_linked = len(new), len(rows) - len(new), n_linked
    record.committed_at = timezone.now()
    record.save(update_fields=["status", "n_new", "n_matched", "n_linked", "committed_at"])
    return record


_BATCH = 5000


def _new_youth_values(row: dict, organisation_id: int) -> dict[str, object]:
    """The columns of a youth created from a checked roster row (the one place they are named)."""
    return {
        "name": row["name"],
        "gender": row["gender"],
        "birth_year": row["birth_year"],
        "sector_id": row["sector_id"],
        "unit": row["unit"],
        "organisation_id": organisation_id,
        "phone": row["phone"],
        "wechat_id": row["wechat_id"],
        "notes": row["notes"],
    }


def _create_new_youths(
    new: list[dict],
    *,
    organisation_id: int,
    by: User | None,
    progress: Callable[[int, int], None] | None,
) -> dict[int, int]:
    """Other databases (SQLite in development): bulk_create with history, in batches."""
    from simple_history.utils import bulk_create_with_history

    created_by_row: dict[int, int] = {}
    for start in range(0, len(new), _BATCH):
        chunk = new[start : start + _BATCH]
        youths = [Youth(**_new_youth_values(r, organisation_id)) for r in chunk]
        youths = bulk_create_with_history(youths, Youth, batch_size=_BATCH, default_user=by)
        if any(y.pk is None for y in youths):  # databases that do not return ids
            raise RuntimeError("bulk_create did not return primary keys")
        for r, youth in zip(chunk, youths, strict=True):
            created_by_row[r["row"]] = youth.pk
        if progress is not None:
            progress(min(start + _BATCH, len(new)), len(new))
    return created_by_row


def _copy_text(value: object) -> str:
    """One value in COPY's text format, exactly (a roster's notes may hold tabs and newlines)."""
    if value is None:
        return r"\N"
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return (
        str(value)
        .replace("\\", "\\\\")
        .replace("\t", "\\t")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
    )


def _copy_new_youths(
    new: list[dict],
    *,
    organisation_id: int,
    by: User | None,
    progress: Callable[[int, int], None] | None,
) -> dict[int, int]:
    """PostgreSQL: the new youths and their "+" history rows through COPY, in batches.

    bulk_create_with_history built two model instances per row and took 58 s (and 270 MB) for
    100,000 rows on the loaded 2-core machine; COPY of plain tuples takes a few seconds. The ids
    are reserved from the table's sequence first (one query), so the history rows and the links
    can name them without reading anything back."""
    if not new:
        return {}
    import io

    history = Youth.history.model
    youth_table, history_table = Youth._meta.db_table, history._meta.db_table
    now = timezone.now()
    values = list(_new_youth_values(new[0], organisation_id))
    youth_columns = ["id", *values, "created_at", "erased_at"]
    history_columns = [
        "id",
        *values,
        "erased_at",
        "history_date",
        "history_change_reason",
        "history_type",
        "history_user_id",
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [youth_table, len(new)],
        )
        ids = [pk for (pk,) in cursor.fetchall()]
        created_by_row = {r["row"]: pk for r, pk in zip(new, ids, strict=True)}
        for start in range(0, len(new), _BATCH):
            youths, histories = io.StringIO(), io.StringIO()
            for r, pk in zip(new[start : start + _BATCH], ids[start : start + _BATCH], strict=True):
                cells = [_copy_text(v) for v in _new_youth_values(r, organisation_id).values()]
                youths.write("\t".join([str(pk), *cells, now.isoformat(), r"\N"]) + "\n")
                histories.write(
                    "\t".join(
                        [
                            str(pk),
                            *cells,
                            r"\N",
                            now.isoformat(),
                            r"\N",
                            "+",
                            str(by.pk) if by is not None else r"\N",
                        ]
                    )
                    + "\n"
                )
            for table, columns, buffer in (
                (youth_table, youth_columns, youths),
                (history_table, history_columns, histories),
            ):
                buffer.seek(0)
                cursor.cursor.copy_expert(
                    f'COPY "{table}" ({", ".join(columns)}) FROM STDIN', buffer
                )
            if progress is not None:
                progress(min(start + _BATCH, len(new)), len(new))
    return created_by_row
