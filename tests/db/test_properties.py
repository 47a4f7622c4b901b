"""Property tests on real PostgreSQL (issue 12, item 7): adversarial strings (newlines, quotes, $$,
;, --, */, backslashes, control characters, unicode) in every spec field that reaches SQL, and in
the names of database objects that `diff` reads back. The
rendered files and the `diff --format sql` output (through psql) are executed; a canary table
must survive, no role, membership or privilege may appear that the spec did not ask for, and the
fix must converge (the next diff finds nothing).

Bounded for CI (a handful of examples each, the issue's payloads always among them).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from collections import Counter
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from jarvis_schemagen import api, pg
from jarvis_schemagen.diff import diff
from jarvis_schemagen.errors import SpecError
from jarvis_schemagen.report import format_json, format_sql, format_text

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parents[2]
DB_SETTINGS = settings(max_examples=6, deadline=None, derandomize=True, database=None,
                       suppress_health_check=list(HealthCheck))

# the characters an attacker reaches for, mixed with ordinary text
ALPHABET = st.sampled_from(list("ab;'\"$-*/\\\n\r\t()., _é日🙂") + ["\x1b", "\u202e", "\u2028", "$$", "--", "*/", "/*"])
HOSTILE = st.lists(ALPHABET, min_size=1, max_size=12).map("".join)
ISSUE_PAYLOADS = [
    "Creates t.\ndrop table if exists canary.victim; create role pwned superuser login password 'x'; --",
    "x\ncreate role diffpwn superuser login; --",
    "a(int);grant postgres to anon;commit;--",
    "it's $$ $body$ */ /* -- ; \\! touch /tmp/schemagen_pwned",
    "\x1b]0;pwned\x07",
]


def yaml_str(text: str) -> str:
    """A YAML double-quoted scalar holding exactly ``text``."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif code < 0x20 or 0x7F <= code <= 0x9F or ch in "\u2028\u2029\ufeff":
            out.append(f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


# ---------------------------------------------------------------- snapshots of what must not change

ROLES_SQL = """select rolname, rolsuper, rolcreaterole, rolcreatedb, rolcanlogin, rolbypassrls, rolreplication
                 from pg_roles order by 1"""
MEMBERS_SQL = "select roleid::regrole::text, member::regrole::text from pg_auth_members order by 1, 2"
ACL_SQL = """
select 'rel ' || c.relkind::text, case when a.grantee = 0 then 'public' else a.grantee::regrole::text end, a.privilege_type
  from pg_class c join pg_namespace n on n.oid = c.relnamespace,
       aclexplode(coalesce(c.relacl, acldefault((case c.relkind when 'S' then 's' else 'r' end)::"char", c.relowner))) a
 where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
union all
select 'function', case when a.grantee = 0 then 'public' else a.grantee::regrole::text end, a.privilege_type
  from pg_proc p join pg_namespace n on n.oid = p.pronamespace, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
 where n.nspname not in ('pg_catalog', 'information_schema')
union all
select 'schema ' || n.nspname, case when a.grantee = 0 then 'public' else a.grantee::regrole::text end, a.privilege_type
  from pg_namespace n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
union all
select 'default acl', case when a.grantee = 0 then 'public' else a.grantee::regrole::text end, a.privilege_type
  from pg_default_acl d, aclexplode(d.defaclacl) a
"""


def snapshot(url: str) -> dict:
    with pg.connect(url) as conn:
        return {
            "roles": conn.execute(ROLES_SQL).fetchall(),
            "members": conn.execute(MEMBERS_SQL).fetchall(),
            "acl": Counter(tuple(r) for r in conn.execute(ACL_SQL).fetchall()),
            "victim": conn.execute("select to_regclass('canary.victim') is not null").fetchone()[0],
        }


@pytest.fixture(scope="module")
def canary_template(pg_server, template_db):
    """The scratch template plus a canary table canary.victim."""
    name = f"schemagen_canary_{uuid.uuid4().hex[:10]}"
    pg.create_database(pg_server.url, name, template=template_db)
    with pg.connect(pg_server.url_for(name)) as conn:
        conn.execute("create schema canary; create table canary.victim (x int); insert into canary.victim values (1)")
    yield name
    pg.drop_database(pg_server.url, name)


class Scratch:
    """Fresh databases cloned from a template, dropped at the end."""

    def __init__(self, server, template):
        self.server, self.template, self.names = server, template, []

    def new(self) -> str:
        name = f"schemagen_prop_{uuid.uuid4().hex[:10]}"
        pg.create_database(self.server.url, name, template=self.template)
        self.names.append(name)
        return self.server.url_for(name)

    def drop_all(self) -> None:
        for name in self.names:
            pg.drop_database(self.server.url, name)
        self.names.clear()


@pytest.fixture
def scratch(pg_server, canary_template):
    s = Scratch(pg_server, canary_template)
    yield s
    s.drop_all()


# ---------------------------------------------------------------- 1. spec values into rendered files

SPEC = """\
version: 1
migrations:
  "001": {{name: create_app, comment: {migration_comment}}}
roles:
  anon: {{assumed: true}}
  authenticated: {{assumed: true}}
schemas:
  public: {{assumed: true}}
  app: {{migration: "001", comment: {schema_comment}}}
tables:
  app.t:
    migration: "001"
    comment: {table_comment}
    rls: true
    columns:
      id: {{type: bigint, identity: always, primary_key: true, comment: {column_comment}}}
      v: {{type: text, default: {default_literal}}}
    constraints:
      t_v_check: {{check: "v is not null", comment: {constraint_comment}}}
    indexes:
      t_v_idx: {{columns: [v], comment: {index_comment}}}
    policies:
      {policy_name}:
        roles: [authenticated]
        using: "true"
        comment: {policy_comment}
    triggers:
      t_touch: {{timing: before, events: [update], function: app.touch, comment: {trigger_comment}}}
    grants:
      - {{revoke: [all], from: [anon, authenticated]}}
      - {{grant: [select], to: [authenticated]}}
functions:
  app.touch:
    migration: "001"
    returns: trigger
    set: {{search_path: "", app.note: {config_value}}}
    comment: {function_comment}
    body: {body}
    grants:
      - {{revoke: [execute], from: [public, anon]}}
"""
FIELDS = ["migration_comment", "schema_comment", "table_comment", "column_comment", "constraint_comment",
          "index_comment", "policy_name", "policy_comment", "trigger_comment", "config_value", "function_comment"]
BENIGN = {f: "x" for f in FIELDS}


def spec_text(values: dict, default_text: str = "d", body: str = "begin return new; end;") -> str:
    fields = {k: yaml_str(v) for k, v in values.items()}
    fields["default_literal"] = yaml_str("'" + default_text.replace("'", "''") + "'")
    fields["body"] = yaml_str(body)
    return SPEC.format(**fields)


def apply_files(url: str, files: dict[str, str]) -> None:
    with psycopg.connect(url) as conn:  # one transaction per file, as apply does
        for text in files.values():
            conn.execute(text)
            conn.commit()


@pytest.fixture(scope="module")
def reference(pg_server, canary_template):
    """What the spec with benign values leaves: the state adversarial values must reproduce."""
    s = Scratch(pg_server, canary_template)
    url = s.new()
    apply_files(url, api.render_migrations(api.load_spec_text(spec_text(BENIGN), "s.yaml")))
    snap = snapshot(url)
    s.drop_all()
    return snap


def stored_comments(url: str) -> dict[str, str | None]:
    with pg.connect(url) as conn:
        q = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "schema_comment": q("select obj_description('app'::regnamespace, 'pg_namespace')"),
            "table_comment": q("select obj_description('app.t'::regclass, 'pg_class')"),
            "column_comment": q("select col_description('app.t'::regclass, 1)"),
            "constraint_comment": q("select obj_description(oid, 'pg_constraint') from pg_constraint where conname = 't_v_check'"),
            "index_comment": q("select obj_description('app.t_v_idx'::regclass, 'pg_class')"),
            "policy_name": q("select polname from pg_policy where polrelid = 'app.t'::regclass"),
            "policy_comment": q("select obj_description(oid, 'pg_policy') from pg_policy where polrelid = 'app.t'::regclass"),
            "trigger_comment": q("select obj_description(oid, 'pg_trigger') from pg_trigger where tgname = 't_touch'"),
            "function_comment": q("select obj_description('app.touch'::regproc, 'pg_proc')"),
            "config_value": q("select array_to_string(proconfig, '|') from pg_proc where oid = 'app.touch'::regproc"),
        }


