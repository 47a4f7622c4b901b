"""pg.py on a real PostgreSQL: the throwaway cluster, masked URLs and errors, database
create/drop, and the shared fixtures of tests/conftest.py."""
from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psycopg
import pytest

from jarvis_schemagen import pg
from jarvis_schemagen.errors import DatabaseError, SchemagenError

ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------- masking

@pytest.mark.parametrize("url, masked", [
    ("postgresql://u:s3cret@db.example:5432/app", "postgresql://u:***@db.example:5432/app"),
    ("postgres://u:s3cret@db.example/app", "postgres://u:***@db.example/app"),
    ("postgresql://u@h/app", "postgresql://u@h/app"),
    ("postgresql://h:5432/app", "postgresql://h:5432/app"),
    ("postgresql:///app?host=/tmp/x&port=5433", "postgresql:///app?host=/tmp/x&port=5433"),
    ("postgresql://:s3cret@h/app", "postgresql://:***@h/app"),
    # percent-encoded special characters
    ("postgres://u:p%40ss%3Aw%2F@h/app?sslmode=require", "postgres://u:***@h/app?sslmode=require"),
    # unescaped "@" and "/" (wrong, but they must not leak): masked up to the last "@"
    ("postgresql://u:p@ss/w@rd@h:5432/app", "postgresql://u:***@h:5432/app"),
    # quote characters in the password
    ("postgresql://u:a'b\"c@h/app", "postgresql://u:***@h/app"),
    # key=value conninfo
    ("host=h user=u password=s3cret dbname=app", "host=h user=u password=*** dbname=app"),
    ("host=h password='a b\\' c' dbname=app", "host=h password=*** dbname=app"),
    ("host=h password = s3cret", "host=h password = ***"),
    ("host=h user=u dbname=app", "host=h user=u dbname=app"),
    # password as a query parameter
    ("postgresql://u@h/app?password=s3cret&sslmode=require", "postgresql://u@h/app?password=***&sslmode=require"),
    ("postgresql://u@h/app?sslmode=require&password=s%40cret", "postgresql://u@h/app?sslmode=require&password=***"),
    # inside other text; the user name and host stay readable
    ("error at postgresql://admin:s3cret@h/app: boom", "error at postgresql://admin:***@h/app: boom"),
    ('{"a": "postgresql://u:s3cret@h/db", "b": "x@y"}', '{"a": "postgresql://u:***@h/db", "b": "x@y"}'),
])
def test_mask_url(url, masked):
    assert pg.mask_url(url) == masked


def test_mask_text_removes_the_password_anywhere():
    url = "postgresql://u:s3cret%21@h/app"
    text = "auth failed for 's3cret!' (s3cret%21) at postgresql://u:s3cret%21@h/app"
    out = pg.mask_text(text, url)
    assert "s3cret" not in out
    assert out.count("***") == 3 and "postgresql://u:***@h/app" in out


def test_mask_text_hides_the_pieces_libpq_reports_for_an_unescaped_at():
    # libpq splits the userinfo at the first "@", so the rest of the password becomes a host name
    url = "postgresql://u:ab@cd@h/app"
    out = pg.mask_text('could not translate host name "cd@h" to address', url)
    assert "cd" not in out and out == 'could not translate host name "***" to address'


@pytest.mark.parametrize("url", [
    "postgresql://u:ab@cd@schemagen.invalid/app",     # host becomes 'cd@schemagen.invalid'
    "postgresql://u:ab/cd@127.0.0.1/app",             # no userinfo: host 'u', port 'ab'
])
def test_unescaped_password_pieces_do_not_leak_from_real_driver_errors(url):
    with pytest.raises(DatabaseError) as exc:
        pg.connect(url, connect_timeout=3)
    msg = str(exc.value)
    assert "ab" not in msg and "cd" not in msg, msg


