"""Demo ballots: campaigns in every state, cast through the real voting service.

Branches (banner demo): 天山镇第1/2团支部 and 双胜镇第1/2团支部, plus a 3-member 双胜镇第3团支部
created here (organisation through cadres.services; its secretary as a plain cadre row, since
the registry has no cadre service yet). Answers follow ctx.rng; codes, receipts and row ids are
random by design (they must never be reproducible).
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from cadres import services as cadre_services
from cadres.models import Cadre, CadreType, Organisation, User
from cadres.selectors import organisation_subtree

from . import campaigns, services, settlement
from .models import Answer, Campaign, ReelectionProcedure

COMMENTS = [
    "希望多组织一些志愿服务活动。",
    "书记工作认真，联系我们很及时。",
    "团课可以更生动一些。",
    "希望能帮助返乡青年对接创业资源。",
    "",
    "",
]


def _branch(banner: Organisation, name: str) -> Organisation | None:
    return organisation_subtree(organisation=banner).filter(name=name).first()


def _secretary(branch: Organisation) -> Cadre | None:
    return (
        Cadre.objects.filter(organisation=branch, is_branch_secretary=True).order_by("pk").first()
    )


def _campaign(ctx, *, branch, secretary, by, year, electorate, votes, mix, close_days_ago=None):
    """Create, generate codes, cast `votes` ballots with answers drawn from `mix` (weights for
    满意 / 基本满意 / 不满意), then optionally move the window into the past and close."""
    now = timezone.now()
    campaign = campaigns.campaign_create(
        branch=branch,
        secretary=secretary,
        year=year,
        electorate=electorate,
        opens_at=now - datetime.timedelta(days=2),
        closes_at=now + datetime.timedelta(days=5),
        by=by,
    )
    codes = services.codes_generate(campaign=campaign, by=by)
    # The demo plays the scrutineers too: it keeps the shares only to settle below.
    shares = services.ballot_box_open(campaign=campaign, by=by)
    campaign.refresh_from_db()
    rng = ctx.rng
    answers = list(Answer.values)
    for code in codes[:votes]:
        overall = rng.choices(answers, weights=mix)[0]
        services.ballot_cast(
            code=code,
            campaign_id=campaign.pk,
            overall=overall,
            aspects=[rng.choices(answers, weights=mix)[0] for _ in campaign.aspects],
            comment=rng.choice(COMMENTS),
        )
    if close_days_ago is None:
        # The server keeps no share (that is the point of sealing), and this open campaign is
        # not settled here: printing its slips into the seed output is the only way anyone
        # trying the demo can ever count it at /surveys/campaigns/<pk>/settle/. Demo data only.
        ctx.log(
            f"满意度测评 {campaign.branch.name}（第 {campaign.pk} 号，投票中）监票人份额，"
            f"任意 {campaign.share_threshold} 份可结算："
        )
        for n, share in enumerate(shares, start=1):
            ctx.log(f"  份额 {n}: {share}")
    else:
        closes = now - datetime.timedelta(days=close_days_ago)
        if year != now.year:
            closes -= datetime.timedelta(days=365 * (now.year - year))
        Campaign.objects.filter(pk=campaign.pk).update(
            opens_at=closes - datetime.timedelta(days=7), closes_at=closes
        )
        campaign.refresh_from_db()
        services.campaign_close(campaign=campaign, by=None, now=closes)
        campaign = settlement.campaign_settle(
            campaign=campaign, shares=shares[:2], by=by, now=closes
        )
    return campaign


def seed(ctx) -> None:
    banner = ctx.data["banner"]
    by = User.objects.filter(username="county").first()
    shuangsheng = _branch(banner, "双胜镇团委")
    names = ["天山镇第1团支部", "天山镇第2团支部", "双胜镇第1团支部", "双胜镇第2团支部"]
    branches = [_branch(banner, name) for name in names]
    if by is None or shuangsheng is None or not all(branches):
        ctx.log("满意度测评：演示组织不完整，跳过")
        return
    small = cadre_services.organisation_create(
        name="双胜镇第3团支部", kind=Organisation.Kind.BRANCH, parent=shuangsheng
    )
    Cadre.objects.create(
        name=ctx.person_name(),
        gender="F",
        organisation=small,
        cadre_type=CadreType.PART_TIME,
        position="团支部书记",
        is_branch_secretary=True,
        phone=ctx.phone(),
        active_from=ctx.today - datetime.timedelta(days=400),
    )
    tianshan1, tianshan2, shuangsheng1, shuangsheng2 = branches
    year = timezone.localdate().year
    # Closed, valid, satisfied.
    _campaign(
        ctx,
        branch=tianshan1,
        secretary=_secretary(tianshan1),
        by=by,
        year=year,
        electorate=30,
        votes=26,
        mix=[70, 25, 5],
        close_days_ago=10,
    )
    # Closed, valid, not satisfied: a re-election procedure under way.
    unhappy = _campaign(
        ctx,
        branch=tianshan2,
        secretary=_secretary(tianshan2),
        by=by,
        year=year,
        electorate=24,
        votes=20,
        mix=[20, 15, 65],
        close_days_ago=12,
    )
    if unhappy.outcome == "not_satisfied":
        procedure = ReelectionProcedure.objects.get(campaign=unhappy)
        settlement.reelection_update(
            procedure=procedure,
            status=ReelectionProcedure.Status.IN_PROGRESS,
            notes="已向镇团委报告，拟于下月召开团员大会按程序改选。",
            by=by,
        )
    # Open: 11 of 28 have voted so far.
    _campaign(
        ctx,
        branch=shuangsheng1,
        secretary=_secretary(shuangsheng1),
        by=by,
        year=year,
        electorate=28,
        votes=11,
        mix=[60, 30, 10],
    )
    # Planned: opens in ten days, codes not generated yet.
    now = timezone.now()
    campaigns.campaign_create(
        branch=shuangsheng2,
        secretary=_secretary(shuangsheng2),
        year=year,
        electorate=22,
        opens_at=now + datetime.timedelta(days=10),
        closes_at=now + datetime.timedelta(days=17),
        by=by,
    )
    # A 3-member branch: valid, but only the outcome is shown (small-group protection).
    _campaign(
        ctx,
        branch=small,
        secretary=_secretary(small),
        by=by,
        year=year,
        electorate=3,
        votes=3,
        mix=[70, 30, 0],
        close_days_ago=8,
    )
    # Last year: invalid for low turnout (12 of 30, quorum 20).
    _campaign(
        ctx,
        branch=tianshan1,
        secretary=_secretary(tianshan1),
        by=by,
        year=year - 1,
        electorate=30,
        votes=12,
        mix=[70, 25, 5],
        close_days_ago=20,
    )
    ctx.log(f"满意度测评 {Campaign.objects.count()} 次")
