"""Activity categories: the seed's (理论学习 … 培训讲座), and a work plan's, which are the same plus
the two lines of work a plan has that are not activities (1+100 工作, 组织建设). One list, so a new
activity category is plannable without a second edit."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ActivityCategory(models.TextChoices):
    THEORY = "theory", _("理论学习")
    THEMATIC = "thematic", _("主题教育")
    CARE = "care", _("关爱帮扶")
    EMPLOYMENT = "employment", _("就业创业")
    CULTURE = "culture", _("文体活动")
    VOLUNTEER = "volunteer", _("志愿服务")
    TRAINING = "training", _("培训讲座")
    OTHER = "other", _("其他")


# "其他" stays last in both lists.
PlanCategory = models.TextChoices(  # type: ignore[misc]
    "PlanCategory",
    [(c.name, (c.value, c.label)) for c in ActivityCategory if c is not ActivityCategory.OTHER]
    + [
        ("ONE_PLUS_100", ("one_plus_100", _("1+100 工作"))),
        ("ORG_BUILDING", ("org_building", _("组织建设"))),
        ("OTHER", (ActivityCategory.OTHER.value, ActivityCategory.OTHER.label)),
    ],
)
