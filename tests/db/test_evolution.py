"""Day two on real PostgreSQL: a spec change after release becomes the next migration.

Every scenario starts from tests/fixtures/evolution/schema.yaml, rendered and released
(001, 002), applied by `schemagen apply` to a database that then got some rows. The scenario
edits the spec, runs `render --name`, applies the one new file, and checks that:
- `diff` (strict) finds no drift and the untouched rows survived;
- a fresh database given all the files reaches the same schema (`diff` again);
- rendering again gives the same bytes and `render --check` passes.

Speed: one server for the session; the released database is built once and cloned per
scenario; every render and diff shares one shadow server (the test server) and one cache.
"""
from __future__ import annotations

import copy
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import psycopg
import pytest
import yaml
from click.testing import CliRunner

from jarvis_schemagen import api, pg
from jarvis_schemagen.apply import apply
from jarvis_schemagen.cli import main
from jarvis_schemagen.diff import diff
from jarvis_schemagen.report import format_text

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parents[2]
BASE_SPEC = ROOT / "tests" / "fixtures" / "evolution" / "schema.yaml"
KITCHEN = ROOT / "tests" / "fixtures" / "kitchen_sink" / "schema.yaml"

ROWS = """
insert into public.accounts (owner_id, email, plan, balance, nickname, note) values
  ('00000000-0000-0000-0000-00000000000a', 'ann@example.com', 'pro', 5, 'ann', 'first'),
  ('00000000-0000-0000-0000-00000000000b', 'bob@example.com', 'free', 7, 'bob', null);
insert into public.orders (account_id, amount, status)
  select id, 10.50, 'paid' from public.accounts union all
  select id, 3.25, 'new' from public.accounts where email = 'ann@example.com';
insert into public.audit_log (message) values ('created');
"""
SURVIVING = """
select (select string_agg(email || ':' || balance::text, ',' order by email) from public.accounts),
       (select count(*) || ':' || sum(amount)::text from public.orders)
"""


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def query(url: str, sql: str):
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql).fetchone()


@pytest.fixture(scope="session")
def evo_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("evolution-cache")


def make_released_repo(d: Path, base: Path) -> Path:
    """A project directory: the base spec, rendered and released."""
    shutil.copy(base, d / "schema.yaml")
    api.render_to_dir(d / "schema.yaml", d / "generated")
    api.release(d / "schema.yaml", d / "generated")
    return d


def make_assumed_db(pg_server, base: Path):
    """A database holding only what the base spec assumes (roles, auth.uid()); dropped after."""
    name = f"evo_assumed_{uuid.uuid4().hex[:10]}"
    pg.create_database(pg_server.url, name)
    with pg.connect(pg_server.url_for(name)) as conn:
        conn.execute(api.assumed_objects_sql(api.load_spec(base)))
    yield name
    pg.drop_database(pg_server.url, name)


def make_released_db(pg_server, assumed_db: str, repo: Path, rows: str):
    """The released files applied by `schemagen apply`, then some rows; dropped after."""
    name = f"evo_released_{uuid.uuid4().hex[:10]}"
    pg.create_database(pg_server.url, name, template=assumed_db)
    url = pg_server.url_for(name)
    apply(url, repo / "generated", spec_path=repo / "schema.yaml")
    with pg.connect(url) as conn:
        conn.execute(rows)
    yield name
    pg.drop_database(pg_server.url, name)


@pytest.fixture(scope="session")
def released_repo(tmp_path_factory) -> Path:
    return make_released_repo(tmp_path_factory.mktemp("evolution-repo"), BASE_SPEC)


@pytest.fixture(scope="session")
def assumed_db(pg_server):
    yield from make_assumed_db(pg_server, BASE_SPEC)


@pytest.fixture(scope="session")
def released_db(pg_server, assumed_db, released_repo):
    yield from make_released_db(pg_server, assumed_db, released_repo, ROWS)


@pytest.fixture
def project(released_repo, tmp_path) -> Path:
    d = tmp_path / "project"
    shutil.copytree(released_repo, d)
    return d


