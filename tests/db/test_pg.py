"""pg.py: the throwaway server, masked errors, per-test databases."""
from __future__ import annotations

import pytest

from jarvis_schemagen import pg
from jarvis_schemagen.errors import DatabaseError


@pytest.mark.parametrize("url, masked", [
    ("postgresql://u:s3cret@db.example:5432/app", "postgresql://u:***@db.example:5432/app"),
    ("postgres://u:p%40ss%3Aw@h/app?sslmode=require", "postgres://u:***@h/app?sslmode=require"),
    ("postgresql://u@h/app", "postgresql://u@h/app"),
    ("host=h user=u password=s3cret dbname=app", "host=h user=u password=*** dbname=app"),
    ("host=h password='a b' dbname=app", "host=h password=*** dbname=app"),
    ("postgresql://u@h/app?password=s3cret&sslmode=require", "postgresql://u@h/app?password=***&sslmode=require"),
])
def test_mask_url(url, masked):
    assert pg.mask_url(url) == masked


def test_mask_text_removes_the_password_anywhere():
    url = "postgresql://u:s3cret@h/app"
    assert "s3cret" not in pg.mask_text("failed for s3cret at postgresql://u:s3cret@h/app", url)


@pytest.mark.parametrize("url", [
    "postgresql://u:s3cret@127.0.0.1:1/app",
    "postgresql://u:s3cret@/app?host=/nonexistent-dir&port=5",
    "postgresql://u:s3cret@no-such-host.invalid:5432/app",
])
def test_connection_failures_are_one_line_and_masked(url):
    with pytest.raises(DatabaseError) as exc:
        pg.connect(url, connect_timeout=3)
    msg = str(exc.value)
    assert "s3cret" not in msg and "\n" not in msg
    assert msg.startswith("cannot connect to postgresql://u:***@")


def test_server_answers(pg_server):
    with pg.connect(pg_server.url) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
    assert pg_server.major_version >= 13


def test_template_databases_hold_the_assumed_objects(db_conn):
    assert db_conn.execute("select to_regclass('auth.users') is not null,"
                           " to_regclass('public.conversations') is not null,"
                           " (select rolbypassrls from pg_roles where rolname = 'service_role')").fetchone() == (True, True, True)


@pytest.mark.parametrize("attempt", [1, 2])
def test_each_test_gets_its_own_database(db_conn, attempt):
    # whichever runs second would fail if the databases were shared
    assert db_conn.execute("select to_regclass('public.isolation_probe')").fetchone()[0] is None
    db_conn.execute("create table public.isolation_probe (id int)")


def test_create_and_drop_database(pg_server):
    pg.create_database(pg_server.url, "schemagen_probe_db")
    with pg.connect(pg_server.url_for("schemagen_probe_db")) as conn:
        assert conn.execute("select current_database()").fetchone()[0] == "schemagen_probe_db"
    pg.drop_database(pg_server.url, "schemagen_probe_db")
    with pytest.raises(DatabaseError):
        pg.connect(pg_server.url_for("schemagen_probe_db"))
