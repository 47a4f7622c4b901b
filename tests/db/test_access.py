"""The access matrix against what PostgreSQL actually allows.

The Jarvis spec's matrix (normalised through a shadow database, as `schemagen access` computes
it) must equal the matrix read from a database where the five files ran, and every cell must be
what real queries get there: as anon, as two authenticated users, as service_role and as
authenticator, each command is run (and rolled back) and its outcome compared with the cell.
Then: a permissive `using (true)` widens access and `access --base` says so.
"""
from __future__ import annotations

import json
import uuid
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from jarvis_schemagen import access, api, pg
from jarvis_schemagen.cli import main
from jarvis_schemagen.introspect import inspect

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "schema.yaml"

# A row each table accepts, owned by %(uid)s; and a harmless SET that reads no column.
ROWS = {
    "auth.users": ("insert into auth.users (id, email) values (%(new)s, 'x@example.com')", "email = 'y@example.com'"),
    "public.conversations": ("insert into public.conversations (id, user_id) values (gen_random_uuid(), %(uid)s)",
                             "usage_metadata = '{}'"),
    "public.conversation_usage": (
        "insert into public.conversation_usage (conversation_id, user_id, provider, started_at)"
        " values (%(conv)s, %(uid)s, 'openai', now())", "model = 'x'"),
    "public.usage_events": ("insert into public.usage_events (user_id, event_type) values (%(uid)s, 'conversation_end')",
                            "event_data = '{}'"),
    "public.user_plans": ("insert into public.user_plans (user_id) values (%(uid)s)", "stripe_price_id = 'x'"),
}
# before inserting a plan row for a user, remove the one the signup trigger made (rolled back afterwards)
SETUP = {"public.user_plans": "delete from public.user_plans where user_id = %(uid)s"}


@pytest.fixture(scope="session")
def access_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("access-cache")


@pytest.fixture
def jurl(pg_server, jarvis_template):
    name = f"schemagen_acc_{uuid.uuid4().hex[:10]}"
    pg.create_database(pg_server.url, name, template=jarvis_template)
    yield pg_server.url_for(name)
    pg.drop_database(pg_server.url, name)


@pytest.fixture(scope="session")
def spec_matrix(pg_server, access_cache) -> access.Matrix:
    return access.matrix_of(access.from_spec(SPEC, shadow_url=pg_server.url, cache_dir=access_cache,
                                             label="schema.yaml"))


class World:
    """A database with the five files and two users (each with a conversation, usage and an event)."""

    def __init__(self, url: str):
        self.conn = psycopg.connect(url, autocommit=True)
        c = self.conn
        self.users = {}
        self.convs = {}
        for name in ("ann", "bob"):
            uid = uuid.uuid4()
            c.execute("insert into auth.users (id, email) values (%s, %s)", [uid, f"{name}@example.com"])
            conv = c.execute("insert into public.conversations (id, user_id) values (gen_random_uuid(), %s)"
                             " returning id", [uid]).fetchone()[0]
            c.execute("insert into public.conversation_usage (conversation_id, user_id, provider, started_at)"
                      " values (%s, %s, 'openai', now())", [conv, uid])
            c.execute("insert into public.usage_events (user_id, event_type, conversation_id)"
                      " values (%s, 'conversation_start', %s)", [uid, conv])
            self.users[name], self.convs[name] = uid, conv

    def attempt(self, role: str, me: str | None, sql: str, params: dict, setup: str | None = None):
        """Run ``sql`` as ``role`` (with ``me``'s JWT claims), always rolled back: ("ok", rowcount)
        or ("error", sqlstate)."""
        c = self.conn
        claims = {"role": role, **({"sub": str(self.users[me])} if me else {})}
        try:
            with c.transaction(force_rollback=True):
                if setup:
                    c.execute(setup, params)
                c.execute(f'set local role "{role}"')
                c.execute("select set_config('request.jwt.claims', %s, true)", [json.dumps(claims)])
                with c.transaction():
                    return "ok", c.execute(sql, params).rowcount
        except psycopg.Error as e:
            return "error", e.sqlstate

    def count(self, table: str, condition: str | None, me: str | None) -> int:
        """Rows of ``table`` for which ``condition`` holds with ``me``'s claims (as the superuser)."""
        c = self.conn
        with c.transaction(force_rollback=True):
            claims = {"role": "authenticated", **({"sub": str(self.users[me])} if me else {})}
            c.execute("select set_config('request.jwt.claims', %s, true)", [json.dumps(claims)])
            where = f" where {condition}" if condition else ""
            return c.execute(f"select count(*) from {table}{where}").fetchone()[0]

    def holds(self, condition: str, me: str | None, owner: uuid.UUID) -> bool:
        """``condition`` (a with check on user_id) for a new row owned by ``owner``, with ``me``'s claims."""
        c = self.conn
        with c.transaction(force_rollback=True):
            claims = {"role": "authenticated", **({"sub": str(self.users[me])} if me else {})}
            c.execute("select set_config('request.jwt.claims', %s, true)", [json.dumps(claims)])
            return bool(c.execute(f"select {condition} from (select %s::uuid as user_id) as x", [owner]).fetchone()[0])


