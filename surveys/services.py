"""Writes of the surveys app: campaigns, codes, votes, closing and outcomes.

The anonymity guarantees live here and in models.py, nowhere else:
- `codes_generate` returns the cleartext codes once and stores only their hashes;
- `ballot_cast` consumes the code and stores the ballot in one transaction, then rewrites the
  campaign's ballots, codes and receipts in a fresh random order (`_reshuffle`);
- nothing here logs, caches or enqueues anything during a vote.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cadres.models import Cadre, Organisation, User

from .models import (
    Answer,
    AwardEligibility,
    Ballot,
    Campaign,
    Outcome,
    Receipt,
    ReelectionProcedure,
    VotingCode,
)

# Codes: 16 symbols from a 30-symbol alphabet without look-alikes (no I, L, O, U, 0, 1): 78
# random bits. Even at a million guesses a second (the voting page allows 10 failures per address
# per 15 minutes), hitting one of a few thousand live codes takes about 10^13 years.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
CODE_LENGTH = 16
RECEIPT_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
RECEIPT_LENGTH = 10
MAX_ELECTORATE = 2000

_rng = secrets.SystemRandom()


class VoteError(Exception):
    """A vote that cannot be accepted; `message` is shown to the voter as is."""

    def __init__(self, message: str, *, counts_as_guess: bool = False):
        super().__init__(message)
        self.message = message
        # Unknown codes count towards the per-address guessing limit; used or closed ones don't.
        self.counts_as_guess = counts_as_guess


def normalise_code(raw: str) -> str:
    """What people type or scan: any case, spaces, dashes, full-width characters."""
    text = (raw or "").upper()
    text = "".join(chr(ord(c) - 0xFEE0) if "！" <= c <= "～" else c for c in text)
    return "".join(c for c in text if c.isalnum())


def format_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def hash_code(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def _random_string(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _require_staff_above(*, branch: Organisation, by: User) -> None:
    """Only staff of an organisation above the branch may run its ballot (not the branch)."""
    if by.is_superuser:
        return
    if (
        not by.sees_subtree
        or by.organisation is None
        or by.organisation_id == branch.pk
        or not by.organisation.is_ancestor_of(branch)
    ):
        raise ValidationError(_("只有上级团组织的工作人员可以组织该团支部的测评。"))


def _validate_campaign(
    *, branch: Organisation, secretary: Cadre, opens_at, closes_at, electorate: int, by: User
) -> None:
    errors: dict[str, str] = {}
    if branch.kind != Organisation.Kind.BRANCH:
        errors["branch"] = _("只能对团支部开展书记满意度测评。")
    if secretary.organisation_id != branch.pk or not secretary.is_branch_secretary:
        errors["secretary"] = _("请选择该团支部的团支部书记。")
    elif secretary.user_id is not None and secretary.user_id == by.pk:
        errors["secretary"] = _("不能组织对自己的测评。")
    if closes_at <= opens_at:
        errors["closes_at"] = _("截止时间必须晚于开始时间。")
    if not 1 <= electorate <= MAX_ELECTORATE:
        errors["electorate"] = _("应参评人数应在 1 到 %(max)s 之间。") % {"max": MAX_ELECTORATE}
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def campaign_create(
    *,
    branch: Organisation,
    secretary: Cadre,
    year: int,
    electorate: int,
    opens_at,
    closes_at,
    aspects: list[str] | None = None,
    allow_comment: bool = True,
    quorum: tuple[int, int] = (2, 3),
    not_satisfied: tuple[int, int] = (1, 3),
    min_ballots_shown: int = 5,
    by: User,
) -> Campaign:
    _require_staff_above(branch=branch, by=by)
    _validate_campaign(
        branch=branch,
        secretary=secretary,
        opens_at=opens_at,
        closes_at=closes_at,
        electorate=electorate,
        by=by,
    )
    kwargs = {}
    if aspects is not None:
        kwargs["aspects"] = [a.strip() for a in aspects if a.strip()][:10]
    return Campaign.objects.create(
        branch=branch,
        secretary=secretary,
        year=year,
        electorate=electorate,
        opens_at=opens_at,
        closes_at=closes_at,
        allow_comment=allow_comment,
        quorum_num=quorum[0],
        quorum_den=quorum[1],
        not_satisfied_num=not_satisfied[0],
        not_satisfied_den=not_satisfied[1],
        min_ballots_shown=min_ballots_shown,
        created_by=by,
        **kwargs,
    )


@transaction.atomic
def campaign_update(
    *,
    campaign: Campaign,
    electorate: int,
    opens_at,
    closes_at,
    aspects: list[str],
    allow_comment: bool,
    quorum: tuple[int, int],
    not_satisfied: tuple[int, int],
    min_ballots_shown: int,
    by: User,
) -> Campaign:
    """Edit a campaign before it opens. The electorate may only change while no codes exist
    (codes are generated one per member)."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    _require_staff_above(branch=campaign.branch, by=by)
    if campaign.status != Campaign.Status.PLANNED:
        raise ValidationError(_("测评已经开始，不能再修改设置。"))
    if electorate != campaign.electorate and campaign.codes.exists():
        raise ValidationError(
            {
                "electorate": _(
                    "已生成投票码，修改人数前请先重新生成投票码（未使用时可以重新生成）。"
                )
            }
        )
    _validate_campaign(
        branch=campaign.branch,
        secretary=campaign.secretary,
        opens_at=opens_at,
        closes_at=closes_at,
        electorate=electorate,
        by=by,
    )
    campaign.electorate = electorate
    campaign.opens_at, campaign.closes_at = opens_at, closes_at
    campaign.aspects = [a.strip() for a in aspects if a.strip()][:10]
    campaign.allow_comment = allow_comment
    campaign.quorum_num, campaign.quorum_den = quorum
    campaign.not_satisfied_num, campaign.not_satisfied_den = not_satisfied
    campaign.min_ballots_shown = min_ballots_shown
    campaign.save()
    return campaign


