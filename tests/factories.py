"""factory_boy factories for every app. Organisations go through the service (paths)."""

from __future__ import annotations

import datetime

import factory
from django.utils import timezone

from cadres import services as cadre_services
from cadres.models import (
    Cadre,
    CadreType,
    CadreYouth,
    LiaisonChannel,
    Organisation,
    QuotaRule,
    Sector,
    User,
    Youth,
)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"测试团委{n}")
    kind = Organisation.Kind.TOWNSHIP
    parent = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return cadre_services.organisation_create(
            name=kwargs["name"],
            kind=kwargs["kind"],
            parent=kwargs.get("parent"),
            is_active=kwargs.get("is_active", True),
        )


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Sequence(lambda n: f"用户{n}")
    organisation = factory.SubFactory(OrganisationFactory)
    role = User.Role.STAFF
    is_staff = factory.LazyAttribute(lambda u: u.role == User.Role.ADMIN)
    password = factory.PostGenerationMethodCall("set_password", "pw-lianqing-123")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class SectorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sector
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"sector{n}")
    name = factory.Sequence(lambda n: f"领域{n}")
    sort_order = factory.Sequence(int)


class QuotaRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QuotaRule
        django_get_or_create = ("cadre_type",)

    cadre_type = CadreType.FULL_TIME
    quota = 100
    min_sectors = 5


class CadreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cadre

    name = factory.Sequence(lambda n: f"团干部{n}")
    gender = "F"
    organisation = factory.SubFactory(OrganisationFactory)
    cadre_type = CadreType.FULL_TIME
    position = "副书记"
    phone = "13800000000"
    active_from = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=400))


class YouthFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Youth

    name = factory.Sequence(lambda n: f"青年{n}")
    gender = "M"
    birth_year = 1998
    sector = factory.SubFactory(SectorFactory)
    unit = "测试单位"
    organisation = factory.SubFactory(OrganisationFactory)


class LiaisonChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LiaisonChannel

    cadre = factory.SubFactory(CadreFactory)
    kind = LiaisonChannel.Kind.YOUTH_HOME
    name = factory.Sequence(lambda n: f"青年之家{n}")


class CadreYouthFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CadreYouth

    cadre = factory.SubFactory(CadreFactory)
    youth = factory.SubFactory(
        YouthFactory, organisation=factory.SelfAttribute("..cadre.organisation")
    )
    linked_on = factory.LazyFunction(timezone.localdate)


# --- assessment ---
from assessment.models import ScoringPolicy  # noqa: E402


class ScoringPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ScoringPolicy
        django_get_or_create = ("version",)

    version = 1
