"""Shared fixtures: a real PostgreSQL server for the whole session and a fresh database per test.

The server is a throwaway cluster (jarvis_schemagen.pg.TempCluster) unless
SCHEMAGEN_TEST_DATABASE_URL names an existing server (an admin URL that may create
databases and roles). If neither works the tests fail loudly: a database test never skips.
On an existing server the session leaves it as it found it: every database a test creates is
dropped, and so is every role that did not exist when the session started (the spec's assumed
roles, the kitchen sink's, roles a test creates); tests give their own roles unique names.

Fixtures:
  pg_server    session: ``.url`` (admin URL), ``.url_for(dbname)``, ``.major_version``
  template_db  session: name of a database holding ``scratch_setup_sql`` (cloned by ``db``)
  db           per test: URL of a fresh database cloned from the template
  db_conn      per test: an autocommit psycopg connection to ``db``
  empty_db     per test: URL of a fresh, plain database (no template objects)
  clone        per test: ``clone(template)``, URL of a fresh copy of a database
Tests using any of them get the ``db`` marker (``pytest -m "not db"`` runs the rest).
"""
from __future__ import annotations

import os
import uuid

import pytest

from jarvis_schemagen import pg

TEST_URL_ENV = "SCHEMAGEN_TEST_DATABASE_URL"


@pytest.fixture(scope="session")
def pg_server():
    url = os.environ.get(TEST_URL_ENV)
    problem = None  # pytest.fail outside the except blocks: no chained traceback in the report
    if url:
        server = pg.ExistingServer(url)
        try:
            server.major_version  # connects: fail now, loudly, if the server is unreachable
        except pg.DatabaseError as e:
            problem = f"{TEST_URL_ENV} is set but unusable: {e}"
        if problem:
            pytest.fail(problem, pytrace=False)
        roles_before = _role_names(server.url)
        yield server
        _drop_roles(server.url, _role_names(server.url) - roles_before)
        return
    try:
        cluster = pg.TempCluster().start()
    except pg.DatabaseError as e:
        problem = (f"cannot start a throwaway PostgreSQL server: {e}\n"
                   f"Run scripts/ensure-postgres.sh, set SCHEMAGEN_PG_BIN, or set {TEST_URL_ENV}.")
    if problem:
        pytest.fail(problem, pytrace=False)
    yield cluster
    cluster.stop()


def _role_names(url: str) -> set[str]:
    with pg.connect(url) as conn:
        return {r[0] for r in conn.execute("select rolname from pg_catalog.pg_roles")}


def _drop_roles(url: str, names: set[str]) -> None:
    """Drop roles the session created (members first: drop role refuses nothing for memberships, but a
    role granted to another is revoked with it). Their objects and privileges lived in the session's
    databases, all dropped by now; ``drop owned`` clears what is left in the admin database."""
    from psycopg import sql

    left = []
    with pg.connect(url) as conn:
        for name in sorted(names):
            try:
                with conn.transaction():
                    conn.execute(sql.SQL("drop owned by {}").format(sql.Identifier(name)))
                    conn.execute(sql.SQL("drop role {}").format(sql.Identifier(name)))
            except Exception as e:  # noqa: BLE001 - report every role left, fail once
                left.append(f"{name}: {e}")
    if left:
        pytest.fail("roles created by the tests could not be dropped:\n" + "\n".join(left), pytrace=False)


def _new_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def scratch_setup_sql() -> str:
    """SQL run once in the template database (by default the spec's assumed objects: auth.users,
    Supabase roles, ...). Override this fixture to give other setup SQL."""
    try:
        from jarvis_schemagen.api import assumed_objects_sql, load_default_spec
    except ImportError:
        return ""
    return assumed_objects_sql(load_default_spec())


@pytest.fixture(scope="session")
def template_db(pg_server, scratch_setup_sql):
    """Name of a database holding ``scratch_setup_sql``; ``db`` clones it for every test."""
    name = _new_name("schemagen_tpl")
    pg.create_database(pg_server.url, name)
    try:
        if scratch_setup_sql.strip():
            with pg.connect(pg_server.url_for(name)) as conn:
                conn.execute(scratch_setup_sql)
    except BaseException:
        pg.drop_database(pg_server.url, name)
        raise
    yield name
    pg.drop_database(pg_server.url, name)


@pytest.fixture
def db(pg_server, template_db):
    """URL of a fresh database cloned from the template (dropped after the test)."""
    name = _new_name("schemagen_test")
    pg.create_database(pg_server.url, name, template=template_db)
    yield pg_server.url_for(name)
    pg.drop_database(pg_server.url, name)


@pytest.fixture
def db_conn(db):
    """An autocommit psycopg connection to ``db``."""
    with pg.connect(db) as conn:
        yield conn


@pytest.fixture
def empty_db(pg_server):
    """URL of a fresh, plain database (no template objects; dropped after the test)."""
    name = _new_name("schemagen_empty")
    pg.create_database(pg_server.url, name)
    yield pg_server.url_for(name)
    pg.drop_database(pg_server.url, name)


@pytest.fixture
def clone(pg_server):
    """A factory: ``clone(template)`` is the URL of a fresh copy of database ``template`` (all dropped
    after the test)."""
    made = []

    def _clone(template: str) -> str:
        name = _new_name("schemagen_clone")
        pg.create_database(pg_server.url, name, template=template)
        made.append(name)
        return pg_server.url_for(name)

    yield _clone
    for name in made:
        pg.drop_database(pg_server.url, name)


_DB_FIXTURES = {"pg_server", "template_db", "db", "db_conn", "empty_db", "clone"}


def pytest_collection_modifyitems(items):
    for item in items:
        if _DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)


@pytest.fixture(scope="session")
def jarvis_template(pg_server, template_db):
    """Name of a database holding the assumed objects plus the five Jarvis files, applied once
    (diff and access tests clone it)."""
    import psycopg

    from jarvis_schemagen import api

    name = _new_name("schemagen_jarvis")
    pg.create_database(pg_server.url, name, template=template_db)
    spec = api.load_spec(os.path.join(os.path.dirname(__file__), "..", "schema.yaml"))
    with psycopg.connect(pg_server.url_for(name)) as conn:
        for sql in api.render_migrations(spec).values():
            conn.execute(sql)
            conn.commit()
    yield name
    pg.drop_database(pg_server.url, name)
