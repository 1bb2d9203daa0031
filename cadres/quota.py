"""The "1+100" quota rule, in one place: "不少于100名不同领域的团员青年".

A cadre has met the quota when they hold enough distinct youths AND those youths cover enough
fields (领域). Liaison channels are guidance shown to the cadre, not part of the bar.

Every page, export and task asks this module, in one of three forms of the same rule:
- `quota_met(youths, fields, rule)` for one row in Python (flags, eligibility, a cadre's page);
- `quota_met_q(...)` / `quota_met_expression(...)` for set-based ORM code (the stored progress
  that the cadre list sorts and filters on, the dashboard, bulletin and ranking over stored
  scores); `progress_expression(...)` is the list's sortable ratio, in the same two forms;
- `sql_params()` for the raw metrics SQL (assessment/metrics.py), which takes the defaults as
  parameters instead of literals.

Who counts: the youths linked to the cadre (CadreYouth), nothing else. A youth who moved away
(`cadres.registry.youth_move_away`) or was merged into their duplicate (`cadres.merge`) stops
counting because their links end (or move to the surviving record), not through a condition
here: every form of the rule, the stored progress and the metrics SQL follow without a special
case. Their past contacts stay in the periods they happened in.

No import of models here: cadres/models.py takes its field defaults from this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from django.db.models import BooleanField, Expression, ExpressionWrapper, F, FloatField, Q, Value
from django.db.models.functions import Least

# When the committee has set no QuotaRule for a cadre type: 100 youths from 5 fields, and one
# of each of the 9 liaison-channel kinds the report lists (cadres.models.LiaisonChannel.Kind;
# a test keeps the two equal).
DEFAULT_QUOTA = 100
DEFAULT_MIN_SECTORS = 5
DEFAULT_MIN_CHANNELS = 9


class HasRule(Protocol):
    # Read-only members: a frozen Rule qualifies as well as a model row.
    @property
    def quota(self) -> int: ...

    @property
    def min_sectors(self) -> int: ...


@dataclass(frozen=True)
class Rule:
    """A quota rule as values: a QuotaRule row, a stored score's copy, or the defaults."""

    quota: int = DEFAULT_QUOTA
    min_sectors: int = DEFAULT_MIN_SECTORS
    min_channels: int = DEFAULT_MIN_CHANNELS


DEFAULT_RULE = Rule()


def quota_met(youths: int, fields: int, rule: HasRule | dict[str, int] = DEFAULT_RULE) -> bool:
    """The rule for one cadre: enough distinct youths and enough distinct fields among them.

    `rule` is anything with `quota` and `min_sectors` (a QuotaRule, a Rule, an annotated Cadre,
    a CadreScore) or a dict with those keys (a metrics row)."""
    if isinstance(rule, dict):
        quota, min_sectors = rule["quota"], rule["min_sectors"]
    else:
        quota, min_sectors = rule.quota, rule.min_sectors
    return youths >= quota and fields >= min_sectors


def _ref(value: str | int) -> F | Value:
    return F(value) if isinstance(value, str) else Value(value)


def quota_met_q(
    *,
    youths: str = "linked",
    fields: str = "sectors",
    quota: str | int = "quota",
    min_sectors: str | int = "min_sectors",
) -> Q:
    """The same rule as a Q over columns/annotations (defaults: CadreScore's column names).

    `quota` and `min_sectors` may also be numbers: one cadre type's rule, for a statement that
    handles one type at a time (the stored progress, `cadres.services.cadre_progress_refresh`)."""
    return Q(**{f"{youths}__gte": _ref(quota)}) & Q(**{f"{fields}__gte": _ref(min_sectors)})


def quota_met_expression(
    *,
    youths: str = "linked",
    fields: str = "sectors",
    quota: str | int = "quota",
    min_sectors: str | int = "min_sectors",
) -> ExpressionWrapper:
    """The rule as a boolean annotation (same arguments as `quota_met_q`)."""
    condition = quota_met_q(youths=youths, fields=fields, quota=quota, min_sectors=min_sectors)
    return ExpressionWrapper(condition, output_field=BooleanField())


def progress(youths: int, quota: int) -> float:
    """How far a cadre is towards the quota of youths, 0.0 to 1.0 (the cadre list's bar and
    its sort); fields are not in it: `quota_met` says whether the bar is met."""
    return min(youths * 1.0 / quota, 1.0)


def progress_expression(*, youths: str = "linked", quota: str | int = "quota") -> Expression:
    """`progress` as an ORM expression (same names as `quota_met_q`)."""
    return Least(
        ExpressionWrapper(F(youths) * Value(1.0) / _ref(quota), output_field=FloatField()),
        Value(1.0),
    )


def sql_params() -> dict[str, int]:
    """The defaults as named parameters of raw SQL: %(default_quota)s, %(default_min_sectors)s."""
    return {"default_quota": DEFAULT_QUOTA, "default_min_sectors": DEFAULT_MIN_SECTORS}
