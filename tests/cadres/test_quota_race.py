"""A write that moves a cadre's quota figures while a quota rule changes stores the new rule's
verdict, not the old one's until the nightly recount: real threads, each with its own
PostgreSQL connection. (A link locks the cadre row first, which already kept a rule change
waiting; a youth's field change does not, and showed the race.)"""

from __future__ import annotations

import threading

import pytest

from cadres import registry, rules, selectors, services
from cadres.models import CadreProgress, CadreType
from tests.cadres.test_progress_stored import assert_stored_equals_live
from tests.factories import SectorFactory, YouthFactory
from tests.threads import in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# How long the write waits, right after reading the rules, for the rule change to finish. The
# change cannot finish while the write holds the cadre's progress row, so the write goes on
# after this; before the fix it read the rules unlocked and the change finished meanwhile.
WINDOW = 3.0


def test_a_field_change_racing_a_rule_change_stores_the_new_rules_verdict(tree, monkeypatch):
    first, second = SectorFactory(code="race-1"), SectorFactory(code="race-2")
    rules.quota_rule_set(
        cadre_type=CadreType.FULL_TIME, quota=2, min_sectors=2, min_channels=0, by=tree.county
    )
    youths = [YouthFactory(sector=first, organisation=tree.cadre.organisation) for _ in range(2)]
    for youth in youths:
        services.cadre_youth_link(cadre=tree.cadre, youth=youth)
    assert CadreProgress.objects.get(cadre=tree.cadre).quota_met is False  # one field of two

    rules_read, change_done = threading.Event(), threading.Event()
    real_quota_rules = selectors.quota_rules

    def quota_rules():
        found = real_quota_rules()
        if threading.current_thread().name == "write":
            rules_read.set()
            change_done.wait(WINDOW)
        return found

    monkeypatch.setattr(selectors, "quota_rules", quota_rules)
    moved = youths[1]

    def write():  # the second field: met under the old rule (2 youths, 2 fields)
        threading.current_thread().name = "write"
        registry.youth_update(
            youth=moved, name=moved.name, birth_year=moved.birth_year, sector=second, by=tree.owner
        )

    def change():  # three youths now: not met under the new rule
        assert rules_read.wait(30), "the write never read the rules"
        rules.quota_rule_set(
            cadre_type=CadreType.FULL_TIME, quota=3, min_sectors=2, min_channels=0, by=tree.county
        )
        change_done.set()

    assert in_threads(write, change) == []
    progress = CadreProgress.objects.get(cadre=tree.cadre)
    assert (progress.youth_count, progress.sector_count) == (2, 2)
    assert progress.quota_met is False
    assert_stored_equals_live()