# role as which a query runs, and whose claims it carries
ACTORS = [("anon", None), ("authenticated", "ann"), ("authenticated", "bob"), ("service_role", None),
          ("authenticator", "ann")]


def _denied_by_privilege(cell: access.Cell) -> bool:
    return cell.access == "denied" and cell.reason.startswith("no ")


def _check_cell(world: World, table: str, cmd: str, role: str, me: str | None, cell: access.Cell) -> None:
    ctx = f"{role}/{me} {cmd} on {table}: cell {cell}"
    assert cell.columns is None, ctx  # the Jarvis spec grants no column privileges
    insert_sql, set_clause = ROWS[table]
    other = "bob" if me == "ann" else "ann"
    params = {"uid": world.users[me] if me else world.users["ann"], "conv": world.convs[me or "ann"],
              "new": uuid.uuid4()}
    if cmd == "select":
        got = world.attempt(role, me, f"select * from {table}", params)
        if _denied_by_privilege(cell):
            assert got == ("error", "42501"), ctx
        elif cell.access == "denied":
            assert got == ("ok", 0), ctx
        else:
            assert got[0] == "ok", ctx
            expected = world.count(table, cell.using.text if cell.access == "rows" else None, me)
            assert got[1] == expected, ctx
            if cell.access == "rows":
                assert 0 < expected < world.count(table, None, me), f"{ctx}: the test data cannot tell rows from all"
    elif cmd == "insert":
        for owner in ([me, other] if me else ["ann"]):
            params = dict(params, uid=world.users[owner], conv=world.convs[owner])
            got = world.attempt(role, me, insert_sql, params, SETUP.get(table))
            if cell.access == "denied":
                allowed = False
            elif cell.access == "all":
                allowed = True
            else:
                allowed = world.holds(cell.with_check.text, me, world.users[owner])
            assert got == (("ok", 1) if allowed else ("error", "42501")), f"{ctx} (row of {owner})"
        if cell.access == "rows":  # the condition really separates own rows from others'
            assert world.holds(cell.with_check.text, me, world.users[me])
            assert not world.holds(cell.with_check.text, me, world.users[other])
    elif cmd in ("update", "delete"):
        sql = f"update {table} set {set_clause}" if cmd == "update" else f"delete from {table}"
        got = world.attempt(role, me, sql, params)
        if _denied_by_privilege(cell):
            assert got == ("error", "42501"), ctx
        elif cell.access == "denied":
            assert got == ("ok", 0), ctx
        else:
            expected = world.count(table, cell.using.text if cell.access == "rows" else None, me)
            assert got == ("ok", expected), ctx
    else:
        got = world.attempt(role, me, f"truncate {table}", params)
        if cell.access == "denied":
            assert got == ("error", "42501"), ctx
        else:  # allowed; a table others reference still refuses a truncate without cascade (0A000)
            assert got in (("ok", -1), ("ok", 0), ("error", "0A000")), ctx


def test_the_spec_matrix_equals_the_databases(spec_matrix, jurl):
    with psycopg.connect(jurl, autocommit=True) as conn:
        model = inspect(conn, ["auth", "public"])
    db_matrix = access.matrix(model, spec_matrix.roles)
    assert db_matrix.data()["tables"] == spec_matrix.data()["tables"]
    assert db_matrix.data()["functions"] == spec_matrix.data()["functions"]


