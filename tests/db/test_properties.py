"""Property tests on real PostgreSQL (issue 12, item 7): adversarial strings (newlines, quotes, $$,
;, --, */, backslashes, control characters, unicode) in every spec field that reaches SQL. The
rendered files are executed; a canary table must survive, and no role, membership or privilege
may appear that the spec did not ask for.

Bounded for CI (a handful of examples each, the issue's payloads always among them).
"""
from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from jarvis_schemagen import api, pg
from jarvis_schemagen.errors import SpecError

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