def edit_spec(path: Path, edit: Callable[[dict], None]) -> None:
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(spec)
    path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")


# ---------------------------------------------------------------- the catalogue

def _t(spec, name="public.accounts"):
    return spec["tables"][name]


def _col(spec, col, table="public.accounts"):
    return _t(spec, table)["columns"][col]


def _policy(spec):
    return _t(spec)["policies"]["Owners read own account"]


def _fn(spec, name="public.score"):
    return spec["functions"][name]


def _set(d: dict, **kw):
    d.update(kw)


def _rename_policy(spec):
    pols = _t(spec)["policies"]
    pols["Owners see own account"] = pols.pop("Owners read own account")


def _new_table(spec):
    spec["tables"]["public.payments"] = {
        "migration": "001", "rls": True,
        "columns": {
            "id": {"type": "bigint", "identity": "always", "primary_key": True},
            "account_id": {"type": "bigint", "nullable": False, "references": {"table": "public.accounts"}},
            "paid_cents": {"type": "bigint", "nullable": False, "default": "0"},
        },
        "grants": [{"revoke": ["all"], "from": ["anon", "authenticated"]}, {"grant": ["select"], "to": ["authenticated"]}],
    }


def _security_definer(spec):
    _set(_fn(spec), security_definer=True, set={"search_path": ""})


@dataclass
class Scenario:
    id: str
    edit: Callable[[dict], None]
    destructive: bool = False
    markers: tuple[str, ...] = ()  # text the change file must contain
    survives: bool = True  # the SURVIVING rows are untouched
    extra: Callable[[str], None] | None = field(default=None)  # more checks on the migrated database


def _rows_have_default_tier(url):
    assert query(url, "select array_agg(distinct tier) from public.accounts")[0] == [1]


def _policy_is_replaced_not_lost(url):
    n = query(url, "select count(*) from pg_policies where tablename = 'accounts'")[0]
    assert n == 1


def _grants_of_score_kept(url):
    acl = query(url, "select proacl::text from pg_proc where proname = 'score'")[0]
    assert "authenticated=X" in acl and "anon=" not in acl
    assert query(url, "select obj_description('public.score(bigint, integer)'::regprocedure)")[0] == \
        "Score of an account."