@transaction.atomic
def codes_generate(*, campaign: Campaign, by: User) -> list[str]:
    """Generate one code per member of the electorate and return them, in cleartext, ONCE.

    1. refuse once any code was used (a new set would let members vote twice) or after closing;
    2. drop the previous (unused) set, so lost slips become worthless;
    3. store the SHA-256 hashes in an order unrelated to the returned (printing) order.
    The caller shows / prints / downloads the list and keeps nothing.
    """
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    _require_staff_above(branch=campaign.branch, by=by)
    if campaign.closed_at is not None or campaign.status == Campaign.Status.DUE:
        raise ValidationError(_("测评已经结束，不能再生成投票码。"))
    if campaign.codes.filter(used=True).exists():
        raise ValidationError(_("已经有人投票，不能重新生成投票码。"))
    campaign.codes.all().delete()
    codes: set[str] = set()
    while len(codes) < campaign.electorate:
        codes.add(_random_string(CODE_ALPHABET, CODE_LENGTH))
    printed = sorted(codes)  # printing order: alphabetical, nothing to do with storage order
    stored = list(codes)
    _rng.shuffle(stored)
    VotingCode.objects.bulk_create(
        VotingCode(campaign=campaign, code_hash=hash_code(code)) for code in stored
    )
    return [format_code(code) for code in printed]


@dataclass(frozen=True)
class CodeCheck:
    campaign: Campaign


def code_check(*, code: str, now=None) -> CodeCheck:
    """Which campaign a code opens, or VoteError with the message for the voter."""
    now = now or timezone.now()
    normalised = normalise_code(code)
    if not normalised:
        raise VoteError(_("请输入投票码。"))
    if len(normalised) != CODE_LENGTH:
        raise VoteError(
            _("投票码应为 %(n)s 位字母和数字，请核对后重新输入。") % {"n": CODE_LENGTH},
            counts_as_guess=True,
        )
    row = (
        VotingCode.objects.select_related("campaign__branch", "campaign__secretary")
        .filter(code_hash=hash_code(normalised))
        .first()
    )
    if row is None:
        raise VoteError(_("投票码不正确，请核对后重新输入。"), counts_as_guess=True)
    _check_open(row.campaign, now)
    if row.used:
        raise VoteError(_("该投票码已经使用过，每个投票码只能投一次票。"))
    return CodeCheck(campaign=row.campaign)


def _check_open(campaign: Campaign, now) -> None:
    status = campaign.status_at(now)
    if status == Campaign.Status.PLANNED:
        raise VoteError(
            _("本次测评尚未开始，开始时间：%(t)s。")
            % {"t": timezone.localtime(campaign.opens_at).strftime("%Y-%m-%d %H:%M")}
        )
    if status in (Campaign.Status.DUE, Campaign.Status.CLOSED):
        raise VoteError(_("本次测评已经结束，不能再投票。"))


def _clean_answers(campaign: Campaign, overall: str, aspects: list[str], comment: str) -> None:
    valid = set(Answer.values)
    if overall not in valid:
        raise VoteError(_("请选择总体评价。"))
    if len(aspects) != len(campaign.aspects) or any(a not in valid for a in aspects):
        raise VoteError(_("请对每一项都作出评价。"))
    if comment and not campaign.allow_comment:
        raise VoteError(_("本次测评不收集文字意见。"))
    if len(comment) > 500:
        raise VoteError(_("意见建议不超过 500 字。"))


