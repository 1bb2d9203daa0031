"""The branch member roster (团员名册), a campaign's electorate and its 领票登记.

One module for the roster's reads and writes (the surveys services were already long):
- `member_create`, `member_update`, `member_end` keep a branch's registered members; an ended
  membership is kept (left_on), never deleted;
- `roster_parse` / `roster_import` read a CSV or XLSX file with the youth roster's bounded,
  hostile-file-safe reader (cadres.spreadsheet.read_table) and the column names of a 智慧团建
  member export, check every row and write all rows or none;
- `electorate_freeze` copies the active roster into the campaign's electors when its ballot
  box opens: later roster edits do not change that campaign;
- `slips_register` records who received a code slip (never which slip, never when).
Who may do all this: staff of an organisation above the branch, as for its ballots
(`branch_get_for_user` → surveys.selectors.branch_choices).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from cadres.models import Gender, Organisation, User
from cadres.phones import normalise_phone
from cadres.roster import RowError
from cadres.spreadsheet import (
    CONTROL_CHARS,
    RosterFileError,
    cell_text,
    read_table,
    row_cells,
    unsafe_cells,
)

from .models import Campaign, Elector, Member

MAX_MEMBERS = 2000  # surveys.campaigns.MAX_ELECTORATE: one code per member
# Column titles as branches send them. The 智慧团建 (zhtj.youth.cn) member export titles its
# columns 姓名, 性别, 出生日期, 入团时间, 手机号码 (older exports and hand-made registers: 出生年月,
# 入团年月, 联系电话 …); the first name of each tuple is the one in our template. Columns not
# listed (民族, 身份证号, 政治面貌, 团员编号 …) are ignored and never stored.
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "团员姓名", "名字"),
    "gender": ("性别",),
    "birth": ("出生年月", "出生日期", "出生年份", "出生年", "出生时间"),
    "joined": ("入团年月", "入团时间", "入团日期", "入团年份"),
    "phone": ("手机号码", "手机号", "手机", "联系电话", "联系方式", "电话"),
}
REQUIRED = ("name", "birth", "joined")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_YEAR_MONTH = re.compile(
    r"^\s*(\d{4})\s*(?:[-/.年]\s*(\d{1,2})\s*(?:[-/.月]\s*(\d{1,2})\s*日?)?\s*月?)?\s*$"
)


# --- Reads -------------------------------------------------------------------------------------


def branch_get_for_user(*, user: User, pk: int | str) -> Organisation:
    """A branch whose roster the user keeps (in scope, below their organisation), else 404."""
    from .selectors import branch_choices

    try:
        return branch_choices(user=user).get(pk=pk)
    except (Organisation.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def member_get_for_user(*, user: User, pk: int | str) -> Member:
    from .selectors import branch_choices

    try:
        return (
            Member.objects.select_related("branch")
            .filter(branch__in=branch_choices(user=user))
            .get(pk=pk)
        )
    except (Member.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def member_list(*, branch: Organisation, include_ended: bool = False) -> QuerySet[Member]:
    qs = Member.objects.filter(branch=branch)
    if not include_ended:
        qs = qs.filter(left_on__isnull=True)
    return qs.order_by("left_on", "name", "pk")


def roster_size(*, branch: Organisation) -> int:
    return Member.objects.filter(branch=branch, left_on__isnull=True).count()


def roster_branches(*, user: User) -> QuerySet[Organisation]:
    """The branches whose rosters the user keeps, with their active member counts (one query)."""
    from .selectors import branch_choices

    return (
        branch_choices(user=user)
        .annotate(members=Count("league_members", filter=Q(league_members__left_on__isnull=True)))
        .order_by("path")
    )


def electors(*, campaign: Campaign) -> QuerySet[Elector]:
    return (
        Elector.objects.filter(campaign=campaign)
        .select_related("member")
        .order_by("member__name", "member_id")
    )


def slips_count(*, campaign: Campaign) -> int:
    return Elector.objects.filter(campaign=campaign, slip_received=True).count()


# --- Writes ------------------------------------------------------------------------------------


def _require_keeper(*, branch: Organisation, by: User) -> None:
    from .campaigns import require_staff_above

    require_staff_above(branch=branch, by=by)


def _clean_member(
    *, name: str, gender: str, birth_year: int, joined_on: datetime.date, phone: str
) -> dict:
    errors: dict[str, str] = {}
    name = (name or "").strip()
    today = timezone.localdate()
    if not name:
        errors["name"] = _("姓名必填。")
    elif len(name) > 50 or CONTROL_CHARS.search(name) or name.startswith(FORMULA_START):
        errors["name"] = _("姓名不能超过 50 个字，也不能以 = + - @ 开头。")
    if gender not in ("", *Gender.values):
        errors["gender"] = _("性别只能是“男”或“女”（也可留空）。")
    if not today.year - 45 <= birth_year <= today.year - 6:
        errors["birth_year"] = _("出生年份应在 %(lo)s 到 %(hi)s 之间。") % {
            "lo": today.year - 45,
            "hi": today.year - 6,
        }
    if joined_on > today:
        errors["joined_on"] = _("入团时间不能晚于今天。")
    elif joined_on.year < birth_year + 10:
        errors["joined_on"] = _("入团时间应在年满 14 周岁前后，请核对出生年份和入团时间。")
    try:
        phone = normalise_phone(phone)
    except ValidationError as exc:
        errors["phone"] = exc.messages[0]
    if errors:
        raise ValidationError(errors)
    return {
        "name": name,
        "gender": gender,
        "birth_year": birth_year,
        "joined_on": joined_on,
        "phone": phone,
    }


@transaction.atomic
def member_create(
    *,
    branch: Organisation,
    name: str,
    gender: str,
    birth_year: int,
    joined_on: datetime.date,
    phone: str = "",
    by: User,
) -> Member:
    _require_keeper(branch=branch, by=by)
    if branch.kind != Organisation.Kind.BRANCH:
        raise ValidationError(_("团员名册只属于团支部。"))
    values = _clean_member(
        name=name, gender=gender, birth_year=birth_year, joined_on=joined_on, phone=phone
    )
    if roster_size(branch=branch) >= MAX_MEMBERS:
        raise ValidationError(_("一个团支部最多登记 %(n)s 名团员。") % {"n": MAX_MEMBERS})
    return Member.objects.create(branch=branch, **values)


@transaction.atomic
def member_update(
    *,
    member: Member,
    name: str,
    gender: str,
    birth_year: int,
    joined_on: datetime.date,
    phone: str = "",
    by: User,
) -> Member:
    member = Member.objects.select_for_update().select_related("branch").get(pk=member.pk)
    _require_keeper(branch=member.branch, by=by)
    values = _clean_member(
        name=name, gender=gender, birth_year=birth_year, joined_on=joined_on, phone=phone
    )
    for key, value in values.items():
        setattr(member, key, value)
    member.save()
    return member


@transaction.atomic
def member_end(*, member: Member, left_on: datetime.date, by: User) -> Member:
    """End a membership (转出、离团、超龄离团). Kept in the roster's history, never deleted; the
    electorates of campaigns already opened keep the member."""
    member = Member.objects.select_for_update().select_related("branch").get(pk=member.pk)
    _require_keeper(branch=member.branch, by=by)
    if member.left_on is not None:
        raise ValidationError(_("该团员已经不在名册中。"))
    if left_on < member.joined_on:
        raise ValidationError({"left_on": _("离开名册日期不能早于入团时间。")})
    if left_on > timezone.localdate():
        raise ValidationError({"left_on": _("离开名册日期不能晚于今天。")})
    member.left_on = left_on
    member.save(update_fields=["left_on"])
    return member


# --- Import ------------------------------------------------------------------------------------


@dataclass
class RosterReport:
    """What an import found: the rows it would add, the rows already on the roster, every
    problem by row and column. `added` is set once the rows were written."""

    rows: list[dict] = field(default_factory=list)
    known: list[int] = field(default_factory=list)  # row numbers already on the roster
    errors: list[RowError] = field(default_factory=list)
    added: int = 0


def _year_month(value: object, text: str) -> tuple[int, int, int] | None:
    """A year, a month and a day (1 when absent) from 2015-05, 2015.5, 2015年5月, 201505,
    2015-05-04, a spreadsheet date, or a bare year (month 1)."""
    if isinstance(value, datetime.date | datetime.datetime):
        return value.year, value.month, value.day
    digits = text.replace(" ", "")
    if digits.isdigit() and len(digits) in (6, 8):
        parts: tuple = (digits[:4], digits[4:6], digits[6:8] or "1")
    else:
        match = _YEAR_MONTH.match(text)
        if match is None:
            return None
        parts = (match[1], match[2] or "1", match[3] or "1")
    year, month, day = (int(p) for p in parts)
    try:
        datetime.date(year, month, day)
    except ValueError:
        return None
    return year, month, day


def roster_parse(data: bytes, filename: str, *, branch: Organisation) -> RosterReport:
    """Check every row of a roster file; collect all problems rather than stopping at the first.
    Raises RosterFileError when the file as a whole cannot be read."""
    table = read_table(data, filename)
    while table and not any(cell_text(v) for v in table[-1]):
        table.pop()
    if not table:
        raise RosterFileError(_("文件是空的：没有表头，也没有数据行。"))
    header = [cell_text(v).lstrip("\ufeff") for v in table[0]]
    positions: dict[str, int] = {}
    for index, title in enumerate(header):
        for key, names in COLUMNS.items():
            if title in names and key not in positions:
                positions[key] = index
    missing = [COLUMNS[key][0] for key in REQUIRED if key not in positions]
    if missing:
        raise RosterFileError(
            _("表头缺少必填列：%(cols)s。可直接使用智慧团建导出的团员名单，或本系统的导入模板。")
            % {"cols": "、".join(missing)}
        )
    body = table[1:]
    if len(body) > MAX_MEMBERS:
        raise RosterFileError(
            _("一个团支部最多 %(max)s 名团员，这个文件有 %(n)s 行。")
            % {"max": MAX_MEMBERS, "n": len(body)}
        )
    existing = {
        (m.name, m.birth_year): m.pk
        for m in Member.objects.filter(branch=branch, left_on__isnull=True)
    }
    report = RosterReport()
    seen: dict[tuple[str, int], int] = {}
    today = timezone.localdate()
    for index, cells in enumerate(body):
        number = index + 2
        if not any(cell_text(v) for v in cells):
            continue
        row, errors = _check_row(cells, positions, number, today)
        if errors:
            report.errors.extend(errors)
            continue
        identity = (row["name"], row["birth_year"])
        if identity in seen:
            report.errors.append(
                RowError(
                    number,
                    COLUMNS["name"][0],
                    _("与第 %(n)s 行重复（姓名和出生年份相同）。") % {"n": seen[identity]},
                )
            )
        elif identity in existing:
            report.known.append(number)
        else:
            seen[identity] = number
            report.rows.append(row)
    if not report.rows and not report.errors and not report.known:
        raise RosterFileError(_("文件只有表头，没有数据行。"))
    if len(existing) + len(report.rows) > MAX_MEMBERS:
        raise RosterFileError(_("一个团支部最多登记 %(n)s 名团员。") % {"n": MAX_MEMBERS})
    return report


def _check_row(
    cells: list[object], positions: dict[str, int], number: int, today: datetime.date
) -> tuple[dict, list[RowError]]:
    errors: list[RowError] = []

    def err(key: str, problem: str) -> None:
        errors.append(RowError(number, COLUMNS[key][0], problem))

    raw = row_cells(cells, positions, COLUMNS)
    values = {key: cell_text(cell) for key, cell in raw.items()}
    for key, problem in unsafe_cells(values, max_chars=100).items():
        err(key, problem)
    if errors:
        return {}, errors
    name = values["name"]
    if not name:
        err("name", _("姓名必填。"))
    elif name.startswith(FORMULA_START):
        err("name", _("内容以 %(c)s 开头，可能是公式，请改为纯文本。") % {"c": name[:1]})
    elif len(name) > 50:
        err("name", _("姓名太长（最多 50 个字）。"))
    gender = {"男": Gender.MALE, "女": Gender.FEMALE, "": ""}.get(values["gender"])
    if gender is None:
        err("gender", _("性别只能填“男”或“女”（也可留空）。"))
    birth = _year_month(raw["birth"], values["birth"])
    if birth is None:
        err("birth", _("出生年月必填，例如 2001-05 或 2001年5月。"))
    elif not today.year - 45 <= birth[0] <= today.year - 6:
        err(
            "birth",
            _("出生年份 %(y)s 不在 %(lo)s 到 %(hi)s 之间。")
            % {"y": birth[0], "lo": today.year - 45, "hi": today.year - 6},
        )
    joined = _year_month(raw["joined"], values["joined"])
    joined_on = datetime.date(*joined) if joined else None
    if joined_on is None:
        err("joined", _("入团时间必填，例如 2016-05 或 2016年5月。"))
    elif joined_on > today:
        err("joined", _("入团时间不能晚于今天。"))
    elif birth is not None and joined_on.year < birth[0] + 10:
        err("joined", _("入团时间早于 10 周岁，请核对出生年月和入团时间。"))
    phone = ""
    try:
        phone = normalise_phone(values["phone"])
    except ValidationError as exc:
        err("phone", exc.messages[0])
    if errors:
        return {}, errors
    assert birth is not None and joined_on is not None
    return {
        "row": number,
        "name": name,
        "gender": gender or "",
        "birth_year": birth[0],
        "joined_on": joined_on,
        "phone": phone,
    }, []


@transaction.atomic
def roster_import(*, branch: Organisation, data: bytes, filename: str, by: User) -> RosterReport:
    """Import a roster file all or nothing: any problem in any row writes nothing and the report
    lists them all; otherwise every new row is added in one transaction (rows already on the
    roster, same name and birth year, are reported and left as they are)."""
    _require_keeper(branch=branch, by=by)
    if branch.kind != Organisation.Kind.BRANCH:
        raise ValidationError(_("团员名册只属于团支部。"))
    # One import at a time per branch: two at once would both miss the other's rows.
    Organisation.objects.select_for_update().filter(pk=branch.pk).first()
    report = roster_parse(data, filename, branch=branch)
    if report.errors:
        return report
    Member.objects.bulk_create(
        Member(branch=branch, **{k: v for k, v in row.items() if k != "row"}) for row in report.rows
    )
    report.added = len(report.rows)
    return report


def template_headers() -> list[str]:
    return [names[0] for names in COLUMNS.values()]


# --- Electorate and 领票登记 ---------------------------------------------------------------------


def electorate_freeze(*, campaign: Campaign) -> int:
    """Copy the branch's active roster into the campaign's electors (called by
    surveys.services.ballot_box_open, inside its transaction); returns how many. A branch
    without a roster keeps the electorate staff typed (no electors, no 领票登记)."""
    members = list(
        Member.objects.filter(branch_id=campaign.branch_id, left_on__isnull=True).values_list(
            "pk", flat=True
        )
    )
    Elector.objects.bulk_create(Elector(campaign=campaign, member_id=pk) for pk in members)
    return len(members)


@transaction.atomic
def slips_register(*, campaign: Campaign, received: set[int], by: User) -> int:
    """领票登记: set which electors received a code slip (member ids), all at once; returns how
    many have. Only who, never which slip; no time is stored. Before the end of voting only."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    _require_keeper(branch=campaign.branch, by=by)
    if campaign.status in (Campaign.Status.DUE, Campaign.Status.CLOSED):
        raise ValidationError(_("投票已经结束，不能再修改领票登记。"))
    if not campaign.is_sealed:
        raise ValidationError(_("票箱启用后才有参评名单，请先启用票箱。"))
    rows = Elector.objects.filter(campaign=campaign)
    unknown = received - set(rows.values_list("member_id", flat=True))
    if unknown:
        raise ValidationError(_("所选团员不在本次测评的参评名单中，请刷新页面后重试。"))
    rows.filter(member_id__in=received, slip_received=False).update(slip_received=True)
    rows.exclude(member_id__in=received).filter(slip_received=True).update(slip_received=False)
    return len(received)