SCENARIOS = [
    Scenario("column-default", lambda s: _set(_col(s, "balance"), default="10")),
    Scenario("column-drop-not-null", lambda s: _set(_col(s, "owner_id"), nullable=True)),
    Scenario("column-set-not-null", lambda s: _set(_col(s, "nickname"), nullable=False),
             markers=("-- hazard:", "not valid")),
    Scenario("column-type-widen-varchar", lambda s: _set(_col(s, "nickname"), type="varchar(50)")),
    Scenario("column-type-int-to-bigint", lambda s: _set(_col(s, "balance"), type="bigint"),
             markers=("using", "-- hazard:")),
    Scenario("column-add-nullable", lambda s: _t(s)["columns"].update(phone="text")),
    Scenario("column-add-not-null-with-default",
             lambda s: _t(s)["columns"].update(tier={"type": "integer", "nullable": False, "default": "1"}),
             extra=_rows_have_default_tier),
    Scenario("column-identity-kind", lambda s: _set(_col(s, "id", "public.orders"), identity="always")),
    Scenario("column-comment", lambda s: _set(_col(s, "note"), comment="Free text, shown to support.")),
    Scenario("column-drop", lambda s: _t(s)["columns"].pop("note"), destructive=True,
             markers=("-- destructive:",)),
    Scenario("check-widen", lambda s: _set(_col(s, "plan"), check="plan in ('free', 'pro', 'enterprise')"),
             markers=("drop constraint", "add constraint", "-- hazard:")),
    Scenario("unique-add", lambda s: _t(s, "public.orders").setdefault("constraints", {}).update(
        orders_account_status_key={"unique": ["account_id", "id"]}), markers=("-- hazard:",)),
    Scenario("unique-drop", lambda s: _col(s, "email").pop("unique")),
    Scenario("fk-on-delete", lambda s: _col(s, "account_id", "public.orders")["references"].update(
        on_delete="restrict"), markers=("-- hazard:", "validate constraint")),
    Scenario("index-add", lambda s: _t(s)["indexes"].update(accounts_updated_idx={"columns": ["updated_at desc"]}),
             markers=("-- hazard:", "concurrently")),
    Scenario("index-drop", lambda s: _t(s).pop("indexes")),
    Scenario("index-change", lambda s: _set(_t(s)["indexes"]["accounts_plan_idx"], columns=["plan", "balance"],
                                            where="plan <> 'free'")),
    Scenario("policy-expression", lambda s: _set(_policy(s), using="(select auth.uid()) = owner_id and balance >= 0"),
             extra=_policy_is_replaced_not_lost),
    Scenario("policy-roles", lambda s: _set(_policy(s), roles=["authenticated", "service_role"])),
    Scenario("policy-rename", _rename_policy, extra=_policy_is_replaced_not_lost),
    Scenario("rls-forced", lambda s: _set(_t(s), rls={"enabled": True, "forced": True})),
    Scenario("function-body", lambda s: _set(_fn(s), body="select 2")),
    Scenario("function-signature", lambda s: _fn(s)["arguments"].append({"name": "p_factor", "type": "integer"}),
             extra=_grants_of_score_kept),
    Scenario("function-security-definer", _security_definer),
    Scenario("function-volatility", lambda s: _set(_fn(s), volatility="immutable")),
    Scenario("trigger-events", lambda s: _set(_t(s)["triggers"]["accounts_touch"], events=["insert", "update"])),
    Scenario("grants-widened", lambda s: _t(s)["grants"].append({"grant": ["insert", "update"], "to": ["authenticated"]})),
    Scenario("grants-narrowed", lambda s: _t(s)["grants"].pop()),
    Scenario("function-grant-narrowed", lambda s: _fn(s)["grants"].pop()),
    Scenario("table-comment", lambda s: _set(_t(s), comment="One row per customer account.")),
    Scenario("table-drop", lambda s: s["tables"].pop("public.audit_log"), destructive=True,
             markers=("-- destructive:",)),
    Scenario("new-table-fk-to-released", _new_table),
]


@pytest.mark.parametrize("sc", SCENARIOS, ids=lambda sc: sc.id)
def test_scenario(sc: Scenario, project, released_db, assumed_db, clone, pg_server, evo_cache):
    run_scenario(sc, project, released_db, assumed_db, clone, pg_server, evo_cache)


def run_scenario(sc: Scenario, project, released_db, assumed_db, clone, pg_server, evo_cache,
                 surviving_sql: str = SURVIVING) -> None:
    """Edit, render --name, apply to a clone of ``released_db``: no drift, rows intact, a fresh
    database given all files reaches the same state."""
    spec, gen = project / "schema.yaml", project / "generated"
    before = sorted(p.name for p in gen.glob("*.sql"))
    edit_spec(spec, sc.edit)
    kw = dict(shadow_url=pg_server.url, cache_dir=evo_cache)

    # without a name: nothing written, exit 1 listing the change
    report = api.render_to_dir(spec, gen, **kw)
    assert report.uncaptured and not report.ok and not report.written
    assert sorted(p.name for p in gen.glob("*.sql")) == before
    if sc.destructive:
        report = api.render_to_dir(spec, gen, name="change", **kw)
        assert report.refused and not report.written, report
        assert sorted(p.name for p in gen.glob("*.sql")) == before
    report = api.render_to_dir(spec, gen, name="change", allow_destructive=sc.destructive, **kw)
    assert report.ok and report.written == ["003_change.sql"], (report.problems, report.refused, report)
    text = (gen / "003_change.sql").read_text()
    for marker in sc.markers:
        assert marker in text, text
    # same spec, same bytes; --check agrees
    again = api.render_to_dir(spec, gen, **kw)
    assert again.ok and not again.written and "003_change.sql" in again.unchanged
    assert api.render_to_dir(spec, gen, check=True, **kw).ok

    url = clone(released_db)
    surviving = query(url, surviving_sql)
    result = apply(url, gen, spec_path=spec)
    assert [f.filename for f, _ in result.applied] == ["003_change.sql"]
    after = diff(url, spec, strict=True, **kw)
    assert not after.drift, f"{text}\n{format_text(after)}"
    if sc.survives:
        assert query(url, surviving_sql) == surviving
    if sc.extra:
        sc.extra(url)

    fresh = clone(assumed_db)
    apply(fresh, gen, spec_path=spec)
    report = diff(fresh, spec, strict=True, **kw)
    assert not report.drift, format_text(report)


