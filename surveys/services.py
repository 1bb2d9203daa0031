"""Writes of the surveys app: codes, the ballot box, votes and closing.

The anonymity guarantees live here, in models.py and in sealing.py, nowhere else; the threat
model (what a DBA, a server operator, a backup holder and a scrutineer can and cannot learn) is
docs/ballot-anonymity.md.
- `codes_generate` returns the cleartext codes once and stores only their hashes;
- `ballot_box_open` makes the campaign's key pair, stores the public key and returns the
  scrutineers' shares once (never stored); from then on the rules are frozen;
- `ballot_cast` seals the ballot before anything is written, then in one UPDATE of the
  campaign's single box row puts the ciphertext into a random slot and the code's digest into
  the sorted set of used codes; the receipt is the hash of the ciphertext;
- a campaign's set-up (create, edit, delete) lives in surveys.campaigns; `campaign_settle` (结算)
  and the re-election that a not-satisfied outcome opens in surveys.settlement; the branch
  roster and the 领票登记 in surveys.members;
- nothing here logs, caches or enqueues anything during a vote.
"""

from __future__ import annotations

import bisect
import datetime
import hashlib
import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext as _

from cadres.models import User

from . import members, sealing
from .campaigns import require_staff_above
from .models import (
    Answer,
    BallotBox,
    Campaign,
    VotingCode,
)
from .selectors import box_counts

# Codes: 16 symbols from a 30-symbol alphabet without look-alikes (no I, L, O, U, 0, 1): 78
# random bits. Even at a million guesses a second (the voting page allows 10 failures per address
# per 15 minutes), hitting one of a few thousand live codes takes about 10^13 years.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
CODE_LENGTH = 16

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


@transaction.atomic
def codes_generate(*, campaign: Campaign, by: User) -> list[str]:
    """Generate one code per member of the electorate and return them, in cleartext, ONCE.

    1. refuse once any code was used (a new set would let members vote twice) or after closing;
    2. drop the previous (unused) set, so lost slips become worthless;
    3. store the SHA-256 hashes in an order unrelated to the returned (printing) order.
    The caller shows / prints / downloads the list and keeps nothing.
    """
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    require_staff_above(branch=campaign.branch, by=by)
    if campaign.closed_at is not None or campaign.status == Campaign.Status.DUE:
        raise ValidationError(_("测评已经结束，不能再生成投票码。"))
    if box_counts(campaign_id=campaign.pk)[1]:
        raise ValidationError(_("已经有人投票，不能重新生成投票码。"))
    on_roster = members.roster_size(branch=campaign.branch)
    if on_roster and not campaign.is_sealed and on_roster != campaign.electorate:
        # The roster is the electorate: one code per registered member.
        campaign.electorate = on_roster
        campaign.save(update_fields=["electorate"])
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


def code_check(*, code: str, now: datetime.datetime | None = None) -> CodeCheck:
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
    used = BallotBox.objects.filter(campaign_id=row.campaign_id).values_list("used", flat=True)
    if _is_used(bytes(used.first() or b""), bytes.fromhex(row.code_hash)):
        raise VoteError(_("该投票码已经使用过，每个投票码只能投一次票。"))
    return CodeCheck(campaign=row.campaign)


def _is_used(used: bytes, digest: bytes) -> bool:
    """Whether `digest` is in the sorted concatenation of used-code digests (BallotBox.used)."""
    digests = BallotBox.split_digests(used)
    at = bisect.bisect_left(digests, digest)
    return at < len(digests) and digests[at] == digest


def _check_open(campaign: Campaign, now: datetime.datetime) -> None:
    status = campaign.status_at(now)
    if status == Campaign.Status.PLANNED:
        raise VoteError(
            _("本次测评尚未开始，开始时间：%(t)s。")
            % {"t": timezone.localtime(campaign.opens_at).strftime("%Y-%m-%d %H:%M")}
        )
    if status in (Campaign.Status.DUE, Campaign.Status.CLOSED):
        raise VoteError(_("本次测评已经结束，不能再投票。"))
    if not campaign.is_sealed:
        raise VoteError(_("本次测评的票箱尚未启用（监票密钥未生成），请联系发放投票码的工作人员。"))
    if not campaign.countable:
        raise VoteError(
            _(
                "本次测评的监票密钥份额已遗失过多，选票将无法计票，投票已停止。请联系工作人员重新组织测评。"
            )
        )


