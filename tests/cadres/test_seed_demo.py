from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from cadres.models import Cadre, CadreYouth, Organisation, User, Youth
from cadres.selectors import organisation_list

pytestmark = pytest.mark.django_db


def _snapshot():
    return (
        list(Organisation.objects.order_by("path").values_list("name", "kind", "depth")),
        list(Cadre.objects.order_by("pk").values_list("name", "cadre_type", "organisation__name")),
        list(Youth.objects.order_by("pk").values_list("name", "birth_year", "phone")[:500]),
        CadreYouth.objects.count(),
    )


def test_seed_demo_builds_a_banner_and_the_demo_logins():
    out = io.StringIO()
    call_command("seed_demo", seed=7, stdout=out)
    banner = Organisation.objects.get(kind=Organisation.Kind.BANNER)
    assert 15 <= Organisation.objects.filter(path__startswith=banner.path).count() - 1 <= 30
    assert 60 <= Cadre.objects.count() <= 100
    assert 7000 <= Youth.objects.count() <= 9000
    for username in ("admin", "city", "county", "township", "cadre"):
        assert User.objects.get(username=username).is_demo
        assert username in out.getvalue()
    city = User.objects.get(username="city")
    assert city.organisation.kind == Organisation.Kind.CITY
    assert organisation_list(user=city).filter(pk=banner.pk).exists()
    township = User.objects.get(username="township")
    assert not organisation_list(user=township).filter(pk=banner.pk).exists()
    cadre = Cadre.objects.get(user__username="cadre")
    assert cadre.youth_links.count() >= 90
    # Youth confirmations: the demo cadre's contacts are partly confirmed, one youth denied one.
    from contacts.models import Confirmation

    assert Confirmation.objects.filter(cadre=cadre, outcome="confirmed").count() >= 10
    assert Confirmation.objects.filter(outcome="denied").count() == 1
    assert Confirmation.objects.filter(same_device=True).count() == 1
    assert not Confirmation.objects.filter(contact__isnull=True).exists()


@pytest.mark.django_db(transaction=True)  # flush cannot run inside the test's transaction
def test_seed_demo_is_deterministic_for_a_seed():
    # The small scale runs every app's demo as the banner does, with fewer cadres and youths:
    # three seeds in a fraction of the time (each app's randomness is the same code path).
    call_command("seed_demo", scale="small", seed=11, stdout=io.StringIO())
    first = _snapshot()
    assert len(first[1]) >= 20 and len(first[2]) == 500 and first[3] > 1_500
    call_command("flush", interactive=False, verbosity=0)
    call_command("seed_demo", scale="small", seed=11, stdout=io.StringIO())
    assert _snapshot() == first
    call_command("flush", interactive=False, verbosity=0)
    call_command("seed_demo", scale="small", seed=12, stdout=io.StringIO())
    assert _snapshot() != first


def test_seed_demo_refuses_a_populated_database_but_if_empty_skips():
    call_command("seed_demo", scale="small", seed=1, stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("seed_demo", seed=1, stdout=io.StringIO())
    out = io.StringIO()
    call_command("seed_demo", if_empty=True, stdout=out)
    assert "跳过" in out.getvalue()


def test_seed_demo_years_writes_that_many_years_of_contacts_at_the_yearly_rate():
    """--years 3 (the cost-with-history benchmark): contacts spread over three years, about
    three times as many as one year."""
    import datetime

    from django.db.models import Max, Min
    from django.utils import timezone

    from contacts.models import Contact

    call_command("seed_demo", scale="small", seed=5, years=3, stdout=io.StringIO())
    span = Contact.objects.aggregate(first=Min("date"), last=Max("date"))
    today = timezone.localdate()
    assert span["first"] <= today - datetime.timedelta(days=2 * 365)
    per_year = Contact.objects.filter(date__gt=today - datetime.timedelta(days=365)).count()
    older = Contact.objects.filter(date__lte=today - datetime.timedelta(days=365)).count()
    assert 1.5 * per_year <= older <= 2.5 * per_year


def test_province_seed_has_a_province_root_cities_and_their_logins(monkeypatch):
    # The province tree and logins with a handful of cadres: the full size is for benchmarks.
    from cadres import demo
    from cadres.selectors import is_programme_committee
    from contacts import demo as contacts_demo

    monkeypatch.setitem(demo.SCALES, "province", (30, 3_000))
    monkeypatch.setattr(contacts_demo, "PROVINCE_RATE", 20)
    out = io.StringIO()
    call_command("seed_demo", scale="province", seed=3, stdout=out)
    kind = Organisation.Kind
    root = Organisation.objects.get(parent__isnull=True)
    assert root.kind == kind.PROVINCE
    assert Organisation.objects.filter(kind=kind.CITY, parent=root).count() == 12
    assert Organisation.objects.filter(kind=kind.BANNER).count() == 100
    province, city = User.objects.get(username="province"), User.objects.get(username="city")
    assert province.organisation == root and "province" in out.getvalue()
    assert organisation_list(user=province).filter(kind=kind.BANNER).count() == 100
    # `city` is one city: its own banners (the demo banner among them), not the others.
    city_banners = organisation_list(user=city).filter(kind=kind.BANNER)
    assert 5 <= city_banners.count() <= 12
    assert city_banners.filter(name="共青团阿鲁科尔沁旗委员会").exists()
    assert not organisation_list(user=city).filter(pk=root.pk).exists()
    assert is_programme_committee(province)
