"""Day two on real PostgreSQL: a column type change with objects depending on the column.

PostgreSQL refuses `alter column ... type` while a view, a trigger's WHEN, a policy or a generated
column uses the column, and rebuilds checks and indexes from their text (where a constant of the
old type may no longer fit). Each scenario changes the type of one column of
tests/fixtures/evolution/coltype.yaml (released, applied, with rows) and runs the catalogue's
checks (render --name, apply, no drift, rows intact, a fresh database reaching the same state).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from jarvis_schemagen import api
from test_evolution import (ROOT, Scenario, _set, cli, edit_spec, evo_cache, make_assumed_db,  # noqa: F401
                            make_released_db, make_released_repo, query, run_scenario)

pytestmark = pytest.mark.db

BASE = ROOT / "tests" / "fixtures" / "evolution" / "coltype.yaml"
ROWS = """
insert into public.items (status, state, qty, code, rank, level, prio, owner, label) values
  ('new', 'open', 3, 'A-1', 5, 1, 2, 'ann', 'first'),
  ('done', 'closed', 7, 'b-2', 0, 3, 4, 'bob', null);
"""
SURVIVING = """
select string_agg(concat_ws(':', status, state, qty, code, rank, level, prio, owner, label), ',' order by id)
  from public.items
"""


@pytest.fixture(scope="module")
def coltype_repo(tmp_path_factory) -> Path:
    return make_released_repo(tmp_path_factory.mktemp("coltype-repo"), BASE)


@pytest.fixture(scope="module")
def coltype_assumed(pg_server):
    yield from make_assumed_db(pg_server, BASE)


@pytest.fixture(scope="module")
def coltype_released(pg_server, coltype_assumed, coltype_repo):
    yield from make_released_db(pg_server, coltype_assumed, coltype_repo, ROWS)


@pytest.fixture
def coltype_project(coltype_repo, tmp_path) -> Path:
    d = tmp_path / "project"
    shutil.copytree(coltype_repo, d)
    return d


def _col(spec, col):
    return spec["tables"]["public.items"]["columns"][col]


def _state_to_enum(spec):
    _set(_col(spec, "state"), type="public.item_state")


def _triggers_exist(url):
    assert query(url, "select count(*) from pg_trigger where tgrelid = 'public.items'::regclass "
                      "and not tgisinternal")[0] == 3


def _note_policy_kept(url):
    assert query(url, "select count(*) from pg_policies where tablename = 'item_notes'")[0] == 1


def _qty2_recomputed(url):
    assert query(url, "select array_agg(qty2 order by id) from public.items")[0] == [6, 14]
    # the view reading it and the column privilege came back with it
    assert query(url, "select count(*) from public.item_labels")[0] == 2
    assert query(url, "select has_column_privilege('authenticated', 'public.items', 'qty2', 'update')")[0]


def _qty2_tripled(url):
    assert query(url, "select array_agg(qty2 order by id) from public.items")[0] == [9, 21]


NARROWS = ("-- destructive:",)  # text to varchar(200) or an enum may reject values: consent needed
SCENARIOS = [
    Scenario("trigger-when-text-to-varchar", lambda s: _set(_col(s, "status"), type="varchar(200)"), destructive=True,
             markers=NARROWS, extra=_triggers_exist),
    Scenario("trigger-when-int-to-bigint", lambda s: _set(_col(s, "level"), type="bigint"), extra=_triggers_exist),
    Scenario("trigger-update-of", lambda s: _set(_col(s, "prio"), type="bigint"), extra=_triggers_exist),
    Scenario("check-constant-text-to-enum", _state_to_enum, destructive=True, markers=NARROWS),
    Scenario("check-constant-int-to-bigint", lambda s: _set(_col(s, "rank"), type="bigint"), markers=("-- hazard:",)),
    Scenario("expression-index", lambda s: _set(_col(s, "code"), type="varchar(200)"), destructive=True),
    Scenario("policy", lambda s: _set(_col(s, "owner"), type="varchar(200)"), destructive=True),
    Scenario("policy-of-another-table", lambda s: _set(_col(s, "weight"), type="bigint"), extra=_note_policy_kept),
    Scenario("view", lambda s: _set(_col(s, "label"), type="varchar(200)"), destructive=True),
    Scenario("generated-column", lambda s: _set(_col(s, "qty"), type="bigint"), extra=_qty2_recomputed),
    Scenario("generated-column-itself", lambda s: _set(_col(s, "qty2"), type="bigint")),
    Scenario("generated-column-and-its-source",
             lambda s: (_set(_col(s, "qty"), type="bigint"), _set(_col(s, "qty2"), type="bigint", generated="qty * 3")),
             extra=_qty2_tripled),
]


@pytest.mark.parametrize("sc", SCENARIOS, ids=lambda sc: sc.id)
def test_column_type_change_rebuilds_what_uses_the_column(sc, coltype_project, coltype_released, coltype_assumed,
                                                         clone, pg_server, evo_cache):
    run_scenario(sc, coltype_project, coltype_released, coltype_assumed, clone, pg_server, evo_cache,
                 surviving_sql=SURVIVING)


def test_a_view_the_spec_does_not_declare_stops_the_change_naming_it(coltype_project, coltype_released, clone,
                                                                    pg_server, evo_cache):
    spec, gen = coltype_project / "schema.yaml", coltype_project / "generated"
    edit_spec(spec, lambda s: _set(_col(s, "label"), type="varchar(200)"))
    assert api.render_to_dir(spec, gen, name="change", allow_destructive=True, shadow_url=pg_server.url,
                             cache_dir=evo_cache).ok
    url = clone(coltype_released)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create schema app; create view app.labels as select label from public.items")
    before = query(url, SURVIVING)
    r = cli("apply", "--db", url, "--dir", gen, "--spec", spec)
    assert r.exit_code == 2, r.output
    assert "cannot change the type of column label of public.items" in r.output
    assert "app.labels" in r.output and "CASCADE" in r.output
    # nothing changed: the type, the spec's view and the app's view are all there
    assert query(url, "select format_type(atttypid, atttypmod) from pg_attribute "
                      "where attrelid = 'public.items'::regclass and attname = 'label'")[0] == "text"
    assert query(url, "select count(*) from pg_views where viewname in ('labels', 'item_labels')")[0] == 2
    assert query(url, SURVIVING) == before