def test_mask_text_with_key_value_conninfo():
    assert pg.mask_text("bad password 'x y z' here", "host=h password='x y z'") == "bad password '***' here"


def test_mask_text_without_password_changes_nothing():
    assert pg.mask_text("plain message", "postgresql://u@h/app") == "plain message"
    assert pg.mask_text("plain message", None) == "plain message"


# ---------------------------------------------------------------- connection failures

def _closed_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nothing listens there


@pytest.mark.parametrize("url", [
    "postgresql://u:s3cret@127.0.0.1:{port}/app",
    "postgresql://u:s3cret@/app?host=/nonexistent-schemagen-dir&port=5432",
    "host=127.0.0.1 port={port} user=u password=s3cret dbname=app",
    "postgresql://u@127.0.0.1:{port}/app?password=s3cret",
    "postgresql://u:s3cret@no-such-host.invalid:5432/app",
])
def test_connection_failures_are_one_line_and_masked(url):
    url = url.format(port=_closed_tcp_port())
    with pytest.raises(DatabaseError) as exc:
        pg.connect(url, connect_timeout=3)
    msg = str(exc.value)
    assert "s3cret" not in msg and "\n" not in msg
    assert msg.startswith("cannot connect to ") and "***" in msg
    assert isinstance(exc.value, SchemagenError) and exc.value.exit_code == 2
    assert exc.value.__cause__ is None  # no chained driver exception that would show the URL


def test_unescaped_password_in_url_does_not_leak_and_gets_a_hint():
    url = f"postgresql://u:abc@def/ghi@127.0.0.1:{_closed_tcp_port()}/app"
    with pytest.raises(DatabaseError) as exc:
        pg.connect(url, connect_timeout=3)
    msg = str(exc.value)
    for piece in ("abc", "def", "ghi"):
        assert piece not in msg
    assert "%40" in msg and "\n" not in msg


def test_server_side_connection_errors_are_one_line(pg_server):
    url = pg_server.url_for("no_such_db_schemagen")
    with pytest.raises(DatabaseError) as exc:
        pg.connect(url)
    assert "no_such_db_schemagen" in str(exc.value) and "\n" not in str(exc.value)


# ---------------------------------------------------------------- finding the binaries

def test_find_pg_bin_finds_the_server_programs():
    d = pg.find_pg_bin()
    assert d is not None, "no PostgreSQL server binaries: run scripts/ensure-postgres.sh"
    for exe in ("initdb", "pg_ctl", "postgres"):
        assert os.access(d / exe, os.X_OK)


def test_find_pg_bin_env_decides(monkeypatch, tmp_path):
    real = pg.find_pg_bin()
    monkeypatch.setenv("SCHEMAGEN_PG_BIN", str(real))
    assert pg.find_pg_bin() == real
    monkeypatch.setenv("SCHEMAGEN_PG_BIN", str(tmp_path))  # set but empty: no silent fallback
    assert pg.find_pg_bin() is None
    with pytest.raises(DatabaseError, match="SCHEMAGEN_PG_BIN"):
        pg.TempCluster()


# ---------------------------------------------------------------- the throwaway cluster

def test_temp_cluster_runs_a_real_server_on_a_private_socket():
    with pg.TempCluster() as cluster:
        assert cluster.url == (f"postgresql://postgres@/postgres?host={cluster.dir}&port={cluster.port}")
        assert stat.S_IMODE(cluster.dir.stat().st_mode) == 0o700
        assert (cluster.dir / f".s.PGSQL.{cluster.port}").exists()
        with pg.connect(cluster.url) as conn:
            version = conn.execute("select version()").fetchone()[0]
            assert version.startswith(f"PostgreSQL {cluster.major_version}")
            assert conn.info.server_version // 10000 == cluster.major_version
            settings = dict(conn.execute(
                "select name, setting from pg_settings where name in ('listen_addresses', 'fsync',"
                " 'full_page_writes', 'synchronous_commit', 'max_connections', 'unix_socket_directories')"))
            assert settings == {"listen_addresses": "", "fsync": "off", "full_page_writes": "off",
                                "synchronous_commit": "off", "max_connections": "100",
                                "unix_socket_directories": str(cluster.dir)}
            assert conn.execute("select current_user, rolsuper from pg_roles where rolname = current_user"
                                ).fetchone() == ("postgres", True)
        with pg.connect(cluster.url_for("template1")) as conn:
            assert conn.execute("select current_database()").fetchone()[0] == "template1"
        where = cluster.dir
    assert not where.exists()
    assert cluster.dir is None
    with pytest.raises(DatabaseError):
        pg.connect(f"postgresql://postgres@/postgres?host={where}&port=5432", connect_timeout=2)
    cluster.stop()  # idempotent