def test_catalogue_is_large_enough():
    assert len(SCENARIOS) >= 20


# ---------------------------------------------------------------- the workflow around it

def test_iterating_on_a_pending_change_does_not_pile_up_files(project, pg_server, evo_cache):
    spec, gen = project / "schema.yaml", project / "generated"
    kw = dict(shadow_url=pg_server.url, cache_dir=evo_cache)
    edit_spec(spec, lambda s: _set(_col(s, "balance"), default="10"))
    assert api.render_to_dir(spec, gen, name="tweak_balance", **kw).written == ["003_tweak_balance.sql"]
    edit_spec(spec, lambda s: _t(s)["columns"].update(phone="text"))
    r = api.render_to_dir(spec, gen, **kw)  # recomputed in place
    assert r.written == ["003_tweak_balance.sql"]
    text = (gen / "003_tweak_balance.sql").read_text()
    assert '"phone"' in text and "set default 10" in text
    r = api.render_to_dir(spec, gen, name="balance_and_phone", **kw)  # renamed, same id
    assert r.written == ["003_balance_and_phone.sql"] and r.removed == ["003_tweak_balance.sql"]
    assert sorted(p.name for p in gen.glob("*.sql")) == ["001_create_core.sql", "002_create_functions.sql",
                                                          "003_balance_and_phone.sql"]
    assert "pending  003_balance_and_phone.sql" in (gen / "schemagen.lock").read_text()
    # back to the released spec: the pending file has nothing left to capture and goes away
    shutil.copy(BASE_SPEC, spec)
    r = api.render_to_dir(spec, gen, **kw)
    assert r.removed == ["003_balance_and_phone.sql"] and r.ok
    assert "pending" not in (gen / "schemagen.lock").read_text().split("#")[-1]
    assert sorted(p.name for p in gen.glob("*.sql")) == ["001_create_core.sql", "002_create_functions.sql"]


def test_release_freezes_the_pending_file_and_the_next_change_gets_the_next_id(project, pg_server, evo_cache):
    spec, gen = project / "schema.yaml", project / "generated"
    kw = ["--shadow-db", pg_server.url]
    edit_spec(spec, lambda s: _set(_col(s, "balance"), default="10"))
    r = cli("render", "--spec", spec, "--out", gen, "--name", "one", *kw)
    assert r.exit_code == 0, r.output
    r = cli("release", "--spec", spec, "--out", gen, *kw)
    assert r.exit_code == 0 and "released" in r.output and "003_one.sql" in r.output, r.output
    assert "released 003_one.sql sha256:" in (gen / "schemagen.lock").read_text()
    edit_spec(spec, lambda s: _set(_col(s, "balance"), default="20"))
    r = cli("render", "--spec", spec, "--out", gen, "--check", *kw)
    assert r.exit_code == 1 and "render --name" in r.output
    r = cli("render", "--spec", spec, "--out", gen, "--name", "two", *kw)
    assert r.exit_code == 0, r.output
    assert (gen / "004_two.sql").is_file() and "set default 20" in (gen / "004_two.sql").read_text()
    assert "set default 10" in (gen / "003_one.sql").read_text()  # the released one is untouched