def ballot_cast(
    *,
    code: str,
    campaign_id: int | None,
    overall: str,
    aspects: list[str],
    comment: str = "",
    now=None,
) -> str:
    """Cast a ballot with a one-time code; returns the voter's random receipt code.

    One transaction:
    1. lock the campaign row: votes of one campaign are serialised (they also rewrite its rows);
    2. lock the code row (SELECT … FOR UPDATE) and check it is unused, of this campaign, open;
    3. mark the code used, insert the ballot and a random receipt;
    4. rewrite the campaign's ballots, codes and receipts in a fresh random order.
    Two concurrent submissions with one code: the second waits at 1 or 2, then finds the code
    used. Nothing is logged, cached, put in the session or sent to a task.
    """
    now = now or timezone.now()
    normalised = normalise_code(code)
    comment = (comment or "").strip()
    if len(normalised) != CODE_LENGTH:
        raise VoteError(_("投票码不正确，请核对后重新输入。"), counts_as_guess=True)
    code_hash = hash_code(normalised)
    with transaction.atomic():
        owner = VotingCode.objects.filter(code_hash=code_hash).values_list("campaign_id").first()
        if owner is None:
            raise VoteError(_("投票码不正确，请核对后重新输入。"), counts_as_guess=True)
        if campaign_id is not None and owner[0] != campaign_id:
            raise VoteError(_("该投票码不属于本次测评，请使用本支部发放的投票码。"))
        campaign = Campaign.objects.select_for_update().get(pk=owner[0])
        row = VotingCode.objects.select_for_update().filter(code_hash=code_hash).first()
        if row is None:  # regenerated between the two statements
            raise VoteError(_("投票码不正确，请核对后重新输入。"), counts_as_guess=True)
        _check_open(campaign, now)
        if row.used:
            raise VoteError(_("该投票码已经使用过，每个投票码只能投一次票。"))
        _clean_answers(campaign, overall, aspects, comment)
        VotingCode.objects.filter(pk=row.pk).update(used=True)
        Ballot.objects.create(
            campaign=campaign, overall=overall, aspects=list(aspects), comment=comment
        )
        taken = set(campaign.receipts.values_list("code", flat=True))
        receipt = _random_string(RECEIPT_ALPHABET, RECEIPT_LENGTH)
        while receipt in taken:
            receipt = _random_string(RECEIPT_ALPHABET, RECEIPT_LENGTH)
        Receipt.objects.create(campaign=campaign, code=receipt)
        _reshuffle(campaign.pk)
    return receipt


def _reshuffle(campaign_id: int) -> None:
    """Rewrite a campaign's ballots, codes and receipts as new rows in a random order.

    Insertion order decides where rows lie (PostgreSQL heap, SQLite rowid) and thus the order a
    dump or `SELECT *` lists them; on PostgreSQL every row also carries the id of the transaction
    that wrote it (xmin). Rewriting everything of the campaign in each vote transaction leaves
    all rows with the same writer and a random physical order, so neither reveals the order of
    casting or which code went with which ballot. Cost: O(electorate) per vote, a few hundred
    small rows at most for a branch.
    """
    ballots = list(
        Ballot.objects.filter(campaign_id=campaign_id).values_list("overall", "aspects", "comment")
    )
    codes = list(
        VotingCode.objects.filter(campaign_id=campaign_id).values_list("code_hash", "used")
    )
    receipts = list(Receipt.objects.filter(campaign_id=campaign_id).values_list("code", flat=True))
    Ballot.objects.filter(campaign_id=campaign_id).delete()
    VotingCode.objects.filter(campaign_id=campaign_id).delete()
    Receipt.objects.filter(campaign_id=campaign_id).delete()
    for rows in (ballots, codes, receipts):
        _rng.shuffle(rows)
    Ballot.objects.bulk_create(
        Ballot(id=uuid.uuid4(), campaign_id=campaign_id, overall=o, aspects=a, comment=c)
        for o, a, c in ballots
    )
    VotingCode.objects.bulk_create(
        VotingCode(id=uuid.uuid4(), campaign_id=campaign_id, code_hash=h, used=u) for h, u in codes
    )
    Receipt.objects.bulk_create(
        Receipt(id=uuid.uuid4(), campaign_id=campaign_id, code=r) for r in receipts
    )


