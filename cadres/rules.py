"""The programme's rules that used to be edited only in Django admin (issue 15 item 2): the
quota per cadre type (QuotaRule) and the field list (Sector). Only the programme committee may
change them (`selectors.is_programme_committee`, as in admin); every change is logged with who.
A quota change moves every stored figure: the cadres' stored progress at once, the scores
within a minute (`assessment.freshness`)."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .models import CadreType, LiaisonChannel, QuotaRule, Sector, User
from .selectors import is_programme_committee

logger = logging.getLogger(__name__)


def _check(by: User) -> None:
    if not is_programme_committee(by):
        raise ValidationError(_("只有旗（县）级以上团委可以修改联系指标和领域。"))


@transaction.atomic
def quota_rule_set(
    *, cadre_type: str, quota: int, min_sectors: int, min_channels: int, by: User
) -> QuotaRule:
    """Set a cadre type's quota (youths, fields, channels); its effects in `quota_rule_changed`."""
    _check(by)
    if cadre_type not in CadreType.values:
        raise ValidationError({"cadre_type": _("团干部类型无效。")})
    if quota < 1:
        raise ValidationError({"quota": _("联系青年数至少为 1。")})
    fields = Sector.objects.filter(is_active=True).count()
    if not 0 <= min_sectors <= max(fields, 1):
        raise ValidationError(
            {"min_sectors": _("最少领域数应在 0 到 %(n)s 之间（启用的领域数）。") % {"n": fields}}
        )
    kinds = len(LiaisonChannel.Kind.values)
    if not 0 <= min_channels <= kinds:
        raise ValidationError(
            {"min_channels": _("最少联系渠道数应在 0 到 %(n)s 之间。") % {"n": kinds}}
        )
    rule, _created = QuotaRule.objects.update_or_create(
        cadre_type=cadre_type,
        defaults={"quota": quota, "min_sectors": min_sectors, "min_channels": min_channels},
    )
    logger.info(
        "quota rule %s set to %s/%s/%s by user %s",
        cadre_type,
        quota,
        min_sectors,
        min_channels,
        by.pk,
    )
    quota_rule_changed()
    return rule


def quota_rule_changed() -> None:
    """What any change of a quota rule moves (this module's service, and admin's edits and
    deletes): every cadre's stored progress takes the rule at once, in the caller's transaction
    (`services.cadre_progress_refresh`, the counts unchanged), and the stored scores are
    recomputed within a minute (`numbers_changed`)."""
    from assessment.freshness import numbers_changed

    from .services import cadre_progress_refresh

    cadre_progress_refresh(recount=False)
    numbers_changed()


@transaction.atomic
def sector_save(
    *,
    sector: Sector | None,
    name: str,
    code: str,
    sort_order: int = 0,
    is_active: bool = True,
    by: User,
) -> Sector:
    """Add a field (sector) or rename / reorder / switch one off. A field is never deleted:
    youths refer to it; switched off, it is no longer offered for new youths."""
    _check(by)
    row = sector or Sector()
    row.name, row.code, row.sort_order, row.is_active = (
        name.strip(),
        code.strip(),
        sort_order,
        is_active,
    )
    row.full_clean()
    row.save()
    logger.info("sector %s saved by user %s", row.pk, by.pk)
    return row
