"""/join/<token>/: a youth joins a cadre's list from the cadre's card, with consent
(issue 14 item 1, PIPL): minors need the guardian's box, a phone already held in scope links
that youth, a phone held elsewhere says so without saying where, the page is rate-limited."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from cadres.models import CadreYouth, Consent, Youth
from cadres.privacy import CONSENT_WORDING_VERSION, JOIN_PHONE_HELD, join_token
from tests.factories import CadreFactory, SectorFactory, YouthFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def sector():
    return SectorFactory(code="enterprise", name="企业青年")


def url(cadre) -> str:
    return reverse("join", args=[join_token(cadre)])


def data(sector, **over) -> dict:
    return {
        "name": "乌兰",
        "phone": "139 0000 1111",
        "sector": sector.pk,
        "unit": "职教中心",
        "birth_year": "2001",
        "gender": "",
        "consent": "on",
    } | over


def test_the_page_shows_the_cadre_and_the_wording(
    client, tree, sector, django_assert_max_num_queries
):
    with django_assert_max_num_queries(6):
        response = client.get(url(tree.cadre))
    page = response.content.decode()
    assert response.status_code == 200
    assert tree.cadre.name in page and CONSENT_WORDING_VERSION in page and "同意" in page


def test_a_forged_or_numeric_token_is_404(client, tree):
    assert client.get(f"/join/{tree.cadre.pk}/").status_code == 404
    token = join_token(tree.cadre)
    assert client.get(f"/join/{token[:-2]}xx/").status_code == 404
    assert client.get(f"/join/{token}/done/").status_code == 200


def test_joining_creates_the_youth_the_link_and_the_consent(client, tree, sector):
    response = client.post(url(tree.cadre), data(sector))
    assert response.status_code == 302
    youth = Youth.objects.get(phone="13900001111")
    assert youth.organisation == tree.town_a and youth.name == "乌兰"
    assert CadreYouth.objects.filter(cadre=tree.cadre, youth=youth).exists()
    consent = Consent.objects.get(youth=youth)
    assert consent.wording_version == CONSENT_WORDING_VERSION
    assert consent.method == Consent.Method.SELF_JOIN and consent.cadre == tree.cadre
    assert consent.given_at <= timezone.now() and not consent.guardian_consent


def test_no_consent_writes_nothing_and_keeps_what_was_typed(client, tree, sector):
    response = client.post(url(tree.cadre), data(sector, consent=""))
    assert response.status_code == 200
    page = response.content.decode()
    assert "请阅读并勾选同意" in page and 'value="乌兰"' in page
    assert not Youth.objects.exists()


def test_a_minor_needs_the_guardians_box_and_is_flagged(client, tree, sector):
    young = str(timezone.localdate().year - 12)
    response = client.post(url(tree.cadre), data(sector, birth_year=young))
    assert response.status_code == 200 and "监护人" in response.content.decode()
    assert not Youth.objects.exists()
    response = client.post(url(tree.cadre), data(sector, birth_year=young, guardian_consent="on"))
    assert response.status_code == 302
    youth = Youth.objects.get()
    assert youth.is_minor and Consent.objects.get(youth=youth).guardian_consent


def test_a_phone_in_scope_links_the_existing_youth(client, tree, sector):
    existing = YouthFactory(name="乌兰", phone="13900001111", organisation=tree.branch_a)
    response = client.post(url(tree.cadre), data(sector, name="别的名字"))
    assert response.status_code == 302
    assert Youth.objects.count() == 1
    assert CadreYouth.objects.filter(cadre=tree.cadre, youth=existing).exists()
    assert Youth.objects.get().name == "乌兰"  # the registry's data stay as they were
    # Twice: still one youth and one link; the consent is recorded again.
    client.post(url(tree.cadre), data(sector))
    assert Youth.objects.count() == 1 and CadreYouth.objects.count() == 1
    assert Consent.objects.filter(youth=existing).count() == 2


def test_a_phone_held_outside_scope_says_so_without_saying_whose(client, tree, sector):
    YouthFactory(name="其其格", phone="13900001111", organisation=tree.town_b)
    response = client.post(url(tree.cadre), data(sector))
    page = response.content.decode()
    assert response.status_code == 200
    assert str(JOIN_PHONE_HELD) in page
    assert "其其格" not in page and tree.town_b.name not in page
    assert Youth.objects.count() == 1 and not CadreYouth.objects.exists()


def test_a_bad_phone_is_a_field_error(client, tree, sector):
    response = client.post(url(tree.cadre), data(sector, phone="12345"))
    assert response.status_code == 200 and "手机号格式不正确" in response.content.decode()


def test_the_page_is_rate_limited_and_keeps_the_text(client, tree, sector, settings):
    settings.LIANQING_JOIN_RATE = 1
    client.post(url(tree.cadre), data(sector, phone="13900002222"))
    response = client.post(url(tree.cadre), data(sector, phone="13900003333", name="第二人"))
    assert response.status_code == 429
    assert 'value="第二人"' in response.content.decode()
    assert not Youth.objects.filter(phone="13900003333").exists()


def test_a_cadre_who_left_has_no_join_page(client, tree):
    left = CadreFactory(
        organisation=tree.town_a, active_until=timezone.localdate() - timezone.timedelta(days=1)
    )
    assert client.get(url(left)).status_code == 404


def test_the_card_carries_the_join_code(client, tree):
    client.force_login(tree.cadre_user)
    page = client.get(f"/cadres/{tree.cadre.pk}/card/").content.decode()
    assert "加入联系" in page and join_token(tree.cadre) in page
