"""结算 (settlement) and what the outcome sets in motion.

- `campaign_settle` rebuilds the key from the scrutineers' shares in memory, decrypts, writes
  totals, shuffled comments and the sorted receipts in one transaction, deletes the box and
  the codes (TRUNCATE) and then rewrites the tables' files (`ballot_tables_rewrite`);
- a satisfied outcome makes the secretary eligible for the year's awards; a not-satisfied one
  opens the re-election (`ReelectionProcedure`), whose recorded result changes the branch's
  secretary in the registry (`reelection_result_record` → cadres.services.
  branch_secretary_change): the next campaign rates the new secretary.
Moved out of surveys.services to keep both short; callers import it from here.
"""

from __future__ import annotations

import datetime
import uuid
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assessment.freshness import numbers_changed
from cadres.models import Cadre, User
from cadres.registry import branch_secretary_change

from . import sealing
from .campaigns import require_staff_above
from .models import (
    Answer,
    AwardEligibility,
    BallotBox,
    Campaign,
    Outcome,
    ReelectionProcedure,
    VotingCode,
)
from .services import _rng


def _rate(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part * 100) / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def campaign_settle(
    *, campaign: Campaign, shares: list[str], by: User, now: datetime.datetime | None = None
) -> Campaign:
    """结算: count a closed campaign with the scrutineers' shares. All or nothing.

    1. lock the campaign; refuse before the end of voting, after a settlement, without a box;
    2. rebuild the private key from the shares, in memory only (sealing.key_rebuild: wrong,
       partial, duplicated or foreign shares are refused with a message);
    3. decrypt every ballot; any ballot that does not decrypt aborts everything;
    4. totals, validity, outcome; comments in a fresh random order (discarded below the
       small-group threshold); the sorted list of receipts counted;
    5. delete the box and the codes, in the same transaction, leaving no dead tuple in the
       live files (_ballot_tables_purge);
    6. satisfied → award eligibility; not satisfied → re-election procedure;
    7. after commit, VACUUM FULL the tables (ballot_tables_rewrite), for the campaign row's
       earlier versions (which hold no ballot data).
    """
    now = now or timezone.now()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        require_staff_above(branch=campaign.branch, by=by)
        if campaign.closed_at is not None:
            raise ValidationError(_("本次测评已经结算，不能重复结算。"))
        if campaign.status_at(now) in (Campaign.Status.PLANNED, Campaign.Status.OPEN):
            raise ValidationError(_("投票尚未结束，不能结算。请等到截止时间，或先“提前结束投票”。"))
        if not campaign.is_sealed:
            raise ValidationError(_("本次测评没有启用票箱，没有可结算的选票。"))
        if not campaign.countable:
            raise ValidationError(_("监票密钥份额遗失过多，本次测评无法计票。请重新组织测评。"))
        try:
            key = sealing.key_rebuild(
                raw_shares=list(shares),
                public_key=sealing.public_key_of(campaign.public_key),
                threshold=campaign.share_threshold,
            )
        except sealing.ShareError as exc:
            raise ValidationError(exc.message) from None
        if campaign.voting_closed_at is None:
            campaign.voting_closed_at = campaign.closes_at
        box = BallotBox.objects.filter(campaign=campaign).first()
        ciphertexts = box.ciphertexts() if box is not None else []
        ballots = []
        for ciphertext in ciphertexts:
            try:
                ballots.append(sealing.ballot_open(private_key=key, ciphertext=ciphertext))
            except (sealing.CryptoError, ValueError, IndexError, UnicodeDecodeError):
                raise ValidationError(
                    _("有选票无法解密，结算已取消，未写入任何结果。请联系系统管理员。")
                ) from None
        del key
        _record_results(campaign, ballots)
        campaign.counted_receipts = sorted(sealing.receipt_for(c) for c in ciphertexts)
        campaign.closed_at = now
        if campaign.closed_by is None:
            campaign.closed_by = by
        campaign.save()
        _ballot_tables_purge(campaign.pk)
        if campaign.outcome == Outcome.SATISFIED:
            AwardEligibility.objects.get_or_create(
                campaign=campaign,
                defaults={"cadre_id": campaign.secretary_id, "year": campaign.year},
            )
        elif campaign.outcome == Outcome.NOT_SATISFIED:
            ReelectionProcedure.objects.get_or_create(campaign=campaign)
        transaction.on_commit(ballot_tables_rewrite)
        # The secretary's ballot component of the campaign year's scores moves.
        numbers_changed(
            on=min(datetime.date(campaign.year, 12, 31), timezone.localdate(now)),
            organisation_id=campaign.branch_id,
            cadre_ids=[campaign.secretary_id],
        )
    return campaign


