"""The spec loader and validator: YAML -> model, and every problem a person can make, with its position."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from jarvis_schemagen import api, model as m
from jarvis_schemagen.errors import SpecError

HEADER = """\
version: 1
migrations:
  "001": one
  "002": two
roles:
  authenticated: {assumed: true}
"""


def load(body: str) -> m.Schema:
    return api.load_spec_text(HEADER + textwrap.dedent(body), "s.yaml")


def problems(body: str, header: str = HEADER) -> list[str]:
    with pytest.raises(SpecError) as exc:
        api.load_spec_text(header + textwrap.dedent(body), "s.yaml")
    return [str(p) for p in exc.value.problems]


def one_problem(body: str, header: str = HEADER) -> str:
    found = problems(body, header)
    assert len(found) == 1, found
    return found[0]


# ---------------------------------------------------------------- the Jarvis spec

def test_jarvis_spec_loads_with_every_contract_object():
    s = api.load_spec("schema.yaml")
    assert [mig.filename for mig in s.migrations] == [
        "001_create_user_plans_table.sql",
        "002_update_conversations_table.sql",
        "003_create_conversation_usage_table.sql",
        "004_create_usage_events_table.sql",
        "005_create_functions_and_triggers.sql",
    ]
    managed = {t.qualified_name for t in s.tables if not t.assumed}
    assert managed == {"public.user_plans", "public.conversation_usage", "public.usage_events"}
    assumed = {t.qualified_name for t in s.tables if t.assumed}
    assert assumed == {"auth.users", "public.conversations"}
    fns = {f.name for f in s.functions if not f.assumed}
    assert {"update_updated_at_column", "check_conversation_limit", "consume_conversation", "log_usage_event",
            "reset_monthly_usage", "set_user_plan", "handle_new_user"} <= fns
    for f in s.functions:
        if f.security_definer:
            assert dict(f.config)["search_path"] == ""


def test_positions_point_at_the_declaration():
    s = load("""
        tables:
          public.t:
            migration: "001"
            columns:
              id: {type: uuid, primary_key: true}
        """)
    t = s.table("public.t")
    assert (t.pos.line, t.pos.col) == (9, 3)
    assert t.columns[0].pos.line == 12
    assert str(t.pos) == "s.yaml:9:3"


def test_column_shortcuts_become_named_constraints():
    s = load("""
        tables:
          public.parent:
            migration: "001"
            columns:
              id: {type: bigint, identity: always, primary_key: true}
          public.child:
            migration: "001"
            columns:
              id: {type: uuid, primary_key: true}
              parent_id:
                type: int8
                unique: true
                references: {table: public.parent, on_delete: cascade}
              n: {type: int, check: n > 0}
        """)
    child = s.table("public.child")
    kinds = {c.name: c.kind for c in child.constraints}
    assert kinds == {"child_pkey": "primary_key", "child_parent_id_key": "unique",
                     "child_parent_id_fkey": "foreign_key", "child_n_check": "check"}
    fk = next(c for c in child.constraints if c.kind == "foreign_key")
    assert (fk.ref_table, fk.ref_columns, fk.on_delete) == ("public.parent", ("id",), "cascade")
    assert child.column("parent_id").type == "bigint"  # int8 folded to the canonical name
    assert s.table("public.parent").column("id").nullable is False


def test_types_are_canonical():
    s = load("""
        tables:
          public.t:
            migration: "001"
            columns:
              a: timestamptz
              b: "numeric(12, 4)"
              c: varchar(20)
              d: "int[]"
              e: bool
              f: extensions.vector(3)
        """)
    types = [c.type for c in s.table("public.t").columns]
    assert types == ["timestamp with time zone", "numeric(12,4)", "character varying(20)", "integer[]",
                     "boolean", "extensions.vector(3)"]


def test_yaml11_keys_and_quoted_ids_are_read_as_written():
    # `on:` must stay a key (PyYAML would make it True) and "001" keeps its zeros
    s = api.load_spec_text(textwrap.dedent("""\
        version: 1
        migrations: {"001": first}
        schemas:
          public:
            assumed: true
            default_privileges:
              - {on: tables, grant: [select], to: [public]}
        tables:
          public.t: {migration: "001", columns: {id: uuid}}
        """), "s.yaml")
    assert s.migrations[0].id == "001"
    assert s.default_privileges[0].on == "tables"


def test_same_spec_same_model_and_positions_do_not_count():
    a = load("""
        tables:
          public.t: {migration: "001", columns: {id: uuid}}
        """)
    b = api.load_spec_text(HEADER + "\n\n\ntables:\n  public.t: {migration: \"001\", columns: {id: uuid}}\n", "other.yaml")
    assert a == b


# ---------------------------------------------------------------- problems, with positions

def test_malformed_yaml_has_a_position():
    msg = one_problem("tables: [\n", header="")
    assert msg.startswith("s.yaml:2:1: invalid YAML")


def test_empty_file_and_wrong_top_level_shape():
    assert "the spec is empty" in one_problem("", header="")
    assert "must be a mapping" in one_problem("- a\n- b\n", header="")


def test_unknown_keys_suggest_the_right_one():
    msg = one_problem("""
        tables:
          public.t:
            migration: "001"
            colums: {}
            columns: {id: uuid}
        """)
    assert msg == "s.yaml:11:5: unknown key 'colums' in table public.t (did you mean 'columns'?)"


def test_duplicate_keys_are_errors_not_silent_overwrites():
    msg = one_problem("""
        tables:
          public.t:
            migration: "001"
            columns:
              id: uuid
              id: text
        """)
    assert msg == "s.yaml:13:7: duplicate key 'id' in columns of public.t (first defined at line 12)"


def test_duplicate_tables_after_qualification():
    msg = one_problem("""
        tables:
          t: {migration: "001", columns: {id: uuid}}
          public.t: {migration: "001", columns: {id: uuid}}
        """)
    assert "table public.t is declared twice" in msg


def test_duplicate_policies_across_table_and_top_level():
    msg = one_problem("""
        tables:
          public.t:
            migration: "001"
            rls: true
            columns: {id: uuid}
            policies:
              p: {using: "true"}
        policies:
          p: {table: public.t, using: "false"}
        """)
    assert "policy 'p' is declared twice on public.t" in msg


@pytest.mark.parametrize("name", ["Users", "1abc", "a-b", "x" * 64])
def test_invalid_identifiers(name):
    msg = one_problem(f"""
        tables:
          public.t:
            migration: "001"
            columns:
              "{name}": uuid
        """)
    assert name[:10] in msg and ("invalid column name" in msg or "longer than 63" in msg)


def test_unknown_type_with_suggestion_and_serial_explained():
    assert "unknown type 'integr' (did you mean 'integer'?)" in one_problem("""
        tables:
          public.t: {migration: "001", columns: {a: integr}}
        """)
    t = load("""
        tables:
          public.t: {migration: "001", columns: {a: serial}}
        """).table("public.t")
    assert (t.columns[0].type, t.columns[0].serial, t.columns[0].nullable) == ("integer", True, False)
    assert "serial (it has a sequence default) and cannot also have a default" in one_problem("""
        tables:
          public.t: {migration: "001", columns: {b: {type: BigSerial, default: "1"}}}
        """)
    assert "only valid for a column" in one_problem("""
        functions:
          public.f: {migration: "001", returns: serial, language: sql, body: select 1}
        """)


def test_references_to_unknown_tables_and_columns():
    found = problems("""
        tables:
          public.a:
            migration: "001"
            columns:
              id: {type: uuid, primary_key: true}
              b_id: {type: uuid, references: public.nope(id)}
              c_id: {type: uuid, references: public.a(idd)}
        """)
    assert any("references unknown table public.nope" in p for p in found)
    assert any("references unknown column public.a.idd (did you mean 'id'?)" in p for p in found)


def test_foreign_key_to_a_table_created_in_a_later_migration():
    msg = one_problem("""
        tables:
          public.a:
            migration: "001"
            columns:
              id: {type: uuid, primary_key: true}
              b_id: {type: uuid, references: public.b}
          public.b:
            migration: "002"
            columns:
              id: {type: uuid, primary_key: true}
        """)
    assert msg == ("s.yaml:13:7: foreign key a_b_id_fkey (migration 001) references public.b, "
                   "which is created in a later migration (migration 002)")


def test_foreign_key_must_target_a_key_of_the_same_type():
    found = problems("""
        tables:
          public.a:
            migration: "001"
            columns:
              id: {type: uuid, primary_key: true}
              code: text
          public.b:
            migration: "001"
            columns:
              a_code: {type: text, references: public.a(code)}
              a_id: {type: bigint, references: public.a}
        """)
    assert any("public.a(code) is not a primary key or unique" in p for p in found)
    assert any("public.b.a_id is bigint but public.a.id is uuid" in p for p in found)


def test_policy_on_unknown_table():
    msg = one_problem("""
        tables:
          public.t: {migration: "001", rls: true, columns: {id: uuid}}
        policies:
          p: {table: public.tt, using: "true"}
        """)
    assert "policy 'p' is on unknown table public.tt (did you mean 'public.t'?)" in msg


def test_policy_needs_rls_and_known_roles():
    found = problems("""
        tables:
          public.t:
            migration: "001"
            columns: {id: uuid}
            policies:
              p: {roles: [authenticatd], using: "true"}
        """)
    assert any("has policies but row level security is not enabled" in p for p in found)
    assert any("unknown role 'authenticatd' (did you mean 'authenticated'?)" in p for p in found)


def test_trigger_naming_an_unknown_function():
    msg = one_problem("""
        functions:
          public.touch: {migration: "001", returns: trigger, body: "begin return new; end;"}
        tables:
          public.t:
            migration: "001"
            columns: {id: uuid}
            triggers:
              tr: {timing: before, events: [update], function: public.tuch}
        """)
    assert "trigger tr calls unknown function public.tuch (did you mean 'public.touch'?)" in msg


def test_a_trigger_may_call_a_built_in_trigger_function():
    """pg_catalog's trigger functions (tsvector_update_trigger, ...) always exist: not unknown; a column still is."""
    found = problems("""
        tables:
          public.docs:
            migration: "001"
            columns: {id: uuid, body: text, tsv: tsvector}
            triggers:
              tsv_update:
                timing: before
                events: [insert, update]
                function: pg_catalog.tsvector_update_trigger
                arguments: [tsv, pg_catalog.english, body]
              tsv_update_of: {timing: before, events: [update], columns: [bdy], function: pg_catalog.tsvector_update_trigger}
        """)
    assert [p.split(": ", 1)[1] for p in found] == [
        "trigger tsv_update_of names unknown column public.docs.bdy (did you mean 'body'?)"], found