@DB_SETTINGS
@given(values=st.fixed_dictionaries({f: HOSTILE for f in FIELDS}), default_text=HOSTILE)
@example(values={f: p for f, p in zip(FIELDS, ISSUE_PAYLOADS * 3)}, default_text=ISSUE_PAYLOADS[3])
def test_adversarial_spec_values_render_to_sql_that_does_only_what_the_spec_says(scratch, reference, values,
                                                                                 default_text):
    try:
        spec = api.load_spec_text(spec_text(values, default_text), "s.yaml")
    except SpecError as e:  # refused: nothing would be written; the refusal must name a value we sent
        assert e.problems
        return
    url = scratch.new()
    apply_files(url, api.render_migrations(spec))  # a valid spec applies: no error at all
    after = snapshot(url)
    assert after["victim"], "the canary table was dropped"
    assert after["roles"] == reference["roles"] and after["members"] == reference["members"]
    assert after["acl"] == reference["acl"], "privileges differ from what the same spec with benign text gives"
    stored = stored_comments(url)
    for field, sent in values.items():
        if field == "config_value":
            assert sorted(stored[field].split("|", 1)) == sorted(['search_path=""', f"app.note={sent}"])
        elif field != "migration_comment":
            assert stored[field] == sent, field
    with pg.connect(url) as conn:
        assert conn.execute("select column_default from information_schema.columns "
                            "where table_schema = 'app' and table_name = 't' and column_name = 'v'"
                            ).fetchone()[0].startswith("'")
        conn.execute("insert into app.t default values")
        assert conn.execute("select v from app.t").fetchone()[0] == default_text
    scratch.drop_all()