def _record_results(campaign: Campaign, ballots: list[tuple[str, list[str], str]]) -> None:
    """Totals, validity, outcome, aspect counts and shuffled comments, from decrypted ballots.

    Valid when turnout ≥ quorum · electorate; satisfaction rate = (满意 + 基本满意) / valid
    ballots; "not satisfied" when 不满意 ballots exceed the campaign's fraction of valid ballots.
    """
    turnout = len(ballots)
    overall = [b[0] for b in ballots]
    satisfied = overall.count(Answer.SATISFIED)
    basic = overall.count(Answer.BASIC)
    not_satisfied = overall.count(Answer.NOT_SATISFIED)
    campaign.turnout = turnout
    campaign.is_valid = turnout > 0 and turnout * campaign.quorum_den >= (
        campaign.electorate * campaign.quorum_num
    )
    campaign.n_satisfied, campaign.n_basic = satisfied, basic
    campaign.n_not_satisfied = not_satisfied
    campaign.satisfaction_rate = _rate(satisfied + basic, turnout)
    results = [
        {"question": q, "satisfied": 0, "basic": 0, "not_satisfied": 0} for q in campaign.aspects
    ]
    for _overall, answers, _comment in ballots:
        for index, answer in enumerate(answers[: len(results)]):
            if answer in results[index]:
                results[index][answer] += 1
    campaign.aspect_results = results
    comments = [c for _o, _a, c in ballots if c]
    # Below the small-group threshold comments are not kept at all: stored, a DBA could read
    # them even though no page shows them.
    if not campaign.allow_comment or turnout < campaign.min_ballots_shown:
        comments = []
    _rng.shuffle(comments)
    campaign.comments = comments
    if not campaign.is_valid:
        campaign.outcome = Outcome.INVALID
    elif not_satisfied * campaign.not_satisfied_den > turnout * campaign.not_satisfied_num:
        campaign.outcome = Outcome.NOT_SATISFIED
    else:
        campaign.outcome = Outcome.SATISFIED