def test_every_cell_of_the_jarvis_matrix_is_what_the_database_allows(spec_matrix, jurl):
    world = World(jurl)
    try:
        assert [t.table for t in spec_matrix.tables] == sorted(ROWS)
        checked = 0
        for t in spec_matrix.tables:
            for role, me in ACTORS:
                for cmd in access.COMMANDS:
                    _check_cell(world, t.table, cmd, role, me, t.cell(role, cmd))
                    checked += 1
        assert checked == len(ROWS) * len(ACTORS) * len(access.COMMANDS)
    finally:
        world.conn.close()


def test_the_jarvis_matrix_says_what_the_contract_says(spec_matrix):
    for name in ("public.user_plans", "public.conversation_usage", "public.usage_events"):
        t = spec_matrix.table(name)
        assert [t.cell("anon", c).access for c in access.COMMANDS] == ["denied"] * 5
        assert [t.cell("authenticated", c).access for c in access.COMMANDS] == ["rows"] + ["denied"] * 4
        assert [t.cell("service_role", c).access for c in access.COMMANDS] == ["all"] * 5
    conv = spec_matrix.table("public.conversations")  # the app's own table: its policies are the app's
    assert conv.cell("anon", "select").access == "denied"
    assert [conv.cell("service_role", c).access for c in access.COMMANDS] == ["all"] * 5
    fn = {f.function: f for f in spec_matrix.functions}
    assert fn["public.check_conversation_limit(uuid)"].security_definer
    assert "anon" not in fn["public.check_conversation_limit(uuid)"].execute
    assert "authenticated" in fn["public.check_conversation_limit(uuid)"].execute
    assert fn["public.set_user_plan(uuid, text)"].execute[:1] == ("service_role",)


ARGS = {"uuid": "%(ann)s::uuid", "text": "'free'", "jsonb": "'{}'::jsonb", "integer": "1", "bigint": "1"}


def test_who_may_execute_each_function_is_what_the_database_allows(spec_matrix, jurl):
    world = World(jurl)
    try:
        for f in spec_matrix.functions:
            name, _, types = f.function.partition("(")
            args = ", ".join(ARGS[t.strip()] for t in types.rstrip(")").split(",") if t.strip())
            for role, me in ACTORS:
                got = world.attempt(role, me, f"select {name}({args})", {"ann": world.users["ann"]})
                denied = got[0] == "error" and got[1] == "42501" and _permission_error(world, role, me, name, args)
                assert denied == (role not in f.execute), f"{role} execute {f.function}: {got}"
    finally:
        world.conn.close()


def _permission_error(world: World, role: str, me: str | None, name: str, args: str) -> bool:
    """42501 from the privilege check, not from the function's own caller rule (also 42501)."""
    c = world.conn
    try:
        with c.transaction(force_rollback=True):
            c.execute(f'set local role "{role}"')
            c.execute(f"select {name}({args})", {"ann": world.users["ann"]})
    except psycopg.Error as e:
        return "permission denied for function" in str(e)
    return False


# ---------------------------------------------------------------- widening

WIDE_POLICY = """
policies:
  Everyone reads every conversation:
    table: public.conversations
    command: select
    roles: [authenticated]
    using: "true"
"""


def wide_spec(tmp_path) -> Path:
    text = SPEC.read_text()
    assert "\npolicies:" not in text
    path = tmp_path / "schema.yaml"
    path.write_text(text + WIDE_POLICY)
    return path


def test_a_using_true_policy_on_conversations_is_a_widening(tmp_path, pg_server, access_cache, spec_matrix):
    wide = access.matrix_of(access.from_spec(wide_spec(tmp_path), shadow_url=pg_server.url, cache_dir=access_cache))
    changes = access.access_changes(spec_matrix, wide)
    assert [(c.object, c.role, c.command, c.verdict) for c in changes] == [
        ("public.conversations", "authenticated", "select", "widened"),
        ("public.conversations", "authenticator", "select", "widened")]
    assert changes[0].after.access == "all" and changes[0].before.access in ("rows", "denied")
    assert access.access_changes(wide, spec_matrix)[0].verdict == "narrowed"
    assert access.access_changes(spec_matrix, spec_matrix) == []


