"""Anonymity by design and by test (MISSION.md, "Anonymity is absolute"; README, threat model)."""

from __future__ import annotations

import logging
import pickle
import uuid
from unittest import mock

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection, models

from surveys import sealing
from surveys.models import Ballot, VotingCode
from tests.surveys.helpers import open_campaign, vote

pytestmark = pytest.mark.django_db

TIME_FIELDS = (models.DateField, models.DateTimeField, models.TimeField, models.DurationField)


def _concrete(model):
    return {f.name: f for f in model._meta.get_fields() if f.concrete}


@pytest.mark.parametrize("model", [Ballot, VotingCode])
def test_anonymous_tables_have_no_time_no_sequence_and_only_the_campaign_relation(model):
    fields = _concrete(model)
    assert not [n for n, f in fields.items() if isinstance(f, TIME_FIELDS)]
    relations = {n: f.related_model._meta.label for n, f in fields.items() if f.is_relation}
    assert relations == {"campaign": "surveys.Campaign"}
    pk = model._meta.pk
    assert isinstance(pk, models.UUIDField) and pk.default is uuid.uuid4
    assert not isinstance(pk, models.AutoField | models.BigAutoField)


def test_ballot_holds_only_campaign_and_answers():
    assert set(_concrete(Ballot)) == {"id", "campaign", "ciphertext"}
    assert set(_concrete(VotingCode)) == {"id", "campaign", "code_hash", "used"}


def test_nothing_refers_to_ballots_codes_or_receipts_and_no_history_or_admin():
    anonymous = {Ballot, VotingCode}
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if field.is_relation and field.concrete:
                assert field.related_model not in anonymous, f"{model} → {field.related_model}"
    labels = {m._meta.label_lower for m in apps.get_models()}
    assert not {"surveys.historicalballot", "surveys.historicalvotingcode"} & labels
    assert not anonymous & set(admin.site._registry)


def _physical(sql: str) -> list:
    """Rows as a dump lists them: SELECT without ORDER BY."""
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]


def test_physical_order_does_not_follow_casting_order(tree):
    """12 votes in a known order: ciphertexts (named by their receipts) and used codes must not
    lie in that order. (Without the per-vote rewrite both would; a false failure needs 1 in
    12! ≈ 2·10⁻⁹.)"""
    campaign, codes = open_campaign(tree, electorate=15)
    from surveys.services import hash_code

    cast_hashes, receipts = [], []
    for n, code in enumerate(codes[:12]):
        receipts.append(vote(code, campaign, comment=f"c{n:02d}"))
        cast_hashes.append(hash_code(code))
    ballots = [
        sealing.receipt_for(c) for c in _physical(f"SELECT ciphertext FROM {Ballot._meta.db_table}")
    ]
    assert sorted(ballots) == sorted(receipts)
    assert ballots != receipts and ballots != receipts[::-1]
    used = set(cast_hashes)
    stored = [
        h for h in _physical(f"SELECT code_hash FROM {VotingCode._meta.db_table}") if h in used
    ]
    assert sorted(stored) == sorted(cast_hashes)
    assert stored != cast_hashes and stored != cast_hashes[::-1]


def test_ballot_ids_change_on_every_vote(tree):
    """Row identities are not stable across votes, so two dumps cannot be diffed by id."""
    campaign, codes = open_campaign(tree)
    vote(codes[0], campaign)
    before = set(Ballot.objects.values_list("id", flat=True))
    vote(codes[1], campaign)
    assert not before & set(Ballot.objects.values_list("id", flat=True))


def test_a_vote_writes_no_session_no_log_no_cache_and_no_task(client, tree, caplog):
    campaign, codes = open_campaign(tree)
    code = codes[0]
    cache.clear()
    data = {"step": "cast", "code": code, "campaign": campaign.pk, "overall": "not_satisfied"}
    data.update({f"aspect_{i}": "basic" for i in range(len(campaign.aspects))})
    data["comment"] = "独特的意见内容XYZ"
    with (
        caplog.at_level(logging.DEBUG),
        mock.patch("celery.app.task.Task.apply_async") as enqueue,
    ):
        response = client.post("/surveys/vote/", data)
    assert response.status_code == 200 and "投票成功" in response.text
    assert enqueue.call_count == 0
    assert Session.objects.count() == 0 and "sessionid" not in response.cookies
    secrets_ = (code, code.replace("-", ""), "独特的意见内容XYZ")
    for record in caplog.records:
        text = record.getMessage() + str(record.args)
        assert not any(s in text for s in secrets_), text
    for key, value in cache._cache.items():  # LocMemCache: pickled values
        blob = key + repr(pickle.loads(value))
        assert not any(s in blob for s in secrets_)
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "strict-origin"
