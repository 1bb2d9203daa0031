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
from surveys.models import BallotBox, VotingCode
from tests.surveys.helpers import open_campaign, vote

pytestmark = pytest.mark.django_db

TIME_FIELDS = (models.DateField, models.DateTimeField, models.TimeField, models.DurationField)


def _concrete(model):
    return {f.name: f for f in model._meta.get_fields() if f.concrete}


@pytest.mark.parametrize("model", [BallotBox, VotingCode])
def test_anonymous_tables_have_no_time_no_sequence_and_only_the_campaign_relation(model):
    fields = _concrete(model)
    assert not [n for n, f in fields.items() if isinstance(f, TIME_FIELDS)]
    relations = {n: f.related_model._meta.label for n, f in fields.items() if f.is_relation}
    assert relations == {"campaign": "surveys.Campaign"}
    pk = model._meta.pk
    assert not isinstance(pk, models.AutoField | models.BigAutoField)
    if model is BallotBox:  # one row per campaign: its key is the campaign, nothing sequential
        assert pk.name == "campaign" and isinstance(pk, models.OneToOneField)
    else:
        assert isinstance(pk, models.UUIDField) and pk.default is uuid.uuid4


def test_box_holds_only_the_campaign_ciphertexts_and_used_digests():
    assert set(_concrete(BallotBox)) == {"campaign", "sealed", "used"}
    assert set(_concrete(VotingCode)) == {"id", "campaign", "code_hash"}


def test_nothing_refers_to_ballots_codes_or_receipts_and_no_history_or_admin():
    anonymous = {BallotBox, VotingCode}
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if field.is_relation and field.concrete:
                assert field.related_model not in anonymous, f"{model} → {field.related_model}"
    labels = {m._meta.label_lower for m in apps.get_models()}
    assert (
        not {
            "surveys.historicalballot",
            "surveys.historicalballotbox",
            "surveys.historicalvotingcode",
        }
        & labels
    )
    assert not anonymous & set(admin.site._registry)


def _physical(sql: str) -> list:
    """Rows as a dump lists them: SELECT without ORDER BY."""
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]


def test_physical_order_does_not_follow_casting_order(tree):
    """12 votes in a known order: the box's ciphertexts (named by their receipts) must not lie
    in that order, the used-code digests lie sorted, and the code rows are exactly where the
    generation put them (a vote never writes them). (A false failure needs 2 in 12! ≈ 4·10⁻⁹.)"""
    campaign, codes = open_campaign(tree, electorate=15)
    from surveys.services import hash_code

    code_rows = f"SELECT code_hash FROM {VotingCode._meta.db_table}"
    before = _physical(code_rows)
    cast_hashes, receipts = [], []
    for n, code in enumerate(codes[:12]):
        receipts.append(vote(code, campaign, comment=f"c{n:02d}"))
        cast_hashes.append(hash_code(code))
    (box,) = BallotBox.objects.filter(campaign=campaign)
    ballots = [sealing.receipt_for(c) for c in box.ciphertexts()]
    assert sorted(ballots) == sorted(receipts)
    assert ballots != receipts and ballots != receipts[::-1]
    used = [d.hex() for d in box.used_digests()]
    assert used == sorted(cast_hashes)
    assert _physical(code_rows) == before


def test_a_vote_rewrites_the_one_box_row_of_its_campaign_only(tree):
    """One box row per campaign whatever the votes; the other campaign's box is untouched."""
    campaign, codes = open_campaign(tree)
    other, other_codes = open_campaign(tree)
    vote(other_codes[0], other)
    other_box = bytes(BallotBox.objects.get(campaign=other).sealed)
    for code in codes[:3]:
        vote(code, campaign)
    assert BallotBox.objects.filter(campaign=campaign).count() == 1
    assert len(BallotBox.objects.get(campaign=campaign).ciphertexts()) == 3
    assert bytes(BallotBox.objects.get(campaign=other).sealed) == other_box


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