def _rate(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part * 100) / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def campaign_close(*, campaign: Campaign, by: User | None = None, now=None) -> Campaign:
    """Close a campaign (by staff, or by time when `by` is None) and record its outcome.

    1. lock the campaign; a closed campaign is returned unchanged (idempotent);
    2. rewrite its rows in random order one last time;
    3. turnout = ballots cast; valid when turnout ≥ quorum · electorate;
    4. satisfaction rate = (满意 + 基本满意) / valid ballots; outcome "not satisfied" when 不满意
       ballots exceed the campaign's fraction of valid ballots, else "satisfied";
    5. satisfied → award eligibility record; not satisfied → re-election procedure (to do).
    """
    now = now or timezone.now()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.closed_at is not None:
            return campaign
        if by is not None:
            _require_staff_above(branch=campaign.branch, by=by)
            if now < campaign.opens_at:
                raise ValidationError(_("测评尚未开始，不能结束。可以修改时间或删除。"))
        elif now < campaign.closes_at:
            raise ValidationError(_("测评还没有到截止时间。"))
        _reshuffle(campaign.pk)
        counts = Ballot.objects.filter(campaign=campaign).aggregate(
            total=Count("id"),
            satisfied=Count("id", filter=Q(overall=Answer.SATISFIED)),
            basic=Count("id", filter=Q(overall=Answer.BASIC)),
            not_satisfied=Count("id", filter=Q(overall=Answer.NOT_SATISFIED)),
        )
        turnout = counts["total"]
        campaign.turnout = turnout
        campaign.is_valid = turnout > 0 and turnout * campaign.quorum_den >= (
            campaign.electorate * campaign.quorum_num
        )
        campaign.n_satisfied = counts["satisfied"]
        campaign.n_basic = counts["basic"]
        campaign.n_not_satisfied = counts["not_satisfied"]
        campaign.satisfaction_rate = _rate(counts["satisfied"] + counts["basic"], turnout)
        campaign.aspect_results = _aspect_results(campaign)
        if not campaign.is_valid:
            campaign.outcome = Outcome.INVALID
        elif counts["not_satisfied"] * campaign.not_satisfied_den > (
            turnout * campaign.not_satisfied_num
        ):
            campaign.outcome = Outcome.NOT_SATISFIED
        else:
            campaign.outcome = Outcome.SATISFIED
        campaign.closed_at = now
        campaign.closed_by = by
        campaign.save()
        if campaign.outcome == Outcome.SATISFIED:
            AwardEligibility.objects.get_or_create(
                campaign=campaign,
                defaults={"cadre_id": campaign.secretary_id, "year": campaign.year},
            )
        elif campaign.outcome == Outcome.NOT_SATISFIED:
            ReelectionProcedure.objects.get_or_create(campaign=campaign)
    return campaign


def _aspect_results(campaign: Campaign) -> list[dict]:
    """Counts per aspect and answer: one query over one campaign's ballots (≤ electorate)."""
    results = [
        {"question": q, "satisfied": 0, "basic": 0, "not_satisfied": 0} for q in campaign.aspects
    ]
    for answers in Ballot.objects.filter(campaign=campaign).values_list("aspects", flat=True):
        for index, answer in enumerate(answers[: len(results)]):
            if answer in results[index]:
                results[index][answer] += 1
    return results


def ballot_tables_vacuum() -> bool:
    """On PostgreSQL, VACUUM the ballot tables after a close so that dead row versions (earlier
    orders of the rows) are reclaimed rather than left in the data files until autovacuum comes
    by (README, threat model). Impossible inside a transaction: returns False there."""
    from django.db import connection

    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            f"VACUUM {Ballot._meta.db_table}, {VotingCode._meta.db_table}, {Receipt._meta.db_table}"
        )
    return True


def close_due_campaigns(*, now=None) -> int:
    """Close every campaign whose closing time has passed; returns how many. Idempotent."""
    now = now or timezone.now()
    due = list(
        Campaign.objects.filter(closed_at__isnull=True, closes_at__lte=now).values_list(
            "pk", flat=True
        )
    )
    for pk in due:
        campaign_close(campaign=Campaign(pk=pk), by=None, now=now)
    return len(due)


@transaction.atomic
def reelection_update(
    *, procedure: ReelectionProcedure, status: str, notes: str, by: User
) -> ReelectionProcedure:
    procedure = ReelectionProcedure.objects.select_for_update().get(pk=procedure.pk)
    _require_staff_above(branch=procedure.campaign.branch, by=by)
    if status not in ReelectionProcedure.Status.values:
        raise ValidationError({"status": _("请选择改选进度。")})
    procedure.status = status
    procedure.notes = notes.strip()
    procedure.updated_by = by
    procedure.save()
    return procedure


@transaction.atomic
def campaign_delete(*, campaign: Campaign, by: User) -> None:
    """A campaign can be deleted only before anyone voted."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    _require_staff_above(branch=campaign.branch, by=by)
    if campaign.closed_at is not None or campaign.codes.filter(used=True).exists():
        raise ValidationError(_("已有投票的测评不能删除。"))
    campaign.delete()