def test_cli_access_base_shows_the_widening_first_and_fails_on_it(tmp_path, pg_server, access_cache, monkeypatch):
    monkeypatch.setenv("SCHEMAGEN_CACHE_DIR", str(access_cache))
    wide = wide_spec(tmp_path)
    runner = CliRunner()
    args = ["access", "--spec", str(wide), "--shadow-db", pg_server.url, "--base", str(SPEC)]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1].startswith("Widened (2):")
    assert lines[2].strip().startswith("authenticated select on public.conversations: ") and \
        lines[2].endswith("-> every row")
    assert runner.invoke(main, args + ["--fail-on-widen"]).exit_code == 1
    data = json.loads(runner.invoke(main, args + ["--format", "json"]).output)
    assert data["widened"] is True and data["changes"][0]["verdict"] == "widened"
    md = runner.invoke(main, args + ["--format", "markdown"]).output
    assert "**Widened** (2)" in md
    # the other way round it narrows: no failure
    back = runner.invoke(main, ["access", "--spec", str(SPEC), "--shadow-db", pg_server.url, "--base", str(wide),
                                "--fail-on-widen"])
    assert back.exit_code == 0 and "Narrowed (2):" in back.output


def test_cli_access_base_from_git(pg_server, access_cache, monkeypatch):
    monkeypatch.setenv("SCHEMAGEN_CACHE_DIR", str(access_cache))
    monkeypatch.chdir(ROOT)
    runner = CliRunner()
    result = runner.invoke(main, ["access", "--shadow-db", pg_server.url, "--base", "git:HEAD:schema.yaml",
                                  "--fail-on-widen"])
    # HEAD's spec is this checkout's (or an older one): never a traceback, exit 0 or 1
    assert result.exit_code in (0, 1) and "Access changes from git:HEAD:schema.yaml" in result.output, result.output
    bad = runner.invoke(main, ["access", "--shadow-db", pg_server.url, "--base", "git:no-such-ref:schema.yaml"])
    assert bad.exit_code == 2 and "schemagen: error: --base git:no-such-ref:schema.yaml" in bad.output


def test_cli_access_formats_and_db(jurl, pg_server, access_cache, monkeypatch):
    monkeypatch.setenv("SCHEMAGEN_CACHE_DIR", str(access_cache))
    runner = CliRunner()
    text = runner.invoke(main, ["access", "--spec", str(SPEC), "--shadow-db", pg_server.url])
    assert text.exit_code == 0 and "public.user_plans" in text.output and "rows[1]" in text.output
    md = runner.invoke(main, ["access", "--spec", str(SPEC), "--shadow-db", pg_server.url, "--format", "markdown"])
    assert "| role | select | insert | update | delete | truncate |" in md.output
    live = runner.invoke(main, ["access", "--spec", str(SPEC), "--db", jurl, "--format", "json"])
    spec = runner.invoke(main, ["access", "--spec", str(SPEC), "--shadow-db", pg_server.url, "--format", "json"])
    assert json.loads(live.output)["tables"] == json.loads(spec.output)["tables"]
    assert runner.invoke(main, ["access", "--fail-on-widen", "--spec", str(SPEC)]).exit_code == 2


def test_lint_on_a_live_database(jurl):
    runner = CliRunner()
    clean = runner.invoke(main, ["lint", "--spec", str(SPEC), "--db", jurl])
    assert clean.exit_code == 0, clean.output
    with psycopg.connect(jurl, autocommit=True) as conn:
        conn.execute("alter table public.usage_events disable row level security")
    found = runner.invoke(main, ["lint", "--spec", str(SPEC), "--db", jurl, "--format", "json"])
    rules = {f["rule"] for f in json.loads(found.output)["findings"]}
    assert found.exit_code == 1 and {"policy_exists_rls_disabled", "rls_disabled_in_public"} <= rules


def test_lint_on_a_live_database_finds_a_grant_option_held_by_an_api_role(jurl):
    """SG03 reads the database's ACLs: a grant option for an API role is found on the app's table and
    on the platform's auth.users alike (no platform grants one)."""
    with psycopg.connect(jurl, autocommit=True) as conn:
        conn.execute("grant select on public.usage_events to authenticated with grant option;"
                     "grant select on auth.users to anon with grant option")
    found = CliRunner().invoke(main, ["lint", "--spec", str(SPEC), "--db", jurl, "--format", "json"])
    assert found.exit_code == 1, found.output
    sg03 = [(f["code"], f["object"], f["level"]) for f in json.loads(found.output)["findings"]
            if f["rule"] == "api_role_grant_option"]
    assert sg03 == [("SG03", "table auth.users", "warning"), ("SG03", "table public.usage_events", "warning")]


