from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from cadres import services
from tests.factories import CadreFactory, LiaisonChannelFactory, SectorFactory, YouthFactory


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("13812345678", "13812345678"),
        ("１３８ １２３４ ５６７８", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("0086 13812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_normalise_phone_accepts_what_people_type(raw, expected):
    assert services.normalise_phone(raw) == expected


@pytest.mark.parametrize("raw", ["12345", "23812345678", "138123456789", "abc", "0471-1234567"])
def test_normalise_phone_rejects_non_mobiles_in_chinese(raw):
    with pytest.raises(ValidationError) as err:
        services.normalise_phone(raw)
    assert "手机号格式不正确" in str(err.value)


@pytest.mark.django_db
def test_youth_match_by_phone_then_identity(tree):
    sector = SectorFactory()
    by_phone = YouthFactory(phone="13800001111", organisation=tree.town_a, sector=sector)
    by_identity = YouthFactory(
        name="张三", birth_year=2000, unit="一中", organisation=tree.town_a, sector=sector
    )
    assert services.youth_match(phone="13800001111", name="别人") == by_phone
    assert services.youth_match(name="张三", birth_year=2000, unit="一中") == by_identity
    assert services.youth_match(name="张三", birth_year=2001, unit="一中") is None


@pytest.mark.django_db
def test_link_is_idempotent_and_checks_the_channel_owner(tree):
    youth = YouthFactory(organisation=tree.town_a)
    first = services.cadre_youth_link(cadre=tree.cadre, youth=youth, by=tree.owner)
    again = services.cadre_youth_link(cadre=tree.cadre, youth=youth)
    assert first.pk == again.pk
    assert first.history.first().history_user == tree.owner
    foreign = LiaisonChannelFactory(cadre=CadreFactory(organisation=tree.town_a))
    with pytest.raises(ValidationError):
        services.cadre_youth_link(cadre=tree.cadre, youth=YouthFactory(), channel=foreign)