def test_edited_released_file_fails_check_and_render_writes_nothing(project, pg_server):
    spec, gen = project / "schema.yaml", project / "generated"
    f = gen / "001_create_core.sql"
    f.write_text(f.read_text() + "\n-- an edit\n")
    r = cli("render", "--spec", spec, "--out", gen, "--check")
    assert r.exit_code == 1 and "001_create_core.sql was edited" in r.output
    r = cli("render", "--spec", spec, "--out", gen)
    assert r.exit_code == 1 and "nothing was written" in r.output
    assert f.read_text().endswith("-- an edit\n")


def test_render_cli_lists_uncaptured_changes_and_how_to_capture_them(project, pg_server):
    spec, gen = project / "schema.yaml", project / "generated"
    edit_spec(spec, lambda s: _set(_col(s, "plan"), check="plan in ('free', 'pro', 'enterprise')"))
    r = cli("render", "--spec", spec, "--out", gen, "--shadow-db", pg_server.url)
    assert r.exit_code == 1
    assert "constraint accounts_plan_check on public.accounts" in r.output
    assert "schemagen render --name NAME" in r.output and "nothing was written" in r.output
    r = cli("render", "--spec", spec, "--out", gen, "--name", "drop_it", "--shadow-db", pg_server.url)
    assert r.exit_code == 0 and "wrote" in r.output and "003_drop_it.sql" in r.output


def test_destructive_change_needs_consent_listing_each(project, pg_server):
    spec, gen = project / "schema.yaml", project / "generated"
    edit_spec(spec, lambda s: (s["tables"].pop("public.audit_log"), _t(s)["columns"].pop("note")))
    r = cli("render", "--spec", spec, "--out", gen, "--name", "cleanup", "--shadow-db", pg_server.url)
    assert r.exit_code == 1 and "--allow-destructive" in r.output
    assert "public.audit_log" in r.output and "public.accounts.note" in r.output
    assert not (gen / "003_cleanup.sql").exists()
    r = cli("render", "--spec", spec, "--out", gen, "--name", "cleanup", "--allow-destructive",
            "--shadow-db", pg_server.url)
    assert r.exit_code == 0, r.output
    text = (gen / "003_cleanup.sql").read_text()
    assert text.count("-- destructive:") == 2
    assert "pending  003_cleanup.sql allow-destructive" in (gen / "schemagen.lock").read_text()
    # consent is kept while it is pending: a plain render recomputes it
    assert cli("render", "--spec", spec, "--out", gen, "--check", "--shadow-db", pg_server.url).exit_code == 0


def test_new_not_null_column_without_default_is_refused_on_a_table_with_rows(project, released_db, assumed_db,
                                                                                clone, pg_server, evo_cache):
    spec, gen = project / "schema.yaml", project / "generated"
    kw = dict(shadow_url=pg_server.url, cache_dir=evo_cache)
    edit_spec(spec, lambda s: _t(s)["columns"].update(region={"type": "text", "nullable": False}))
    assert api.render_to_dir(spec, gen, name="add_region", **kw).ok
    text = (gen / "003_add_region.sql").read_text()
    url = clone(released_db)
    r = cli("apply", "--db", url, "--dir", gen, "--spec", spec)
    assert r.exit_code == 2
    assert "public.accounts has rows" in r.output and "default" in r.output
    # an empty table takes it
    fresh = clone(assumed_db)
    apply(fresh, gen, spec_path=spec)
    assert not diff(fresh, spec, strict=True, **kw).drift, text


def test_a_new_spec_migration_is_rendered_by_the_templates(project, pg_server, evo_cache):
    """New objects may also go in a new migration of the spec: rendered, idempotent, no --name needed."""
    spec, gen = project / "schema.yaml", project / "generated"
    kw = dict(shadow_url=pg_server.url, cache_dir=evo_cache)

    def edit(s):
        s["migrations"]["003"] = "create_payments"
        _new_table(s)
        s["tables"]["public.payments"]["migration"] = "003"

    edit_spec(spec, edit)
    r = api.render_to_dir(spec, gen, **kw)
    assert r.ok and r.written == ["003_create_payments.sql"]
    assert "create table if not exists" in (gen / "003_create_payments.sql").read_text()
    assert api.render_to_dir(spec, gen, name="nothing", **kw).nothing_to_capture


