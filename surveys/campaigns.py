"""Writes of a campaign's set-up (书记满意度测评): who may run a branch's ballot, the campaign's
checks, its creation, its edits before it opens (the rules freeze once the ballot box is open)
and its deletion before anyone voted. The codes, the ballot box, the votes and closing are in
surveys/services.py; counting and the re-election in surveys/settlement.py."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from cadres.models import Cadre, Organisation, User

from . import members
from .models import Campaign, Outcome
from .selectors import box_counts

MAX_ELECTORATE = 2000
MIN_BALLOTS_SHOWN = 5  # the small-group threshold never goes below this (also a DB check)
RULE_FIELDS = (
    "aspects",
    "allow_comment",
    "quorum_num",
    "quorum_den",
    "not_satisfied_num",
    "not_satisfied_den",
    "min_ballots_shown",
)


def require_staff_above(*, branch: Organisation, by: User) -> None:
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
    *,
    branch: Organisation,
    secretary: Cadre,
    opens_at: datetime.datetime,
    closes_at: datetime.datetime,
    electorate: int,
    by: User,
    min_ballots_shown: int = MIN_BALLOTS_SHOWN,
) -> None:
    errors: dict[str, str] = {}
    if min_ballots_shown < MIN_BALLOTS_SHOWN:
        errors["min_ballots_shown"] = _("为保护投票人，公布票数的最少票数不能低于 %(n)s。") % {
            "n": MIN_BALLOTS_SHOWN
        }
    if branch.kind != Organisation.Kind.BRANCH:
        errors["branch"] = _("只能对团支部开展书记满意度测评。")
    if (
        secretary.organisation_id != branch.pk
        or not secretary.is_branch_secretary
        or not secretary.is_active
    ):
        errors["secretary"] = _("请选择该团支部现任的团支部书记。")
    elif secretary.user_id is not None and secretary.user_id == by.pk:
        errors["secretary"] = _("不能组织对自己的测评。")
    if closes_at <= opens_at:
        errors["closes_at"] = _("截止时间必须晚于开始时间。")
    if not electorate:
        errors["electorate"] = _("该团支部还没有团员名册：请填写在册团员人数，或先导入团员名册。")
    elif not 1 <= electorate <= MAX_ELECTORATE:
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
    opens_at: datetime.datetime,
    closes_at: datetime.datetime,
    aspects: list[str] | None = None,
    allow_comment: bool = True,
    quorum: tuple[int, int] = (2, 3),
    not_satisfied: tuple[int, int] = (1, 3),
    min_ballots_shown: int = 5,
    shares: tuple[int, int] = (2, 3),
    by: User,
) -> Campaign:
    require_staff_above(branch=branch, by=by)
    _validate_shares(shares)
    electorate = members.roster_size(branch=branch) or electorate
    if (
        Campaign.objects.filter(branch=branch, secretary=secretary, year=year)
        .exclude(outcome=Outcome.INVALID)
        .exists()
    ):
        raise ValidationError(
            {
                "secretary": _(
                    "%(name)s 在 %(year)s 年度已有一次测评，同一书记每年只测评一次"
                    "（只有参评人数不足而无效的测评可以重新组织）。"
                )
                % {"name": secretary.name, "year": year}
            }
        )
    _validate_campaign(
        branch=branch,
        secretary=secretary,
        opens_at=opens_at,
        closes_at=closes_at,
        electorate=electorate,
        by=by,
        min_ballots_shown=min_ballots_shown,
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
        share_threshold=shares[0],
        share_count=shares[1],
        created_by=by,
        **kwargs,
    )


@transaction.atomic
def campaign_update(
    *,
    campaign: Campaign,
    electorate: int,
    opens_at: datetime.datetime,
    closes_at: datetime.datetime,
    aspects: list[str],
    allow_comment: bool,
    quorum: tuple[int, int],
    not_satisfied: tuple[int, int],
    min_ballots_shown: int,
    shares: tuple[int, int] | None = None,
    by: User,
) -> Campaign:
    """Edit a campaign before it opens. The electorate may only change while no codes exist
    (codes are generated one per member); the rules (RULE_FIELDS) are frozen once the ballot
    box is open, even before the opening time: the scrutineers took their shares on them."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    require_staff_above(branch=campaign.branch, by=by)
    if campaign.status != Campaign.Status.PLANNED:
        raise ValidationError(_("测评已经开始，不能再修改设置。"))
    new_rules = {
        "aspects": [a.strip() for a in aspects if a.strip()][:10],
        "allow_comment": allow_comment,
        "quorum_num": quorum[0],
        "quorum_den": quorum[1],
        "not_satisfied_num": not_satisfied[0],
        "not_satisfied_den": not_satisfied[1],
        "min_ballots_shown": min_ballots_shown,
    }
    if shares is not None:
        _validate_shares(shares)
        new_rules["share_threshold"], new_rules["share_count"] = shares
    if campaign.is_sealed and any(getattr(campaign, f) != v for f, v in new_rules.items()):
        raise ValidationError(
            _(
                "票箱已经启用，测评规则（有效比例、不满意判定、分项、意见、最少公布票数）不能再修改。"
            )
        )
    electorate = members.roster_size(branch=campaign.branch) or electorate
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
        min_ballots_shown=min_ballots_shown,
    )
    campaign.electorate = electorate
    campaign.opens_at, campaign.closes_at = opens_at, closes_at
    campaign.aspects = [a.strip() for a in aspects if a.strip()][:10]
    campaign.allow_comment = allow_comment
    campaign.quorum_num, campaign.quorum_den = quorum
    campaign.not_satisfied_num, campaign.not_satisfied_den = not_satisfied
    campaign.min_ballots_shown = min_ballots_shown
    if shares is not None:
        campaign.share_threshold, campaign.share_count = shares
    campaign.save()
    return campaign


def _validate_shares(shares: tuple[int, int]) -> None:
    threshold, count = shares
    if not 2 <= threshold <= count <= 9:
        raise ValidationError(
            {"shares": _("监票人应为 2 到 9 人，计票所需人数至少 2 人且不超过监票人数。")}
        )


@transaction.atomic
def campaign_delete(*, campaign: Campaign, by: User) -> None:
    """A campaign can be deleted only before anyone voted."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    require_staff_above(branch=campaign.branch, by=by)
    if campaign.closed_at is not None or box_counts(campaign_id=campaign.pk)[1]:
        raise ValidationError(_("已有投票的测评不能删除。"))
    campaign.delete()
