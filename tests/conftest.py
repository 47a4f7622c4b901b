"""Shared fixtures: a real PostgreSQL server for the whole session and a fresh database per test.

The server is a throwaway cluster (jarvis_schemagen.pg.TempCluster) unless
SCHEMAGEN_TEST_DATABASE_URL names an existing server (an admin URL that may create
databases). If neither works the tests fail loudly: a database test never skips.
"""
from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

import pytest

from jarvis_schemagen import api, pg


@dataclass
class ExistingServer:
    """SCHEMAGEN_TEST_DATABASE_URL, with the TempCluster interface."""

    admin_url: str

    @property
    def url(self) -> str:
        return self.admin_url

    def url_for(self, dbname: str) -> str:
        return pg.url_with_dbname(self.admin_url, dbname)

    @property
    def major_version(self) -> int:
        with pg.connect(self.admin_url) as conn:
            return int(conn.execute("show server_version_num").fetchone()[0]) // 10000


@pytest.fixture(scope="session")
def pg_server():
    url = os.environ.get("SCHEMAGEN_TEST_DATABASE_URL")
    if url:
        server = ExistingServer(url)
        pg.connect(url).close()  # fail now, loudly, if it is unreachable
        yield server
        return
    try:
        cluster = pg.TempCluster().start()
    except Exception as e:  # pragma: no cover - environment problem
        pytest.fail(f"cannot start a throwaway PostgreSQL ({e}); run scripts/ensure-postgres.sh "
                    "or set SCHEMAGEN_TEST_DATABASE_URL", pytrace=False)
    yield cluster
    cluster.stop()


def _new_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def scratch_setup_sql() -> str:
    """SQL run once in the template database: the Jarvis spec's assumed objects."""
    return api.assumed_objects_sql(api.load_default_spec())


@pytest.fixture(scope="session")
def template_db(pg_server, scratch_setup_sql):
    name = _new_name("schemagen_tpl")
    pg.create_database(pg_server.url, name)
    with pg.connect(pg_server.url_for(name)) as conn:
        conn.execute(scratch_setup_sql)
    yield name
    pg.drop_database(pg_server.url, name)


@pytest.fixture
def db(pg_server, template_db):
    """URL of a fresh database holding the assumed objects (auth.users, roles, conversations...)."""
    name = _new_name("schemagen_test")
    pg.create_database(pg_server.url, name, template=template_db)
    yield pg_server.url_for(name)
    pg.drop_database(pg_server.url, name)


@pytest.fixture
def db_conn(db):
    with pg.connect(db) as conn:
        yield conn


@pytest.fixture
def empty_db(pg_server):
    """URL of a fresh, empty database (no assumed objects)."""
    name = _new_name("schemagen_empty")
    pg.create_database(pg_server.url, name)
    yield pg_server.url_for(name)
    pg.drop_database(pg_server.url, name)


def pytest_collection_modifyitems(items):
    db_fixtures = {"pg_server", "db", "db_conn", "empty_db", "template_db"}
    for item in items:
        if db_fixtures & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)
