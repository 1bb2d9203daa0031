"""The "1+100" quota rule, in one place: "不少于100名不同领域的团员青年".

A cadre has met the quota when they hold enough distinct youths AND those youths cover enough
fields (领域). Liaison channels are guidance shown to the cadre, not part of the bar.

Every page, export and task asks this module, in one of three forms of the same rule:
- `quota_met(youths, fields, rule)` for one row in Python (flags, eligibility, a cadre's page);
- `quota_met_q(...)` / `quota_met_expression(...)` for set-based ORM code (the cadre list and
  home panel over live progress, the dashboard, bulletin and ranking over stored scores);
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

from django.db.models import BooleanField, ExpressionWrapper, F, Q

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


def quota_met_q(
    *,
    youths: str = "linked",
    fields: str = "sectors",
    quota: str = "quota",
    min_sectors: str = "min_sectors",
) -> Q:
    """The same rule as a Q over columns/annotations (defaults: CadreScore's column names)."""
    return Q(**{f"{youths}__gte": F(quota)}) & Q(**{f"{fields}__gte": F(min_sectors)})


def quota_met_expression(**names: str) -> ExpressionWrapper:
    """The rule as a boolean annotation (same arguments as `quota_met_q`)."""
    return ExpressionWrapper(quota_met_q(**names), output_field=BooleanField())


def sql_params() -> dict[str, int]:
    """The defaults as named parameters of raw SQL: %(default_quota)s, %(default_min_sectors)s."""
    return {"default_quota": DEFAULT_QUOTA, "default_min_sectors": DEFAULT_MIN_SECTORS}