# ---------------------------------------------------------------- the kitchen sink

@pytest.fixture
def kitchen_db(pg_server, clone):
    name = f"evo_kitchen_{uuid.uuid4().hex[:10]}"
    pg.create_database(pg_server.url, name)
    try:
        with pg.connect(pg_server.url_for(name)) as conn:
            conn.execute(api.assumed_objects_sql(api.load_spec(KITCHEN)))
        yield pg_server.url_for(name)
    finally:
        pg.drop_database(pg_server.url, name)


def test_kitchen_sink_converges_from_its_files(kitchen_db, tmp_path, pg_server, evo_cache):
    spec = tmp_path / "schema.yaml"
    shutil.copy(KITCHEN, spec)
    api.render_to_dir(spec, tmp_path / "generated")
    apply(kitchen_db, tmp_path / "generated", spec_path=spec)
    report = diff(kitchen_db, spec, shadow_url=pg_server.url, cache_dir=evo_cache)
    assert not report.drift, format_text(report)


def test_kitchen_sink_plan_from_an_empty_database_converges(kitchen_db, pg_server, evo_cache):
    kw = dict(shadow_url=pg_server.url, cache_dir=evo_cache)
    report = diff(kitchen_db, KITCHEN, **kw)
    assert report.drift
    with psycopg.connect(kitchen_db, autocommit=True) as conn:
        conn.execute(report.plan.sql())
    after = diff(kitchen_db, KITCHEN, **kw)
    assert not after.drift, format_text(after)


def test_spec_edit_helper_keeps_the_spec_valid():
    spec = yaml.safe_load(BASE_SPEC.read_text())
    for sc in SCENARIOS:
        s = copy.deepcopy(spec)
        sc.edit(s)
        api.load_spec_text(yaml.safe_dump(s, sort_keys=False), "schema.yaml")


# ---------------------------------------------------------------- apply guards the history

def test_the_first_day_two_story_now_fails_loudly_then_works(project, released_db, clone, pg_server, evo_cache):
    """The issue's story: an edited applied file used to be re-run, report success, and change nothing."""
    spec, gen = project / "schema.yaml", project / "generated"
    widen = "plan in ('free', 'pro', 'enterprise')"
    edit_spec(spec, lambda s: _set(_col(s, "plan"), check=widen))
    url = clone(released_db)
    f = gen / "001_create_core.sql"
    original = f.read_text()
    f.write_text(original.replace("'free'::text, 'pro'::text", "'free', 'pro', 'enterprise'")
                 .replace("plan in ('free', 'pro')", widen))
    assert f.read_text() != original
    r = cli("apply", "--db", url, "--dir", gen, "--spec", spec)
    assert r.exit_code == 1 and "changed: " in r.output and "render --name NAME" in r.output
    r = cli("apply", "--db", url, "--dir", gen, "--spec", spec, "--allow-changed", "--shadow-db", pg_server.url)
    assert r.exit_code == 1, r.output
    assert "does not match" in r.output and "accounts_plan_check" in r.output
    assert cli("status", "--db", url, "--dir", gen).exit_code == 1  # the new checksum was not accepted
    # the way that works: restore the released file, capture the change, apply it
    f.write_text(original)
    assert api.render_to_dir(spec, gen, name="widen_plan", shadow_url=pg_server.url, cache_dir=evo_cache).ok
    r = cli("apply", "--db", url, "--dir", gen, "--spec", spec)
    assert r.exit_code == 0 and "applied 003_widen_plan.sql" in r.output, r.output
    assert not diff(url, spec, strict=True, shadow_url=pg_server.url, cache_dir=evo_cache).drift


