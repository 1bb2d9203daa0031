"""benchmark_history on PostgreSQL: --add-years copies the contact logs back by whole years
(each copy with its youth rows), refuses to do it twice, and the rounds are rolled back."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from assessment.models import ScoreRun
from contacts.models import Contact, ContactYouth
from tests.assessment.conftest import link_youths, log_contact

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the benchmark is PostgreSQL's"),
]


def test_add_years_copies_contacts_back_and_times_the_quarter(tree, quota10):
    youths = link_youths(tree.cadre, 4, sectors=2)
    today = timezone.localdate()
    log_contact(tree.cadre, youths[:3], today, "talk")
    out = io.StringIO()
    call_command("benchmark_history", add_years=2, rounds=1, stdout=out)
    assert Contact.objects.count() == 3
    assert ContactYouth.objects.count() == 9
    dates = sorted(ContactYouth.objects.values_list("date", flat=True).distinct())
    assert [(today - d).days for d in dates] == [730, 365, 0]
    assert "全链路" in out.getvalue()
    assert ScoreRun.objects.get().runs == 1  # the timed round was rolled back
    with pytest.raises(CommandError, match="已有复制的历史"):
        call_command("benchmark_history", add_years=1, stdout=io.StringIO())