def test_security_definer_without_search_path_is_a_warning():
    s = load("""
        functions:
          public.f: {migration: "001", returns: integer, security_definer: true, language: sql, body: select 1}
        """)
    assert [str(w) for w in s.warnings] == [
        "s.yaml:9:3: function public.f is SECURITY DEFINER without a pinned search_path: it runs with its owner's "
        "rights and resolves unqualified names through the caller's search_path, so a caller who can create objects "
        "in a schema on that path can make it run their code; add `set: {search_path: \"\"}` and qualify every "
        "name in the body"]


def test_objects_need_an_owner_migration_and_it_must_exist():
    found = problems("""
        tables:
          public.t: {columns: {id: uuid}}
          public.u: {migration: "009", columns: {id: uuid}}
        """)
    assert any("needs `migration: <id>`" in p for p in found)
    assert any("unknown migration '009'" in p for p in found)


def test_nested_object_cannot_precede_its_table():
    msg = one_problem("""
        tables:
          public.t:
            migration: "002"
            columns:
              id: uuid
            indexes:
              t_idx: {columns: [id], migration: "001"}
        """)
    assert "index t_idx (migration 001) is created before its table exists (migration 002)" in msg


def test_booleans_must_be_true_or_false():
    msg = one_problem("""
        tables:
          public.t: {migration: "001", rls: yes, columns: {id: uuid}}
        """)
    assert "rls must be true or false, not 'yes'" in msg