@pytest.mark.parametrize("spec_path", [SPEC, ROOT / "tests" / "fixtures" / "kitchen_sink" / "schema.yaml"],
                         ids=["jarvis", "kitchen_sink"])
def test_offline_acls_are_what_a_database_reports(spec_path, pg_server, access_cache):
    """spec_acl (what lint and render use without a database) against the shadow database's ACLs."""
    shadow = access.from_spec(spec_path, shadow_url=pg_server.url, cache_dir=access_cache).model
    offline = access.spec_acl(api.load_spec(spec_path))

    def acl(model):
        return {(g.on, g.object, role, p) for g in model.grants for role in g.roles for p in g.privileges}

    assert acl(offline) == acl(shadow)


def test_the_readme_shows_the_current_jarvis_matrix(spec_matrix):
    readme = (ROOT / "README.md").read_text()
    begin, end = "<!-- access-matrix:begin -->\n```text\n", "```\n<!-- access-matrix:end -->"
    shown = readme[readme.index(begin) + len(begin):readme.index(end)]
    assert shown == access.format_text(spec_matrix), (
        "README.md's access matrix is stale: paste the output of `schemagen access` between the "
        "access-matrix markers")


# ---------------------------------------------------------------- diff: what the drift means for access

def _diff(url, spec=SPEC, **kw):
    from jarvis_schemagen.diff import diff

    kw.setdefault("shadow_url", kw.pop("pg_server").url)
    return diff(url, spec, **kw)


def test_diff_reports_a_using_true_policy_on_the_assumed_conversations_as_drift(jurl, pg_server, access_cache):
    from jarvis_schemagen.report import format_json, format_sql, format_text

    assert not _diff(jurl, pg_server=pg_server, cache_dir=access_cache).drift
    with psycopg.connect(jurl, autocommit=True) as conn:
        conn.execute('create policy "Everyone reads" on public.conversations for select to authenticated'
                     ' using (true)')
    report = _diff(jurl, pg_server=pg_server, cache_dir=access_cache)
    assert report.changes == () and report.exit_code == 1  # unmanaged alone would not be drift
    assert [(c.object, c.role, c.command, c.verdict) for c in report.access_drift] == [
        ("public.conversations", "authenticated", "select", "widened")]
    text = format_text(report)
    assert "Access is wider than the spec in 1 place, marked [drift] under Access." in text.splitlines()[:3]
    assert "  Widened (2, 1 of them drift):" in text
    assert "authenticated select on public.conversations: " in text and "-> every row" in text
    # no statement of `diff --format sql` touches the assumed table: the report says what to do instead
    assert "format sql" not in text
    assert text.splitlines()[-1].startswith("The access marked [drift] on public.conversations is not fixed by "
                                            "schemagen") and "drop them yourself" in text
    data = json.loads(format_json(report))
    assert data["drift"] is True
    assert [(e["role"], e["verdict"], e["drift"]) for e in data["access"]] == [
        ("authenticated", "widened", True), ("authenticator", "widened", False)]
    # even --strict never drops what is on an assumed table (the app's policy): the app removes it,
    # after which access is the spec's again
    strict = format_sql(_diff(jurl, pg_server=pg_server, cache_dir=access_cache, strict=True))
    assert "drop policy" not in strict and "1 unmanaged object(s) on assumed tables are left alone" in strict
    with psycopg.connect(jurl, autocommit=True) as conn:
        conn.execute('drop policy "Everyone reads" on public.conversations')
    after = _diff(jurl, pg_server=pg_server, cache_dir=access_cache, strict=True)
    assert not after.drift and after.access == ()