def _ballot_tables_purge(campaign_id: int) -> None:
    """Delete a campaign's box and codes so that no dead tuple stays in the live files.

    On PostgreSQL a DELETE leaves the row versions in the pages until a vacuum reclaims them,
    and even VACUUM FULL copies versions that are "recently dead" — still visible to some
    snapshot, which on a busy server (any long query) is the normal case: measured, the forensic
    test found every ciphertext in the rewritten file. TRUNCATE instead gives both tables (and
    the box's TOAST table, where the ciphertexts lie) new, empty files at commit whatever the
    snapshots; the other campaigns' rows (still sealed) are put back, codes in a fresh random
    order, all with this transaction as writer. It is not MVCC-safe
    for a concurrent REPEATABLE READ reader of these two tables, which nothing in the project is.
    Elsewhere (SQLite): a plain delete.
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        BallotBox.objects.filter(campaign_id=campaign_id).delete()
        VotingCode.objects.filter(campaign_id=campaign_id).delete()
        return
    boxes = list(
        BallotBox.objects.exclude(campaign_id=campaign_id).values_list(
            "campaign_id", "sealed", "used"
        )
    )
    codes = list(
        VotingCode.objects.exclude(campaign_id=campaign_id).values_list("campaign_id", "code_hash")
    )
    with connection.cursor() as cursor:
        # Django's foreign keys are deferred; TRUNCATE refuses while checks of rows written
        # earlier in this transaction (a box or codes written in it) are pending: run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"TRUNCATE {BallotBox._meta.db_table}, {VotingCode._meta.db_table}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    _rng.shuffle(codes)
    BallotBox.objects.bulk_create(
        BallotBox(campaign_id=c, sealed=bytes(x), used=bytes(u)) for c, x, u in boxes
    )
    VotingCode.objects.bulk_create(
        VotingCode(id=uuid.uuid4(), campaign_id=c, code_hash=h) for c, h in codes
    )


def ballot_tables_rewrite() -> bool:
    """On PostgreSQL, VACUUM FULL the surveys ballot tables after a settlement.

    A plain VACUUM marks dead row versions free but leaves their bytes in the data files (and
    in every physical backup taken later); VACUUM FULL copies the live rows into new files and
    drops the old ones (truncated at commit, unlinked at the next checkpoint), indexes and
    TOAST included. It takes an exclusive lock for the few milliseconds these small tables need.
    Impossible inside a transaction: returns False there (and on SQLite, where `VACUUM` would
    rewrite the whole database file: left to the operator)."""
    from django.db import connection

    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return False
    tables = ", ".join(m._meta.db_table for m in (BallotBox, VotingCode, Campaign))
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (FULL) {tables}")
    return True


@transaction.atomic
def reelection_update(
    *, procedure: ReelectionProcedure, status: str, notes: str, by: User
) -> ReelectionProcedure:
    procedure = ReelectionProcedure.objects.select_for_update().get(pk=procedure.pk)
    require_staff_above(branch=procedure.campaign.branch, by=by)
    if status not in ReelectionProcedure.Status.values:
        raise ValidationError({"status": _("请选择改选进度。")})
    procedure.status = status
    procedure.notes = notes.strip()
    procedure.updated_by = by
    procedure.save()
    return procedure


@transaction.atomic
def reelection_result_record(
    *,
    procedure: ReelectionProcedure,
    elected_on: datetime.date,
    successor: Cadre | None = None,
    name: str = "",
    gender: str = "",
    phone: str = "",
    notes: str = "",
    by: User,
) -> ReelectionProcedure:
    """The re-election took place: record its result and change the branch's secretary.

    1. lock the procedure; only staff above the branch; once only (a later change of secretary
       is an ordinary registry edit, not this campaign's result);
    2. the rated secretary's office ends on `elected_on` (kept, with history) and `successor`
       (a cadre of the branch, possibly the same person re-elected) or a new cadre record
       becomes the secretary (cadres.registry.branch_secretary_change);
    3. the procedure is done; the next campaign of the branch rates the new secretary.
    """
    procedure = (
        ReelectionProcedure.objects.select_for_update()
        .select_related("campaign__branch", "campaign__secretary")
        .get(pk=procedure.pk)
    )
    campaign = procedure.campaign
    require_staff_above(branch=campaign.branch, by=by)
    if procedure.new_secretary_id is not None:
        raise ValidationError(
            _("改选结果已经登记，不能重复登记。如需再次更换书记，请在团干部名录中办理。")
        )
    if elected_on < timezone.localdate(campaign.closed_at or timezone.now()):
        raise ValidationError({"elected_on": _("改选日期不能早于测评结算日期。")})
    new = branch_secretary_change(
        branch=campaign.branch,
        on=elected_on,
        successor=successor,
        name=name,
        gender=gender,
        phone=phone,
        by=by,
    )
    procedure.new_secretary = new
    procedure.elected_on = elected_on
    procedure.status = ReelectionProcedure.Status.DONE
    if notes.strip():
        procedure.notes = notes.strip()
    procedure.updated_by = by
    procedure.save()
    return procedure