def test_temp_cluster_start_failure_shows_the_server_log():
    cluster = pg.TempCluster(settings={"shared_buffers": "not-a-size"})
    with pytest.raises(DatabaseError) as exc:
        cluster.start()
    assert "did not start" in str(exc.value) and "shared_buffers" in str(exc.value)
    assert cluster.dir is None  # cleaned up


def test_temp_clusters_are_independent():
    with pg.TempCluster() as a, pg.TempCluster() as b:
        assert a.dir != b.dir
        with pg.connect(a.url) as ca, pg.connect(b.url) as cb:
            ca.execute("create table only_in_a (id int)")
            assert cb.execute("select to_regclass('only_in_a')").fetchone()[0] is None


def test_a_killed_process_does_not_leave_a_server_behind():
    child = textwrap.dedent("""
        import os, signal, sys
        from jarvis_schemagen import pg
        c = pg.TempCluster().start()
        print(c.dir, c.port, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # no atexit, no finally
    """)
    r = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == -signal.SIGKILL, r.stderr
    where, port = r.stdout.split()
    deadline = time.monotonic() + 10
    while Path(where).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(where).exists(), "the watchdog did not remove the killed process's cluster"
    with pytest.raises(DatabaseError):
        pg.connect(f"postgresql://postgres@/postgres?host={where}&port={port}", connect_timeout=2)


# ---------------------------------------------------------------- databases

def test_create_and_drop_database(pg_server):
    name = "schemagen probe-Ä\"db"  # needs quoting
    pg.create_database(pg_server.url, name)
    try:
        with pg.connect(pg_server.url_for(name)) as conn:
            assert conn.execute("select current_database()").fetchone()[0] == name
            conn.execute("create table t (id int)")
            conn.execute("insert into t values (42)")
        clone = name + " clone"
        pg.create_database(pg_server.url, clone, template=name)
        with pg.connect(pg_server.url_for(clone)) as conn:
            assert conn.execute("select id from t").fetchone() == (42,)
        pg.drop_database(pg_server.url, clone)
        with pytest.raises(DatabaseError, match="already exists"):
            pg.create_database(pg_server.url, name)
        # another session is connected: drop ends it
        other = pg.connect(pg_server.url_for(name))
        pg.drop_database(pg_server.url, name)
        with pytest.raises(psycopg.OperationalError):
            other.execute("select 1")
        other.close()
    finally:
        pg.drop_database(pg_server.url, name)
    with pytest.raises(DatabaseError, match="does not exist"):
        pg.connect(pg_server.url_for(name))
    pg.drop_database(pg_server.url, name)  # absent: nothing to do


def test_drop_database_works_from_an_admin_url_naming_that_database(pg_server):
    pg.create_database(pg_server.url, "schemagen_self_drop")
    pg.drop_database(pg_server.url_for("schemagen_self_drop"), "schemagen_self_drop")
    with pg.connect(pg_server.url) as conn:
        assert conn.execute("select count(*) from pg_database where datname = 'schemagen_self_drop'"
                            ).fetchone() == (0,)


