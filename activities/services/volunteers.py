"""Writes of the activities app's volunteer side: volunteer organisations and their members,
entered volunteer hours and their approval, commendations, entrepreneurship projects and their
support. None of these touch attendance or contacts."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cadres.models import Organisation, User, Youth

from ..models import (
    Activity,
    Commendation,
    EntrepreneurshipProject,
    Partner,
    ProjectSupport,
    VolunteerHours,
    VolunteerOrganisation,
)
from .events import parse_hours

# --- volunteers ---------------------------------------------------------------------------------


def volunteer_organisation_create(
    *, name: str, organisation: Organisation, description: str = "", by: User
) -> VolunteerOrganisation:
    vo = VolunteerOrganisation(
        name=name.strip(), organisation=organisation, description=description
    )
    vo.full_clean()
    vo.save()
    return vo


def volunteer_members_add(
    *, volunteer_organisation: VolunteerOrganisation, youths: Iterable[Youth], by: User
) -> None:
    volunteer_organisation.members.add(*youths)


def volunteer_hours_enter(
    *,
    youth: Youth,
    organisation: Organisation,
    date: datetime.date,
    hours: Decimal | float | str,
    description: str,
    volunteer_organisation: VolunteerOrganisation | None = None,
    by: User,
) -> VolunteerHours:
    hours = parse_hours(hours)
    if hours <= 0:
        raise ValidationError({"hours": _("时长必须大于 0。")})
    if hours > 24:
        raise ValidationError({"hours": _("一天的服务时长不能超过 24 小时。")})
    if date > timezone.localdate():
        raise ValidationError({"date": _("服务日期不能晚于今天。")})
    return VolunteerHours.objects.create(
        youth=youth,
        organisation=organisation,
        date=date,
        hours=hours,
        description=description,
        volunteer_organisation=volunteer_organisation,
        entered_by=by,
    )


def volunteer_hours_decide(*, record: VolunteerHours, approve: bool, by: User) -> VolunteerHours:
    status = VolunteerHours.Status.APPROVED if approve else VolunteerHours.Status.REJECTED
    VolunteerHours.objects.filter(pk=record.pk).update(status=status, approved_by=by)
    record.status, record.approved_by = status, by
    return record


# --- commendations and entrepreneurship ---------------------------------------------------------


def commendation_create(
    *,
    title: str,
    organisation: Organisation,
    date: datetime.date,
    by: User,
    youth: Youth | None = None,
    team_name: str = "",
    activity: Activity | None = None,
    citation: str = "",
) -> Commendation:
    if youth is None and not team_name.strip():
        raise ValidationError(_("请选择受表彰的青年，或填写受表彰的集体名称。"))
    try:
        with transaction.atomic():
            return Commendation.objects.create(
                title=title.strip(),
                organisation=organisation,
                date=date,
                youth=youth,
                team_name=team_name.strip(),
                activity=activity,
                citation=citation,
            )
    except IntegrityError:
        raise ValidationError(_("表彰信息不完整。")) from None


def project_save(
    *, by: User, project: EntrepreneurshipProject | None = None, **fields: Any
) -> EntrepreneurshipProject:
    project = project or EntrepreneurshipProject()
    for name, value in fields.items():
        setattr(project, name, value)
    project.full_clean()
    project.save()
    return project


def support_add(
    *,
    project: EntrepreneurshipProject,
    kind: str,
    date: datetime.date,
    by: User,
    description: str = "",
    partner: Partner | None = None,
    loan_amount: Decimal | None = None,
    loan_status: str = "",
    mentor: str = "",
) -> ProjectSupport:
    if kind == ProjectSupport.Kind.LOAN:
        if loan_amount is None or loan_amount <= 0:
            raise ValidationError({"loan_amount": _("小额贷款推荐请填写大于 0 的贷款金额。")})
        loan_status = loan_status or ProjectSupport.LoanStatus.REFERRED
    else:
        loan_amount, loan_status = None, ""
    if kind == ProjectSupport.Kind.MENTORING and not mentor.strip():
        raise ValidationError({"mentor": _("请填写创业导师姓名。")})
    return ProjectSupport.objects.create(
        project=project,
        kind=kind,
        date=date,
        description=description,
        partner=partner,
        loan_amount=loan_amount,
        loan_status=loan_status,
        mentor=mentor.strip(),
        created_by=by,
    )
