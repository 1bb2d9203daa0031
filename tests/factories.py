"""factory_boy factories for every app. Organisations go through the service (paths)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager

import factory
from django.utils import timezone

from cadres import services as cadre_services
from cadres.models import (
    Cadre,
    CadreProgress,
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

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Sequence(lambda n: f"用户{n}")
    organisation = factory.SubFactory(OrganisationFactory)
    role = User.Role.STAFF
    is_staff = factory.LazyAttribute(lambda u: u.role == User.Role.ADMIN)
    # Hashed before the INSERT: one statement per user, not an INSERT and a second save.
    password = factory.django.Password("pw-lianqing-123")


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


# --- activities ---
from activities.models import Activity, Registration  # noqa: E402


class ActivityFactory(factory.django.DjangoModelFactory):
    """An activity under way (started an hour ago, two hours long), open for check-in."""

    class Meta:
        model = Activity

    title = factory.Sequence(lambda n: f"测试活动{n}")
    category = Activity.Category.VOLUNTEER
    organisation = factory.SubFactory(OrganisationFactory)
    starts_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(hours=1))
    ends_at = factory.LazyAttribute(lambda a: a.starts_at + datetime.timedelta(hours=2))
    status = Activity.Status.OPEN


class RegistrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Registration

    activity = factory.SubFactory(ActivityFactory)
    youth = factory.SubFactory(
        YouthFactory, organisation=factory.SelfAttribute("..activity.organisation")
    )
    source = Registration.Source.STAFF


# --- contacts ---


def log_contact(cadre, youths, *, channel="wechat", date=None, by=None, **kwargs):
    """A contact through the service (so ContactYouth rows are written as in production)."""
    from contacts.services import contact_log

    return contact_log(
        cadre=cadre,
        youths=youths,
        channel=channel,
        date=date or timezone.localdate(),
        by=by,
        **kwargs,
    )


class NeedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "contacts.Need"

    organisation = factory.SubFactory(OrganisationFactory)
    source = "venue"
    category = "employment"
    question = factory.Sequence(lambda n: f"需求问题{n}")
    due_date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=7))


# --- surveys ---
from surveys.models import Campaign  # noqa: E402


class CampaignFactory(factory.django.DjangoModelFactory):
    """An open campaign (opened an hour ago, closes in a week) on a branch's secretary."""

    class Meta:
        model = Campaign

    branch = factory.SubFactory(OrganisationFactory, kind=Organisation.Kind.BRANCH)
    secretary = factory.SubFactory(
        CadreFactory,
        organisation=factory.SelfAttribute("..branch"),
        is_branch_secretary=True,
        position="团支部书记",
    )
    year = factory.LazyFunction(lambda: timezone.localdate().year)
    electorate = 10
    opens_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(hours=1))
    closes_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=7))


# --- cadres ---
# Quota progress is stored (cadres.models.CadreProgress) and kept exact by the cadres services.
# Factories write rows directly, so links and channels made here recount their cadre as the
# services would; tests everywhere then see the same N/quota as the pages.
_deferred: list[set[int]] = []


@contextmanager
def recount_once() -> Iterator[None]:
    """Links and channels made inside are recounted in one refresh when the block ends, not one
    per row: a fixture linking 40 youths made 40 recounts (4 statements each), the largest
    single cost of the suite's fixtures. Nested blocks recount at the outermost one's end."""
    pending: set[int] = set()
    _deferred.append(pending)
    try:
        yield
    finally:
        _deferred.pop()
    if _deferred:
        _deferred[-1] |= pending
    elif pending:
        cadre_services.cadre_progress_refresh(cadre_ids=pending)


def _recount_after_create(factory_class):
    create = factory_class._create.__func__
    create_batch = factory_class.create_batch.__func__

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        obj = create(cls, model_class, *args, **kwargs)
        if _deferred:
            _deferred[-1].add(obj.cadre_id)
        else:
            cadre_services.cadre_progress_refresh(cadre_ids=[obj.cadre_id])
        return obj

    @classmethod
    def _create_batch(cls, size, **kwargs):
        with recount_once():
            return create_batch(cls, size, **kwargs)

    factory_class._create = _create
    factory_class.create_batch = _create_batch


_recount_after_create(CadreYouthFactory)
_recount_after_create(LiaisonChannelFactory)


def _rerate_after_create(factory_class):
    # A rule written here takes effect on the stored progress, as `rules.quota_rule_set` does.
    create = factory_class._create.__func__

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        obj = create(cls, model_class, *args, **kwargs)
        cadre_services.cadre_progress_refresh(recount=False)
        return obj

    factory_class._create = _create


_rerate_after_create(QuotaRuleFactory)


def _progress_row_after_create(factory_class):
    # Every cadre has its progress row (cadres.models.CadreProgress), as the services that
    # create cadres give it; a new cadre's row is the defaults: no youths, 0.0, not met.
    create = factory_class._create.__func__

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        obj = create(cls, model_class, *args, **kwargs)
        CadreProgress.objects.bulk_create([CadreProgress(cadre=obj)], ignore_conflicts=True)
        return obj

    factory_class._create = _create


_progress_row_after_create(CadreFactory)

# --- assessment ---
from assessment.models import ScoringPolicy  # noqa: E402


class ScoringPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ScoringPolicy
        django_get_or_create = ("version",)

    version = 1