def test_allow_changed_accepts_a_cosmetic_change_when_the_database_matches(project, released_db, clone, pg_server):
    spec, gen = project / "schema.yaml", project / "generated"
    url = clone(released_db)
    f = gen / "002_create_functions.sql"
    f.write_text(f.read_text() + "\n-- reformatted\n")
    r = cli("apply", "--db", url, "--dir", gen, "--spec", spec, "--allow-changed", "--shadow-db", pg_server.url)
    assert r.exit_code == 0 and "accepted 002_create_functions.sql" in r.output, r.output
    assert cli("status", "--db", url, "--dir", gen).exit_code == 0


def test_render_name_prints_who_gains_access(project, pg_server):
    spec, gen = project / "schema.yaml", project / "generated"
    edit_spec(spec, lambda s: _set(_policy(s), using="true"))
    r = cli("render", "--spec", spec, "--out", gen, "--name", "open_accounts", "--shadow-db", pg_server.url)
    assert r.exit_code == 0, r.output
    assert "Access changes in this migration:" in r.output
    assert "authenticated select on public.accounts" in r.output and "every row" in r.output


# ---------------------------------------------------------------- the story on the Jarvis schema

def test_jarvis_widen_plan_type_becomes_006_and_converges(tmp_path, pg_server, template_db, clone, evo_cache):
    """Widen the plan_type check of the shipped schema: render --name writes 006, apply, no drift."""
    import re

    project = tmp_path / "jarvis"
    project.mkdir()
    shutil.copy(ROOT / "schema.yaml", project / "schema.yaml")
    shutil.copytree(ROOT / "generated", project / "generated")
    spec, gen = project / "schema.yaml", project / "generated"
    kw = dict(shadow_url=pg_server.url, cache_dir=evo_cache)
    if not (gen / "schemagen.lock").exists():
        api.release(spec, gen, **kw)
    released = sorted(p.name for p in gen.glob("*.sql"))
    assert len(released) == 5
    text = spec.read_text()
    widened, n = re.subn(r"(check: plan_type in \([^)]*)\)", r"\1, 'enterprise')", text, count=1)
    assert n == 1
    spec.write_text(widened)
    url = clone(template_db)
    apply(url, gen, spec_path=project / "schema.yaml")  # the released files, as production has them

    r = cli("render", "--spec", spec, "--out", gen, "--shadow-db", pg_server.url)
    assert r.exit_code == 1 and "render --name NAME" in r.output and "user_plans_plan_type_check" in r.output
    assert sorted(p.name for p in gen.glob("*.sql")) == released  # nothing rewritten
    r = cli("render", "--spec", spec, "--out", gen, "--name", "widen_plan_type", "--shadow-db", pg_server.url)
    assert r.exit_code == 0, r.output
    new = gen / "006_widen_plan_type.sql"
    assert sorted(p.name for p in gen.glob("*.sql")) == released + [new.name]
    assert "'enterprise'" in new.read_text()
    r = cli("apply", "--db", url, "--dir", gen, "--spec", spec)
    assert r.exit_code == 0 and "applied 006_widen_plan_type.sql" in r.output, r.output
    report = diff(url, spec, **kw)
    assert not report.drift, format_text(report)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("insert into auth.users (id) values ('00000000-0000-0000-0000-0000000000e1')")
        cur = conn.execute("update public.user_plans set plan_type = 'enterprise' "
                           "where user_id = '00000000-0000-0000-0000-0000000000e1'")  # the widened check takes it
        assert cur.rowcount == 1


def test_large_specs_build_the_desired_state_in_a_database_of_its_own(project, pg_server, monkeypatch, tmp_path):
    from jarvis_schemagen import evolve

    spec, gen = project / "schema.yaml", project / "generated"
    edit_spec(spec, lambda s: _set(_col(s, "balance"), default="10"))
    kw = dict(shadow_url=pg_server.url, cache_dir=tmp_path / "cache")
    r = api.render_to_dir(spec, gen, name="serial", use_cache=False, **kw)
    serial = (gen / "003_serial.sql").read_text()
    monkeypatch.setattr(evolve, "PARALLEL_ABOVE", 0)
    r = api.render_to_dir(spec, gen, name="serial", use_cache=False, **kw)
    assert r.ok and (gen / "003_serial.sql").read_text() == serial