def test_every_problem_is_reported_in_file_order():
    found = problems("""
        tables:
          public.a:
            migration: "001"
            columns:
              x: strng
              Y: text
          public.b:
            migraton: "001"
            columns: {id: uuid}
        """)
    assert len(found) >= 3
    lines = [int(p.split(":")[1]) for p in found]
    assert lines == sorted(lines)


def test_spec_file_errors_are_usage_errors(tmp_path):
    from jarvis_schemagen.errors import UsageError

    with pytest.raises(UsageError, match="spec file not found"):
        api.load_spec(tmp_path / "missing.yaml")
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe")
    with pytest.raises(SpecError, match="not UTF-8"):
        api.load_spec(tmp_path / "bin.yaml")


def test_c_and_python_yaml_parsers_give_the_same_model_and_problems(monkeypatch):
    import yaml

    from jarvis_schemagen.spec import loader

    text = (Path(__file__).resolve().parents[2] / "schema.yaml").read_text()
    bad = HEADER + 'tables:\n  public.t: {migration: "001", rls: yes, columns: {id: uuidd}}\n'
    results = []
    for parser in (yaml.SafeLoader, getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
        monkeypatch.setattr(loader, "_YAML_LOADER", parser)
        good = api.load_spec_text(text)
        with pytest.raises(SpecError) as exc:
            api.load_spec_text(bad, "s.yaml")
        results.append((good, [str(p) for p in exc.value.problems]))
    assert results[0] == results[1]
    assert len(results[0][1]) == 2


def test_top_level_grants_on_identity_sequences():
    s = load("""
        tables:
          public.events:
            migration: "001"
            columns: {id: {type: bigint, identity: always, primary_key: true}}
        grants:
          - {on: sequence public.events_id_seq, migration: "001", revoke: [all], from: [authenticated]}
        """)
    g = s.grants[0]
    assert (g.on, g.object, g.action, g.privileges, g.roles, g.migration) == \
        ("sequence", "public.events_id_seq", "revoke", ("all",), ("authenticated",), "001")
    msg = one_problem("""
        tables:
          public.events:
            migration: "001"
            columns: {id: {type: bigint, identity: always, primary_key: true}}
        grants:
          - {on: sequence public.event_id_seq, migration: "001", revoke: [all], from: [authenticated]}
        """)
    assert "unknown sequence public.event_id_seq" in msg and "did you mean 'public.events_id_seq'" in msg


# ---------------------------------------------------------------- declared attributes, data statements

def test_columns_and_foreign_keys_remember_what_the_spec_wrote():
    s = load("""
        tables:
          public.a:
            assumed: true
            columns:
              id: {type: uuid, primary_key: true}
              b: text
              c: {type: text, default: "'x'", nullable: false}
              d: {type: uuid, references: {table: public.a, column: id}}
              e: {type: uuid, references: {table: public.a, column: id, on_delete: cascade}}
        """)
    t = s.table("public.a")
    assert {c.name: c.declared for c in t.columns} == {
        "id": ("type", "nullable"), "b": ("type",), "c": ("type", "nullable", "default"), "d": ("type",),
        "e": ("type",)}
    assert {c.name: c.declared for c in t.constraints if c.kind == "foreign_key"} == {
        "a_d_fkey": (), "a_e_fkey": ("on_delete",)}


def test_data_statements_render_last_in_their_migration_in_file_order():
    s = load("""
        tables:
          public.a: {migration: "001", columns: {id: {type: integer, primary_key: true}}}
        data:
          seed_one:
            migration: "002"
            comment: |-
              First row.
              Idempotent.
            sql: insert into public.a values (1) on conflict do nothing
          seed_two: {migration: "002", sql: "insert into public.a values (2) on conflict do nothing;"}
        """)
    assert [d.name for d in s.data] == ["seed_one", "seed_two"]
    files = api.render_migrations(s)
    assert "insert" not in files["001_one.sql"]
    two = files["002_two.sql"]
    assert two.endswith("-- Data: seed_one\n-- First row.\n-- Idempotent.\n"
                        "insert into public.a values (1) on conflict do nothing;\n\n"
                        "-- Data: seed_two\ninsert into public.a values (2) on conflict do nothing;\n")


def test_data_statements_need_a_known_migration_and_sql():
    assert "unknown migration '009'" in one_problem("""
        data:
          x: {migration: "009", sql: select 1}
        """)
    assert "needs 'sql'" in one_problem("""
        data:
          x: {migration: "001"}
        """)


# ---------------------------------------------------------------- with grant option

GRANT_OPTION_TABLE = """
    tables:
      public.notes:
        migration: "001"
        columns: {id: {type: bigint, identity: always, primary_key: true}, body: text}
        grants:
"""


def test_grant_option_is_read_on_every_kind_of_grant():
    s = load(GRANT_OPTION_TABLE + """\
          - {grant: [select, insert], to: [authenticated], grant_option: true}
          - {grant: [update], columns: [body], to: [authenticated], grant_option: true}
          - {grant: [delete], to: [authenticated], grant_option: false}
    schemas:
      public:
        assumed: true
        grants: [{grant: [usage], to: [authenticated], grant_option: true, migration: "002"}]
    grants:
      - {on: sequence public.notes_id_seq, migration: "002", grant: [usage], to: [authenticated], grant_option: true}
    """)
    got = {(g.on, g.object, g.privileges): g.grant_option for g in s.grants}
    assert got == {
        ("table", "public.notes", ("select", "insert")): ("select", "insert"),
        ("column", "public.notes.body", ("update",)): ("update",),
        ("table", "public.notes", ("delete",)): (),
        ("schema", "public", ("usage",)): ("usage",),
        ("sequence", "public.notes_id_seq", ("usage",)): ("usage",),
    }


@pytest.mark.parametrize("item, message", [
    ("{revoke: [select], from: [authenticated], grant_option: true}",
     "s.yaml:13:65: `grant_option` goes on a grant; a revoke takes the privilege and its grant option"),
    ("{grant: [select], to: [authenticated, public], grant_option: true}",
     "s.yaml:13:70: `grant_option` cannot go to public (PostgreSQL grants options only to roles): "
     "grant public in an item of its own"),
    ("{grant: [select], to: [Public], grant_option: true}",
     "s.yaml:13:55: `grant_option` cannot go to public"),
    ("{grant: [select], to: [authenticated], grant_option: yes}", "s.yaml:13:62: grant_option must be true or false, not 'yes'"),
    ("{grant: [select], to: [authenticated], grant_options: true}",
     "unknown key 'grant_options' in a grant (did you mean 'grant_option'?)"),
])
def test_grant_option_mistakes(item, message):
    assert message in one_problem(GRANT_OPTION_TABLE + f"          - {item}\n")


def test_grant_option_on_a_top_level_revoke_is_refused():
    msg = one_problem(GRANT_OPTION_TABLE + """\
          - {grant: [select], to: [authenticated]}
    grants:
      - {on: function public.f(), migration: "001", revoke: [execute], from: [authenticated], grant_option: true}
    functions:
      public.f: {migration: "001", returns: integer, language: sql, body: select 1}
    """)
    assert "`grant_option` goes on a grant" in msg
