"""Forensics as a database administrator would do them (issue 12, item 3; PostgreSQL, superuser
as CI has it): raw heap files of the surveys tables and the WAL written during voting.

A campaign with distinguishable marker comments is voted, closed and settled. Asserted:
1. before settlement no marker comment or plaintext answer is in the ballot tables' files, and
   no marker in the WAL written during voting (raw segment bytes, read with
   pg_read_binary_file; pg_walinspect's PostgreSQL 15 functions give records, not block data,
   so they are used to check the voting WAL touched the ballot relation at all — i.e. that the
   byte search looked at the right place);
2. after settlement the box and code tables' files (the box's TOAST table included, where the
   ciphertexts lie) hold no ciphertext and no code hash (the settlement TRUNCATEs them: VACUUM
   FULL keeps "recently dead" versions), the old files are gone or empty, and the comments are
   on disk once, in the settled campaign row, next to no ciphertext or code: no dead tuple links
   a code, a receipt or a ciphertext to the plaintext;
3. the rows written at vote time have no column with a time in it and one writing transaction
   per campaign (the box); the code rows keep the generation as their writer.
"""

from __future__ import annotations

import contextlib
import uuid

import pytest
from django.db import connection

from surveys import sealing, services, settlement
from surveys.models import BallotBox, Campaign, VotingCode
from tests.surveys.helpers import SHARES, open_campaign, sealed_ballots, vote

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ANSWERS = ["satisfied", "basic", "not_satisfied"]