def test_cli_diff_exits_1_on_widened_access(jurl, pg_server, access_cache, monkeypatch):
    monkeypatch.setenv("SCHEMAGEN_CACHE_DIR", str(access_cache))
    runner = CliRunner()
    args = ["diff", "--db", jurl, "--spec", str(SPEC), "--shadow-db", pg_server.url]
    assert runner.invoke(main, args).exit_code == 0
    with psycopg.connect(jurl, autocommit=True) as conn:
        conn.execute("create policy anyone on public.conversations for update to authenticated"
                     " using (true) with check (true)")
    result = runner.invoke(main, args)
    assert result.exit_code == 1 and "Widened (2, 1 of them drift):" in result.output, result.output
    assert "format sql" not in result.output and "drop them yourself" in result.output


def test_a_restrictive_policy_narrows_and_is_not_drift(jurl, pg_server, access_cache):
    with psycopg.connect(jurl, autocommit=True) as conn:
        conn.execute("create policy mine on public.conversations for select to authenticated"
                     " using ((select auth.uid()) = user_id);"
                     "create policy recent on public.conversations as restrictive for select to authenticated"
                     " using (created_at > now() - interval '1 year')")
    both = _diff(jurl, pg_server=pg_server, cache_dir=access_cache)
    with psycopg.connect(jurl, autocommit=True) as conn:
        conn.execute("drop policy mine on public.conversations")
    report = _diff(jurl, pg_server=pg_server, cache_dir=access_cache)
    assert not report.drift and report.exit_code == 0  # only the restrictive one: it can only narrow
    assert all(c.verdict == "narrowed" for c in report.access)
    # the app's own row filter on its own (assumed) table is listed, not drift: only every row is
    assert not both.drift and both.exit_code == 0


STORAGE = """
  storage: {assumed: true}
"""
STORAGE_TABLE = """
  storage.objects:
    assumed: true
    rls: true
    columns:
      id: {type: uuid, primary_key: true}
      bucket_id: text
      name: text
      owner: uuid
"""


def test_a_using_true_policy_on_storage_objects_is_drift(tmp_path, jurl, pg_server, access_cache):
    text = SPEC.read_text()
    text = text.replace("\nschemas:\n", "\nschemas:" + STORAGE, 1).replace("\ntables:\n", "\ntables:" + STORAGE_TABLE, 1)
    spec = tmp_path / "schema.yaml"
    spec.write_text(text)
    with psycopg.connect(jurl, autocommit=True) as conn:
        conn.execute(api.assumed_objects_sql(api.load_spec(spec)))
        # the platform's own grants on storage: not the spec's business, not drift
        conn.execute("grant usage on schema storage to anon, authenticated, service_role;"
                     "grant all on storage.objects to anon, authenticated, service_role")
    assert not _diff(jurl, spec, pg_server=pg_server, cache_dir=access_cache).drift
    with psycopg.connect(jurl, autocommit=True) as conn:
        conn.execute("create policy \"Public read\" on storage.objects for select to public using (true)")
    report = _diff(jurl, spec, pg_server=pg_server, cache_dir=access_cache)
    assert report.changes == () and report.unmanaged == () and report.drift
    assert {(c.object, c.role, c.command) for c in report.access_drift} == {
        ("storage.objects", "anon", "select"), ("storage.objects", "authenticated", "select")}
    from jarvis_schemagen.report import format_text
    out = format_text(report)
    assert "format sql" not in out and "[drift] on storage.objects is not fixed by schemagen" in out


# ---------------------------------------------------------------- views

def test_views_run_as_their_owner_unless_security_invoker(jurl):
    with psycopg.connect(jurl, autocommit=True) as conn:
        conn.execute("create view public.all_plans as select user_id, plan_type from public.user_plans;"
                     "create view public.my_plans with (security_invoker = true) as"
                     " select user_id, plan_type from public.user_plans;"
                     "revoke all on public.all_plans, public.my_plans from anon, authenticated;"
                     "grant select on public.all_plans, public.my_plans to authenticated")
        model = inspect(conn, ["auth", "public"])
    mx = access.matrix(model, ("anon", "authenticated", "service_role"))
    definer, invoker = mx.table("public.all_plans"), mx.table("public.my_plans")
    assert (definer.kind, invoker.kind) == ("view", "invoker view")
    assert definer.cell("authenticated", "select").access == "all"
    assert invoker.cell("authenticated", "select").access == "rows"
    assert definer.cell("anon", "select").access == invoker.cell("anon", "select").access == "denied"
    assert definer.cell("authenticated", "truncate").access == "denied"
    text = access.format_text(mx)
    assert "public.all_plans  (view, runs as its owner)" in text and "caller" in text
    world = World(jurl)
    try:
        total = world.count("public.user_plans", None, "ann")
        assert total >= 2
        assert world.attempt("authenticated", "ann", "select * from public.all_plans", {}) == ("ok", total)
        assert world.attempt("authenticated", "ann", "select * from public.my_plans", {}) == ("ok", 1)
        assert world.attempt("anon", None, "select * from public.all_plans", {}) == ("error", "42501")
        assert world.attempt("anon", None, "select * from public.my_plans", {}) == ("error", "42501")
    finally:
        world.conn.close()