def _clean_answers(campaign: Campaign, overall: str, aspects: list[str], comment: str) -> None:
    valid = set(Answer.values)
    if overall not in valid:
        raise VoteError(_("请选择总体评价。"))
    if len(aspects) != len(campaign.aspects) or any(a not in valid for a in aspects):
        raise VoteError(_("请对每一项都作出评价。"))
    if comment and not campaign.allow_comment:
        raise VoteError(_("本次测评不收集文字意见。"))
    if len(comment) > sealing.MAX_COMMENT_CHARS:
        raise VoteError(_("意见建议不超过 500 字。"))
    if any(0xD800 <= ord(c) <= 0xDFFF for c in comment):
        raise VoteError(_("意见建议含有无法识别的字符，请删除后再提交。"))


@transaction.atomic
def ballot_box_open(*, campaign: Campaign, by: User) -> list[str]:
    """Open the ballot box: a fresh key pair; returns the scrutineers' share codes ONCE.

    1. refuse when the box is already open (a second key would orphan ballots or shares) or
       the campaign is over;
    2. make the key pair and the shares (surveys.sealing.key_create); store the public key only;
    3. from this moment the rules are frozen (campaign_update, the form, the admin and a
       database trigger refuse changes).
    The caller shows / prints the slips and keeps nothing; the private key is never stored.
    """
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    require_staff_above(branch=campaign.branch, by=by)
    if campaign.is_sealed:
        raise ValidationError(_("票箱已经启用，监票密钥份额只在启用时显示一次，不能再次生成。"))
    if campaign.status in (Campaign.Status.DUE, Campaign.Status.CLOSED):
        raise ValidationError(_("测评已经结束，不能再启用票箱。"))
    on_roster = members.roster_size(branch=campaign.branch)
    if on_roster and on_roster != campaign.electorate:
        raise ValidationError(
            _(
                "团员名册现有 %(n)s 人，与应参评人数 %(m)s 不一致："
                "请先重新生成投票码（按名册人数生成），再启用票箱。"
            )
            % {"n": on_roster, "m": campaign.electorate}
        )
    if campaign.codes.count() != campaign.electorate:
        raise ValidationError(_("请先生成投票码（每名参评团员一个），再启用票箱。"))
    members.electorate_freeze(campaign=campaign)
    public, shares = sealing.key_create(
        threshold=campaign.share_threshold, count=campaign.share_count
    )
    campaign.public_key = public
    campaign.save(update_fields=["public_key"])
    BallotBox.objects.create(campaign=campaign)
    return shares


