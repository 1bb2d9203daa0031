"""pg_dump → restore into a fresh database → the same rows in every table (issue 11 item 9).

A backup is only a backup if it restores: the whole schema and data of a populated database
(organisations, youths and their history, contacts, needs, activities, a sealed ballot, consents,
an erasure log) go through `pg_dump -Fc` and `pg_restore` into a database created for the test,
and every table of the public schema has the same row count and the same content digest.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid

import pytest
from django.db import connection

from cadres import services
from cadres.models import Consent
from tests.factories import (
    ActivityFactory,
    CadreYouthFactory,
    NeedFactory,
    RegistrationFactory,
    YouthFactory,
    log_contact,
)
from tests.surveys.helpers import open_campaign

TOOLS = ("pg_dump", "pg_restore", "createdb", "dropdb")

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _populate(tree) -> None:
    youths = [YouthFactory(organisation=tree.town_a) for _ in range(12)]
    for youth in youths[:10]:
        CadreYouthFactory(cadre=tree.cadre, youth=youth)
    services.cadre_progress_refresh(cadre_ids=[tree.cadre.pk])
    log_contact(tree.cadre, youths[:5], by=tree.cadre_user, channel="talk", notes="谈就业")
    log_contact(tree.cadre, youths[5:8], by=tree.cadre_user, channel="wechat")
    NeedFactory(organisation=tree.town_a, owner_cadre=tree.cadre, youth=youths[0])
    activity = ActivityFactory(organisation=tree.town_a)
    RegistrationFactory(activity=activity, youth=youths[1])
    services.consent_record(youth=youths[2], wording_version="v1", method=Consent.Method.CADRE)
    services.youth_erase(youth=youths[11], reason="本人申请删除", by=tree.owner)
    open_campaign(tree, electorate=3)


def _libpq_args(settings: dict) -> tuple[list[str], dict[str, str]]:
    args = ["-h", settings.get("HOST") or "127.0.0.1", "-p", str(settings.get("PORT") or 5432)]
    if settings.get("USER"):
        args += ["-U", settings["USER"]]
    env = dict(os.environ)
    if settings.get("PASSWORD"):
        env["PGPASSWORD"] = settings["PASSWORD"]
    return args, env


def _table_digests(cursor) -> dict[str, tuple[int, str]]:
    """Every base table of the public schema: (row count, md5 of its rows in text order)."""
    cursor.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
    )
    tables = [name for (name,) in cursor.fetchall()]
    digests = {}
    for name in tables:
        cursor.execute(
            f"SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') "
            f'FROM "{name}" AS t'
        )
        digests[name] = tuple(cursor.fetchone())
    return digests


def test_a_dump_restores_into_a_fresh_database_with_every_row(tree, tmp_path):
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs the PostgreSQL client tools: {', '.join(missing)} not found")
    _populate(tree)
    settings = connection.settings_dict
    args, env = _libpq_args(settings)
    dump = tmp_path / "lianqing.dump"
    fresh = f"{settings['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    subprocess.run(
        ["pg_dump", *args, "-Fc", "--no-owner", "-f", str(dump), settings["NAME"]],
        env=env,
        check=True,
        timeout=300,
    )
    subprocess.run(["createdb", *args, fresh], env=env, check=True, timeout=60)
    try:
        subprocess.run(
            ["pg_restore", *args, "--no-owner", "--exit-on-error", "-d", fresh, str(dump)],
            env=env,
            check=True,
            timeout=300,
        )
        import psycopg2

        with connection.cursor() as cursor:
            before = _table_digests(cursor)
        restored = psycopg2.connect(
            dbname=fresh,
            host=settings.get("HOST") or "127.0.0.1",
            port=settings.get("PORT") or 5432,
            user=settings.get("USER") or None,
            password=settings.get("PASSWORD") or None,
        )
        try:
            with restored.cursor() as cursor:
                after = _table_digests(cursor)
        finally:
            restored.close()
    finally:
        subprocess.run(["dropdb", *args, "--if-exists", fresh], env=env, timeout=60)
    assert len(before) > 40, "the schema was not found"
    assert sum(count for count, _digest in before.values()) > 60, "the database was not populated"
    for table in ("cadres_youth", "contacts_contactyouth", "surveys_campaign", "cadres_erasurelog"):
        assert before.get(table, (0, ""))[0] > 0, f"{table} is empty: the test would prove nothing"
    assert after == before