def _one(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()


def _run(sql):
    with connection.cursor() as cursor:
        cursor.execute(sql)


def _relations(model) -> list[str]:
    """The table and, if it has one, its TOAST table (where values over ~2 KB are stored)."""
    table = model._meta.db_table
    toast = _one(
        "SELECT reltoastrelid::regclass::text FROM pg_class WHERE oid = %s::regclass", [table]
    )
    return [table] + ([toast[0]] if toast and toast[0] != "-" else [])


def _paths(model) -> list[str]:
    return [_one("SELECT pg_relation_filepath(%s)", [r])[0] for r in _relations(model)]


def _heap(model) -> bytes:
    """The main forks of the table and its TOAST table as they are on disk (after a CHECKPOINT
    wrote the buffers out)."""
    _run("CHECKPOINT")
    return b"".join(
        bytes(_one("SELECT pg_read_binary_file(%s)", [path])[0] or b"") for path in _paths(model)
    )


def _windows(ciphertext: bytes) -> list[bytes]:
    """64-byte pieces of a ciphertext: a TOAST chunk holds ~2,000 bytes, so a 2,096-byte
    ciphertext may straddle two chunks, but some of its pieces lie whole in one."""
    return [ciphertext[i : i + 64] for i in range(0, len(ciphertext) - 63, 64)]


def _wal(start: str, end: str) -> bytes:
    """Raw WAL bytes between two LSNs, across segment files."""
    segment = int(_one("SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'")[0])
    start_file, start_off = _one("SELECT * FROM pg_walfile_name_offset(%s::pg_lsn)", [start])
    end_file, end_off = _one("SELECT * FROM pg_walfile_name_offset(%s::pg_lsn)", [end])
    names = [
        row[0]
        for row in _all(
            "SELECT name FROM pg_ls_waldir() WHERE name >= %s AND name <= %s ORDER BY name",
            [start_file, end_file],
        )
    ]
    assert names and names[0] == start_file and names[-1] == end_file, names
    data = b""
    for name in names:
        offset = start_off if name == start_file else 0
        length = (end_off if name == end_file else segment) - offset
        chunk = _one("SELECT pg_read_binary_file(%s, %s, %s)", [f"pg_wal/{name}", offset, length])[
            0
        ]
        data += bytes(chunk)
    return data


@contextlib.contextmanager
def _wal_kept(name: str):
    """Keep the WAL written from now on until the block ends. On a shared server other
    sessions' writes and CHECKPOINTs recycle finished segments at any moment (measured: the
    voting segment gone between reading it and asking pg_walinspect about it); a temporary
    physical replication slot reserves them (superuser, as CI has it)."""
    _one("SELECT pg_create_physical_replication_slot(%s, true, true)", [name])
    try:
        yield
    finally:
        _one("SELECT pg_drop_replication_slot(%s)", [name])


def _all(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def test_raw_pages_and_wal_never_link_a_vote(tree):
    tag = uuid.uuid4().hex[:12].upper()
    markers = [f"FORENSIC{tag}N{n:02d}" for n in range(12)]
    campaign, codes = open_campaign(tree, electorate=15)
    code_hashes = [services.hash_code(c) for c in codes]
    box_relations = _relations(BallotBox)
    assert len(box_relations) == 2, "the box's values are stored in its TOAST table"
    _run("CREATE EXTENSION IF NOT EXISTS pg_walinspect")
    with _wal_kept(f"lq_forensics_{tag.lower()}"):
        start = _one("SELECT pg_current_wal_lsn()::text")[0]
        for n, code in enumerate(codes[:12]):
            vote(code, campaign, overall=ANSWERS[n % 3], comment=markers[n])
        end = _one("SELECT pg_current_wal_insert_lsn()::text")[0]
        _one("SELECT pg_switch_wal()")  # the voting WAL is complete in its files

        # 1. Before settlement: heap files and the voting WAL carry no plaintext. The WAL first:
        # a CHECKPOINT (for the heap reads) may recycle the segments it no longer needs.
        wal = _wal(start, end)
        assert len(wal) > 8192
        filenode = _one("SELECT pg_relation_filenode(%s)", [box_relations[1]])[0]
        touched = _one(
            "SELECT count(*) FROM pg_get_wal_records_info(%s::pg_lsn, %s::pg_lsn) "
            "WHERE block_ref LIKE %s",
            [start, end, f"%/{filenode} %"],
        )[0]
    heap = _heap(BallotBox) + _heap(VotingCode) + _heap(Campaign)
    assert touched >= 12, "the voting WAL should hold the box's writes"
    for marker in markers:
        assert marker.encode() not in heap
        assert marker.encode() not in wal
    ballot_heap = _heap(BallotBox)
    for answer in ANSWERS:
        assert answer.encode() not in ballot_heap
    ciphertexts = sealed_ballots(campaign)
    assert len(ciphertexts) == 12
    # The search does see the stored ciphertexts.
    assert all(any(w in ballot_heap for w in _windows(c)) for c in ciphertexts)
    old_paths = [p for m in (BallotBox, VotingCode, Campaign) for p in _paths(m)]

    # 2. Settlement, then the files.
    services.campaign_close(campaign=campaign, by=tree.county)
    settled = settlement.campaign_settle(
        campaign=campaign, shares=SHARES[campaign.pk][:2], by=tree.county
    )
    assert sorted(settled.comments) == sorted(markers)
    new_paths = [p for m in (BallotBox, VotingCode, Campaign) for p in _paths(m)]
    assert all(old != new for old, new in zip(old_paths, new_paths, strict=True))
    for path in old_paths:  # truncated at commit, unlinked at the next checkpoint
        _run("CHECKPOINT")
        leftover = _one("SELECT pg_read_binary_file(%s, 0, 67108864, true)", [path])[0]
        assert not leftover
    ballots_after, codes_after, campaign_after = (
        _heap(BallotBox),
        _heap(VotingCode),
        _heap(Campaign),
    )
    after = ballots_after + codes_after + campaign_after
    for ciphertext in ciphertexts:
        assert not any(w in after for w in _windows(ciphertext))
    for code_hash in code_hashes:
        assert code_hash.encode() not in codes_after and code_hash.encode() not in campaign_after
    # The comments are on disk once, in the settled campaign row only. (Earlier versions of
    # the campaign row may survive VACUUM FULL as "recently dead" while any snapshot on the
    # server needs them; they hold settings and counts of used codes, no ballot data.)
    for marker in markers:
        assert campaign_after.count(marker.encode()) == 1
    # The published receipts are the hashes of exactly the ciphertexts counted.
    assert settled.counted_receipts == sorted(sealing.receipt_for(c) for c in ciphertexts)


def test_rows_written_at_vote_time_have_no_time_and_one_writer(tree):
    for model in (BallotBox, VotingCode):
        types = {
            row[0]
            for row in _all(
                "SELECT data_type FROM information_schema.columns WHERE table_name = %s",
                [model._meta.db_table],
            )
        }
        assert not {t for t in types if "time" in t or t == "date" or "interval" in t}, types
    campaign, codes = open_campaign(tree, electorate=8)
    codes_sql = (
        f"SELECT DISTINCT xmin::text FROM {VotingCode._meta.db_table} WHERE campaign_id = %s"
    )
    generated = {row[0] for row in _all(codes_sql, [campaign.pk])}
    for code in codes[:5]:
        vote(code, campaign)
    assert {row[0] for row in _all(codes_sql, [campaign.pk])} == generated
    box = _all(
        f"SELECT xmin::text FROM {BallotBox._meta.db_table} WHERE campaign_id = %s", [campaign.pk]
    )
    assert len(generated) == 1 and len(box) == 1