@transaction.atomic
def shares_lost_report(*, campaign: Campaign, lost: int, by: User) -> Campaign:
    """Record how many scrutineers' shares are lost. Below the threshold the campaign can never
    be counted: votes are refused and every page says so."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    require_staff_above(branch=campaign.branch, by=by)
    if campaign.closed_at is not None:
        raise ValidationError(_("测评已经结算，无需登记份额遗失。"))
    if not 0 <= lost <= campaign.share_count:
        raise ValidationError(_("遗失份额数应在 0 到 %(n)s 之间。") % {"n": campaign.share_count})
    campaign.shares_lost = lost
    campaign.save(update_fields=["shares_lost"])
    return campaign


def ballot_cast(
    *,
    code: str,
    campaign_id: int | None,
    overall: str,
    aspects: list[str],
    comment: str = "",
    now: datetime.datetime | None = None,
) -> str:
    """Cast a ballot with a one-time code; returns the voter's receipt (hash of the ciphertext).

    One transaction, the same seven statements whatever the number of ballots already cast
    (counted in tests/benchmark/test_ballot_settlement.py):
    1. find the code's campaign (VotingCode rows are only read, never written, by a vote);
    2. lock the campaign row: votes of one campaign are serialised, and a vote cannot slip past
       the closing (campaign_close and settlement take the same lock);
    3. lock the campaign's box row and read the used-code digests (32 bytes per vote) and the
       box's size; check the code is unused, of this campaign, open;
    4. seal the ballot to the campaign's public key (padded to a fixed length) — the plaintext
       never reaches the database;
    5. one UPDATE of the box: the ciphertext into a uniformly random slot (`_box_insert`), the
       code's digest into sorted position.
    Two concurrent submissions with one code: the second waits at 2, then finds the code used
    at 3. Nothing is logged, cached, put in the session or sent to a task.
    """
    now = now or timezone.now()
    normalised = normalise_code(code)
    comment = (comment or "").strip()
    if len(normalised) != CODE_LENGTH:
        raise VoteError(_("投票码不正确，请核对后重新输入。"), counts_as_guess=True)
    code_hash = hash_code(normalised)
    digest = bytes.fromhex(code_hash)
    with transaction.atomic():
        owner = VotingCode.objects.filter(code_hash=code_hash).values_list("campaign_id").first()
        if owner is None:
            raise VoteError(_("投票码不正确，请核对后重新输入。"), counts_as_guess=True)
        if campaign_id is not None and owner[0] != campaign_id:
            raise VoteError(_("该投票码不属于本次测评，请使用本支部发放的投票码。"))
        campaign = Campaign.objects.select_for_update().get(pk=owner[0])
        _check_open(campaign, now)
        box = (
            BallotBox.objects.select_for_update()
            .filter(campaign_id=campaign.pk)
            .values_list("used", Length("sealed"))
            .first()
        )
        # Codes are regenerated (under the campaign lock) only while the box is empty; a code
        # read in 1 that is gone now was replaced in between.
        if box is None or not VotingCode.objects.filter(code_hash=code_hash).exists():
            raise VoteError(_("投票码不正确，请核对后重新输入。"), counts_as_guess=True)
        used, sealed_length = bytes(box[0]), box[1]
        if _is_used(used, digest):
            raise VoteError(_("该投票码已经使用过，每个投票码只能投一次票。"))
        _clean_answers(campaign, overall, aspects, comment)
        ciphertext = sealing.ballot_seal(
            public_key=sealing.public_key_of(campaign.public_key),
            overall=overall,
            aspects=list(aspects),
            comment=comment,
        )
        _box_insert(
            campaign_id=campaign.pk,
            ciphertext=ciphertext,
            cast=sealed_length // sealing.CIPHERTEXT_LENGTH,
            used=used,
            digest=digest,
        )
    return sealing.receipt_for(ciphertext)


def _box_insert(
    *, campaign_id: int, ciphertext: bytes, cast: int, used: bytes, digest: bytes
) -> None:
    """Put one ciphertext into the box at a uniformly random slot among the cast + 1 slots, and
    the code's digest into the sorted used set, in one UPDATE of the one row.

    Inserting each new item at a uniformly random position yields a uniformly random
    permutation of all items, so the box's order says nothing about the order of casting; the
    slot comes from secrets (the OS's CSPRNG). The row has one writer at any moment (the last
    vote) and no column with a time in it. On PostgreSQL the splice runs inside the server
    (substring || new || substring): the box does not travel to Python and back, and reading it
    goes through the TOAST index by the value's own id, so dead versions left by earlier votes
    (which no vacuum may prune while any old snapshot is open on the server) are never visited.
    Elsewhere (SQLite, whose || turns blobs into text): the same splice in Python.
    """
    digests = BallotBox.split_digests(used)
    bisect.insort(digests, digest)
    new_used = b"".join(digests)
    at = _rng.randrange(cast + 1) * sealing.CIPHERTEXT_LENGTH
    if connection.vendor == "postgresql":
        table = BallotBox._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET sealed = substring(sealed FROM 1 FOR %s) || %s::bytea "
                "|| substring(sealed FROM %s), used = %s WHERE campaign_id = %s",
                [at, ciphertext, at + 1, new_used, campaign_id],
            )
        return
    box = BallotBox.objects.get(campaign_id=campaign_id)
    sealed = bytes(box.sealed)
    box.sealed = sealed[:at] + ciphertext + sealed[at:]
    box.used = new_used
    box.save(update_fields=["sealed", "used"])


def campaign_close(
    *, campaign: Campaign, by: User | None = None, now: datetime.datetime | None = None
) -> Campaign:
    """End the voting (by staff, early; or by time when `by` is None). Counting is a separate
    step, by the scrutineers: campaign_settle.

    1. lock the campaign; an ended or settled campaign is returned unchanged (idempotent);
    2. staff may end early only after the opening; by time only past the closing time;
    3. record the end and the turnout (used codes — a count, no answer).
    """
    now = now or timezone.now()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.closed_at is not None or campaign.voting_closed_at is not None:
            return campaign
        if by is not None:
            require_staff_above(branch=campaign.branch, by=by)
            if now < campaign.opens_at:
                raise ValidationError(_("测评尚未开始，不能结束。可以修改时间或删除。"))
        elif now < campaign.closes_at:
            raise ValidationError(_("测评还没有到截止时间。"))
        # The end of voting, no finer than the campaign's own closing time when by time.
        campaign.voting_closed_at = min(now, campaign.closes_at)
        campaign.closed_by = by
        campaign.turnout = box_counts(campaign_id=campaign.pk)[1]
        campaign.save(update_fields=["voting_closed_at", "closed_by", "turnout"])
    return campaign


def close_due_campaigns(*, now: datetime.datetime | None = None) -> int:
    """End voting of every campaign whose closing time has passed; returns how many. Idempotent.
    Counting waits for the scrutineers (campaign_settle)."""
    now = now or timezone.now()
    due = list(
        Campaign.objects.filter(
            closed_at__isnull=True, voting_closed_at__isnull=True, closes_at__lte=now
        ).values_list("pk", flat=True)
    )
    for pk in due:
        campaign_close(campaign=Campaign(pk=pk), by=None, now=now)
    return len(due)