@DB_SETTINGS
@given(body=HOSTILE)
@example(body="$function$; drop table canary.victim; create role pwned; --")
@example(body="begin return new; end; $function")
def test_adversarial_function_bodies_never_escape_their_quotes(scratch, reference, body):
    try:
        spec = api.load_spec_text(spec_text(BENIGN, body=body), "s.yaml")
    except SpecError:
        return
    url = scratch.new()
    try:
        apply_files(url, api.render_migrations(spec))
    except psycopg.Error:
        pass  # a body PostgreSQL will not compile: the migration fails, and nothing else happens
    after = snapshot(url)
    assert after["victim"] and after["roles"] == reference["roles"] and after["members"] == reference["members"]
    scratch.drop_all()
# ---------------------------------------------------------------- 2. names from the database into diff

@pytest.fixture(scope="module")
def jarvis_canary(pg_server, canary_template):
    """The five Jarvis files applied on top of the canary template."""
    name = f"schemagen_jcanary_{uuid.uuid4().hex[:10]}"
    pg.create_database(pg_server.url, name, template=canary_template)
    apply_files(pg_server.url_for(name), api.render_migrations(api.load_spec(ROOT / "schema.yaml")))
    yield name
    pg.drop_database(pg_server.url, name)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("prop-cache")


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def hostile_objects(n: str) -> str:
    """SQL creating objects named ``n`` (and variants) where the Jarvis spec manages them."""
    t = "public.user_plans"
    return f"""
        alter table {t} add column {ident(n)} text;
        alter table {t} add constraint {ident(n + '_c')} check (true);
        create index {ident(n + '_i')} on {t} (plan_type);
        create policy {ident(n + '_p')} on {t} using (true);
        create trigger {ident(n + '_t')} before update on {t}
            for each row execute function public.update_updated_at_column();
        create table public.{ident(n + '_tab')} (x int);
        create type public.{ident(n + '_ty')} as enum ('a');
        create function public.{ident(n + '_f')}(integer, public.{ident(n + '_ty')}) returns int language sql
            as {literal('select 1 as ' + ident(n))};
        comment on function public.{ident(n + '_f')}(integer, public.{ident(n + '_ty')}) is {literal(n)};
        comment on table {t} is {literal(n)};
        comment on column {t}.plan_type is {literal(n)};
        grant select on {t} to anon;
    """


def run_psql(url: str, sql: str, tmp_path: Path) -> None:
    """The README's way: pipe the SQL into psql with ON_ERROR_STOP (when psql is installed)."""
    bin_dir = pg.find_pg_bin()
    psql = (bin_dir / "psql") if bin_dir and (bin_dir / "psql").exists() else shutil.which("psql")
    if not psql:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql)
        return
    r = subprocess.run([str(psql), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url], input=sql, text=True,
                       capture_output=True, cwd=tmp_path, timeout=60)
    assert r.returncode == 0, r.stderr


NAME = HOSTILE.filter(lambda s: "\x00" not in s and len(s.encode()) <= 50)


@DB_SETTINGS
@given(name=NAME)
@example(name="x\ncreate role diffpwn superuser login; --")
@example(name="a(int);grant postgres to anon;commit;--")
@example(name="\x1b]0;pwned\x07\\! touch schemagen_pwned")
def test_hostile_names_in_the_database_are_data_in_diff_output(pg_server, jarvis_canary, cache_dir, tmp_path, name):
    s = Scratch(pg_server, jarvis_canary)
    try:
        url = s.new()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(hostile_objects(name))
        before = snapshot(url)
        report = diff(url, ROOT / "schema.yaml", shadow_url=pg_server.url, strict=True, cache_dir=cache_dir)
        assert report.drift
        text = format_text(report)
        assert not any(ch in text for ch in "\x1b\r\u202e\u2028"), "a control character reached the terminal"
        shown = format_json(report)  # JSON too: every such character escaped, still valid JSON
        assert not any(ch in shown for ch in "\x1b\r\u202e\u2028\x85"), "a control character in the JSON text"
        assert json.loads(shown)["drift"]
        sql = format_sql(report)
        odd = [line for line in sql.splitlines() if any(ch in line for ch in "\x1b\r\u202e\u2028")]
        assert not odd, f"a control character in the SQL text: {odd}"
        for line in sql.splitlines():  # every comment line is one comment; no name starts a line of its own
            assert line.startswith(("--", "begin;", "commit;", "set ", "create ", "drop ", "alter ", "revoke ",
                                    "grant ", "comment ", "do ", "    ", ")", "returns", "language", "as ",
                                    "volatile", "stable", "immutable", "strict", "security", "declare", "begin",
                                    "end", "$")) or not line, line
        run_psql(url, sql, tmp_path)
        after = snapshot(url)
        assert after["victim"], "the canary table was dropped"
        assert after["roles"] == before["roles"] and after["members"] == before["members"]
        assert not (tmp_path / "schemagen_pwned").exists(), "psql ran a meta-command from a name"
        again = diff(url, ROOT / "schema.yaml", shadow_url=pg_server.url, strict=True, cache_dir=cache_dir)
        assert not again.drift, format_text(again)
    finally:
        s.drop_all()