def test_names_from_the_database_are_printed_on_one_line(jurl):
    with psycopg.connect(jurl, autocommit=True) as conn:
        conn.execute('create table public."evil\nname\x1b[31m" (id int primary key);'
                     'grant select on public."evil\nname\x1b[31m" to anon')
    runner = CliRunner()
    out = runner.invoke(main, ["access", "--spec", str(SPEC), "--db", jurl]).output
    assert "\x1b" not in out and "public.evil\\nname\\x1b[31m  (RLS off)" in out
    lint_out = runner.invoke(main, ["lint", "--spec", str(SPEC), "--db", jurl]).output
    assert "\x1b" not in lint_out and "evil\\nname" in lint_out


# ---------------------------------------------------------------- the rules beyond Jarvis, against real queries

def _count(conn, role: str, sql: str):
    try:
        with conn.transaction(force_rollback=True):
            conn.execute(f'set local role "{role}"')
            return conn.execute(sql).rowcount
    except psycopg.Error as e:
        return e.sqlstate


def test_column_grants_restrictive_policies_owner_forced_rls_and_bypassrls(db):
    suffix = uuid.uuid4().hex[:8]
    owner, bypasser = f"t_owner_{suffix}", f"bypasser_{suffix}"
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute(f"""
            create role "{owner}" nologin; create role "{bypasser}" nologin bypassrls;
            create table public.t (id int primary key, secret text);
            insert into public.t values (1, 'a'), (2, 'b'), (3, 'c');
            alter table public.t enable row level security;
            alter table public.t owner to "{owner}";
            revoke all on public.t from anon, authenticated, service_role;
            grant select (id) on public.t to anon;
            grant select on public.t to "{bypasser}";
            create policy p on public.t for select to anon using (id > 1);
            create policy r on public.t as restrictive for select to anon using (id < 3);""")
        try:
            roles = ("anon", "authenticated", owner, bypasser)
            mx = access.matrix(inspect(conn, ["public"]), roles)
            t = mx.table("public.t")
            anon = t.cell("anon", "select")
            assert (anon.access, anon.columns) == ("rows", ("id",))
            assert anon.using.permissive == ("(id > 1)",) and anon.using.restrictive == ("(id < 3)",)
            assert _count(conn, "anon", "select id from public.t") == 1  # id 2: (id > 1) and (id < 3)
            assert _count(conn, "anon", "select secret from public.t") == "42501"
            assert t.cell("authenticated", "select").access == "denied"
            assert _count(conn, "authenticated", "select id from public.t") == "42501"
            assert t.cell(owner, "select").access == "all" and t.cell(owner, "truncate").access == "all"
            assert _count(conn, owner, "select * from public.t") == 3
            assert t.cell(bypasser, "select").access == "all" and t.cell(bypasser, "delete").access == "denied"
            assert _count(conn, bypasser, "select * from public.t") == 3
            assert _count(conn, bypasser, "delete from public.t") == "42501"

            conn.execute("alter table public.t force row level security")
            forced = access.matrix(inspect(conn, ["public"]), roles).table("public.t")
            assert forced.cell(owner, "select").access == "denied"  # forced: no policy for the owner
            assert _count(conn, owner, "select * from public.t") == 0
            assert forced.cell(bypasser, "select").access == "all"
            changes = access.access_changes(mx, access.matrix(inspect(conn, ["public"]), roles))
            assert [(c.role, c.verdict) for c in changes if c.command == "select"] == [(owner, "narrowed")]
        finally:
            conn.execute(f'drop table public.t; drop role "{owner}"; drop role "{bypasser}"')