def test_existing_server_wrapper_has_the_cluster_interface(pg_server):
    server = pg.ExistingServer(pg_server.url)
    assert server.major_version == pg_server.major_version >= 13
    with pg.connect(server.url_for("template1")) as conn:
        assert conn.execute("select current_database()").fetchone()[0] == "template1"
    assert "s3cret" not in repr(pg.ExistingServer("postgresql://u:s3cret@h/db"))


# ---------------------------------------------------------------- the fixtures

def test_pg_server_answers(pg_server):
    with pg.connect(pg_server.url) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
    assert pg_server.major_version >= 13


@pytest.mark.parametrize("attempt", [1, 2])
def test_each_test_gets_its_own_database(db_conn, attempt):
    # whichever runs second would fail if the databases were shared
    assert db_conn.execute("select to_regclass('public.isolation_probe')").fetchone()[0] is None
    db_conn.execute("create table public.isolation_probe (id int)")


def test_db_is_a_clone_of_the_template(db, db_conn, pg_server, template_db):
    tables = "select n.nspname || '.' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace" \
             " where c.relkind in ('r', 'p', 'v') and n.nspname not in ('pg_catalog', 'information_schema') order by 1"
    with pg.connect(pg_server.url_for(template_db)) as tpl:
        expected = tpl.execute(tables).fetchall()
    assert db_conn.execute(tables).fetchall() == expected
    assert db_conn.execute("select current_database()").fetchone()[0] != template_db
    assert db_conn.autocommit


def test_template_databases_hold_the_assumed_objects(db_conn, scratch_setup_sql):
    assert scratch_setup_sql.strip(), "jarvis_schemagen.api gives no assumed objects"
    assert db_conn.execute("select to_regclass('auth.users') is not null,"
                           " to_regclass('public.conversations') is not null,"
                           " (select rolbypassrls from pg_roles where rolname = 'service_role')"
                           ).fetchone() == (True, True, True)


def test_empty_db_is_plain(empty_db):
    with pg.connect(empty_db) as conn:
        assert conn.execute("select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace"
                            " where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')"
                            ).fetchone() == (0,)


def test_database_tests_get_the_db_marker(request):
    assert request.node.get_closest_marker("db") is None  # this one uses no database fixture


def test_the_db_marker_is_applied(db):
    pass  # checked below through pytest's own collection


def _run_pytest(*args: str, env_extra: dict[str, str]) -> subprocess.CompletedProcess:
    env = {**os.environ, **env_extra}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)


def test_fixtures_use_schemagen_test_database_url(pg_server):
    def leftovers():
        with pg.connect(pg_server.url) as conn:
            return {r[0] for r in conn.execute("select datname from pg_database where datname like 'schemagen\\_%'")}

    before = leftovers()
    r = _run_pytest(f"{__file__}::test_each_test_gets_its_own_database", "-m", "db",
                    env_extra={"SCHEMAGEN_TEST_DATABASE_URL": pg_server.url})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 passed" in r.stdout
    assert leftovers() == before  # template and test databases dropped


def test_fixtures_fail_loudly_without_a_server():
    url = f"postgresql://u:s3cret@127.0.0.1:{_closed_tcp_port()}/app"
    r = _run_pytest(f"{__file__}::test_pg_server_answers", f"{__file__}::test_the_db_marker_is_applied",
                    "-rA", env_extra={"SCHEMAGEN_TEST_DATABASE_URL": url})
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert "skipped" not in out and "2 error" in out
    assert "SCHEMAGEN_TEST_DATABASE_URL is set but unusable" in out
    assert "s3cret" not in out


def test_collection_marks_database_tests():
    r = _run_pytest(f"{__file__}", "-m", "db", "--collect-only", env_extra={})
    assert "test_the_db_marker_is_applied" in r.stdout
    assert "test_database_tests_get_the_db_marker" not in r.stdout
    assert "test_mask_url" not in r.stdout
