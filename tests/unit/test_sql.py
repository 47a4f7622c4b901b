"""sql.py, the one author of every statement: quoting, the idempotent and plain forms of each
builder, and the resolved disagreements between the old template and planner texts. The
lexical tests run the text on a real server (under both settings of standard_conforming_strings)."""
from __future__ import annotations

from dataclasses import replace

import psycopg
import pytest

from jarvis_schemagen import model as m
from jarvis_schemagen import sql

NASTY = ["it's", "a\\b", "\\'; drop table x; --", "$$", "$t$", "x$t", "é ü 漢", "new\nline", "cr\rlf\r\n", '"',
         "'", "\\", "%s %% $1", " lead and trail "]


# ---------------------------------------------------------------- lexical, no server

def test_quote_ident_doubles_quotes_and_rejects_nul_and_empty():
    assert sql.quote_ident('we"ird') == '"we""ird"'
    assert sql.quote_qualified("public.user_plans") == '"public"."user_plans"'
    assert sql.quote_qualified("solo") == '"solo"'
    assert sql.qualified("a.b", 'c"') == '"a.b"."c"""'
    for bad in ("", "a\x00b"):
        with pytest.raises(ValueError):
            sql.quote_ident(bad)


def test_quote_literal_doubles_quotes_uses_e_form_for_backslashes_and_rejects_nul():
    assert sql.quote_literal("it's") == "'it''s'"
    assert sql.quote_literal("a\\b'c") == "E'a\\\\b''c'"
    with pytest.raises(ValueError):
        sql.quote_literal("a\x00")


def test_public_is_the_keyword_every_other_role_is_quoted():
    assert sql.roles(["public", "anon", 'x"y']) == 'public, "anon", "x""y"'


def test_dollar_quote_picks_a_tag_that_cannot_close_early():
    assert sql.dollar_quote("select 1", "body") == "$body$select 1$body$"
    assert sql.dollar_quote("x $body$ y $body_1$", "body") == "$body_2$x $body$ y $body_1$$body_2$"
    # a body ending in "$body" would close at "$body" + "$body$" -> "$body$body$": another tag
    assert sql.dollar_quote("x$body", "body") == "$body_1$x$body$body_1$"
    for bad_tag in ("", "1x", "a$b", "a b"):
        with pytest.raises(ValueError):
            sql.dollar_quote("x", bad_tag)
    with pytest.raises(ValueError):
        sql.dollar_quote("x\x00", "body")


def test_line_comment_never_lets_a_line_break_end_the_comment():
    assert sql.line_comment("one") == "-- one"
    assert sql.line_comment("a\nb\r\nc\rd\n") == "-- a\n-- b\n-- c\n-- d\n--"


@pytest.mark.parametrize("good", ["text", "numeric(12,2)", "timestamp with time zone", "text[]", '"My;Type"[]',
                                  "public.my_enum", "character varying(255)", 'x."we""ird"'])
def test_type_names_pass_unchanged(good):
    assert sql.type_name(good) == good


@pytest.mark.parametrize("bad", ["text; drop table x", "text'--", "int/* */", "int)", "(int", "int -- x", "", "text $a$",
                                 '"unterminated', "text\x00"])
def test_type_names_with_sql_outside_quotes_are_refused(bad):
    with pytest.raises(ValueError):
        sql.type_name(bad)


def test_keywords_are_checked():
    p = m.Policy("p", command="select to public; drop table x; --")
    with pytest.raises(ValueError):
        sql.create_policy("public.t", p, idempotent=False)
    with pytest.raises(ValueError):
        sql.grant("table", "public.t", ["select on x; --"], ["anon"])
    with pytest.raises(ValueError):
        sql.create_trigger("public.t", m.Trigger("t", "public.f", "before; x", ("insert",)), idempotent=False)
    with pytest.raises(ValueError):
        sql.drop_object("table", "public.t")  # only the unmodelled kinds
    assert sql.word("plpgsql") == "plpgsql" and sql.word("PL x") == '"PL x"'
    assert sql.setting_name("plpgsql.variable_conflict") == "plpgsql.variable_conflict"
    assert sql.setting_name('x;y') == '"x;y"'


def test_functions_are_named_from_catalog_parts():
    assert sql.drop_function("public", 'f"x', ["integer", "text"]) == 'drop function "public"."f""x"(integer, text);'
    assert sql.split_signature('s.f(numeric(10,2), "a, b", text[])') == ("s", "f", ("numeric(10,2)", '"a, b"', "text[]"))
    assert sql.function("public.f()") == '"public"."f"()'
    f = m.Function("my schema", "f", arguments=(m.Argument("a", "uuid"), m.Argument("o", "text", mode="out")))
    assert sql.function(f) == '"my schema"."f"(uuid)'
    with pytest.raises(ValueError):
        sql.function("public.f(int); drop table x; --)")


# ---------------------------------------------------------------- the forms the two callers share

def test_column_definition_clause_order_is_one():
    c = m.Column("n", "integer", nullable=False, default="0", identity=None)
    assert sql.column_def(c) == '"n" integer not null default 0'
    assert sql.add_column("public.t", c, idempotent=True) == \
        'alter table "public"."t" add column if not exists "n" integer not null default 0;'
    assert sql.add_column("public.t", c, idempotent=False) == 'alter table "public"."t" add column "n" integer not null default 0;'


def test_no_action_is_left_out_like_postgresql_prints_it():
    fk = m.Constraint("fk", "foreign_key", columns=("a",), ref_table="public.p", ref_columns=("id",),
                      on_delete="no action", on_update="cascade")
    assert sql.constraint_def(fk) == 'constraint "fk" foreign key ("a") references "public"."p" ("id") on update cascade'


def test_role_block_swallows_a_concurrent_creation_too():
    text = sql.create_role(m.Role("svc", bypassrls=True), idempotent=True)
    assert "exception when duplicate_object or unique_violation then" in text
    assert text.endswith('\nalter role "svc" bypassrls;')
    assert "alter role" not in sql.create_role(m.Role("svc", bypassrls=True), idempotent=False)


def test_function_body_framing_is_stable():
    assert sql.function_body("select 1  \n\n") == "\nselect 1\n"
    once = sql.function_body("begin\n  null;\nend;")
    assert sql.function_body(once) == once  # what the catalog holds is recreated byte for byte
    assert sql.function_body("\n\nx\n") == "\n\nx\n"


def test_trigger_and_policy_forms():
    tr = m.Trigger("t", "public.f", "before", ("insert", "update"), update_columns=("a",), when="new.a > 0")
    plain = sql.create_trigger("public.t", tr, idempotent=False)
    assert plain == ('create trigger "t"\n    before insert or update of "a" on "public"."t"\n    for each row\n'
                     '    when (new.a > 0)\n    execute function "public"."f"();')
    assert sql.create_trigger("public.t", tr, idempotent=True) == plain.replace("create trigger", "create or replace trigger")
    p = m.Policy("p", command="select", roles=("authenticated",), using="true")
    plain = sql.create_policy("public.t", p, idempotent=False)
    assert sql.create_policy("public.t", p, idempotent=True) == 'drop policy if exists "p" on "public"."t";\n' + plain


def test_comments_and_grants():
    t = m.Table("public", "t")
    assert sql.comment_on("column", t, "c", "it's") == """comment on column "public"."t"."c" is 'it''s';"""
    assert sql.comment_on("index", "s.t", "i", None) == 'comment on index "s"."i" is null;'
    assert sql.grant("column", "public.t.c", ["update"], ["anon"], revoke=True) == \
        'revoke update ("c") on table "public"."t" from "anon";'
    assert sql.grant("function", "public.f(uuid)", ["execute"], ["public"]) == \
        'grant execute on function "public"."f"(uuid) to public;'


def test_grant_option_statements():
    assert sql.grant("table", "public.t", ["select"], ['a"b'], grant_option=True) == \
        'grant select on table "public"."t" to "a""b" with grant option;'
    assert sql.grant("column", "public.t.c", ["update"], ["x"], revoke=True, grant_option=True, cascade=True) == \
        'revoke grant option for update ("c") on table "public"."t" from "x" cascade;'
    assert sql.grant("schema", "app", ["usage"], ["x"], revoke=True, cascade=True) == \
        'revoke usage on schema "app" from "x" cascade;'
    spec_grant = m.Grant("sequence", "public.s", ("usage",), ("x",), grant_option=("usage",))
    assert sql.grant_statement(spec_grant) == 'grant usage on sequence "public"."s" to "x" with grant option;'
    with pytest.raises(ValueError):
        sql.grant_statement(m.Grant("table", "public.t", ("select", "insert"), ("x",), grant_option=("select",)))
    with pytest.raises(ValueError):
        sql.grant("table", "public.t", ["select"], ["x"], cascade=True)


# ---------------------------------------------------------------- on a real server

@pytest.mark.parametrize("conforming", ["on", "off"])
def test_literals_and_identifiers_round_trip_through_postgresql(db_conn, conforming):
    db_conn.execute(f"set standard_conforming_strings = {conforming}")
    db_conn.execute("set escape_string_warning = off")
    for text in NASTY:
        assert db_conn.execute(f"select {sql.quote_literal(text)}").fetchone()[0] == text
        assert db_conn.execute(f"select {sql.dollar_quote(text, 't')}").fetchone()[0] == text
        assert db_conn.execute(f"select 1 as {sql.quote_ident(text)}").description[0].name == text
    db_conn.execute("create schema if not exists s")
    for i, text in enumerate(NASTY):
        name = f"{i}{text}"
        db_conn.execute(sql.create_table(m.Table("s", name, columns=(m.Column(text, "text"),)), idempotent=False))
        db_conn.execute(sql.comment_on("table", m.Table("s", name), text=text))
        got = db_conn.execute("select obj_description(c.oid, 'pg_class'), a.attname from pg_class as c "
                              "join pg_attribute as a on a.attrelid = c.oid and a.attnum = 1 "
                              "where c.relnamespace = 's'::regnamespace and c.relname = %s", (name,)).fetchone()
        assert got == (text, text)


def test_a_line_comment_hides_every_line_of_its_text(db_conn):
    evil = "x\ncreate table public.escaped (id int);\rcreate table public.escaped2 (id int);"
    assert db_conn.execute(f"select 1\n{sql.line_comment(evil)}\n").fetchone()[0] == 1
    assert db_conn.execute("select to_regclass('public.escaped'), to_regclass('public.escaped2')").fetchone() == (None, None)


def _objects(name: str):
    fn = m.Function("public", f"{name} fn", returns="trigger", body="begin\n  return new;\nend;")
    t = m.Table("public", f'{name} "t"',
                columns=(m.Column("id", "integer", nullable=False), m.Column("a", "text", default="'x'")),
                constraints=(m.Constraint("pk", "primary_key", columns=("id",)),
                             m.Constraint("ck", "check", expression="length(a) > 0")))
    return fn, t


@pytest.mark.parametrize("idempotent", [True, False])
def test_idempotent_forms_run_twice_and_plain_forms_refuse_a_second_run(db_conn, idempotent):
    fn, t = _objects("idem" if idempotent else "plain")
    col = m.Column("b", "integer", nullable=False, default="1")
    fk = m.Constraint("fk", "foreign_key", columns=("b",), ref_table=t.qualified_name, ref_columns=("id",),
                      on_delete="no action")
    idx = m.Index("ix", keys=(m.IndexKey("a"), m.IndexKey("lower(a)", is_column=False, descending=True)))
    pol = m.Policy("own", command="select", roles=("authenticated", "public"), using="a <> ''")
    tr = m.Trigger("touch", fn.qualified_name, "before", ("update",), update_columns=("a",))
    steps = [sql.create_schema("extra", idempotent=idempotent),
             sql.create_table(t, idempotent=idempotent),
             sql.add_column(t, col, idempotent=idempotent),
             sql.add_constraint(t, fk, idempotent=idempotent),
             sql.create_index(t, idx, idempotent=idempotent),
             sql.create_policy(t, pol, idempotent=idempotent),
             sql.create_trigger(t, tr, idempotent=idempotent),
             sql.create_role(m.Role("sql_test_role"), idempotent=idempotent),
             sql.create_enum(m.EnumType("public", f"{fn.name} mood", ("ok", "it's")), idempotent=idempotent),
             sql.create_view(m.View("public", f"{fn.name} v", "select 1 as one -- trailing comment"),
                             idempotent=idempotent),
             sql.create_view(m.View("public", f"{fn.name} mv", "select 1 as one", materialized=True),
                             idempotent=idempotent)]
    db_conn.execute(sql.create_function(fn))
    try:
        run_twice(db_conn, steps, idempotent)
    finally:
        db_conn.execute('drop role if exists "sql_test_role"')  # roles outlive the test database
    db_conn.execute(sql.create_function(fn))  # create or replace: both callers
    db_conn.execute(sql.drop_trigger(t, tr.name))
    db_conn.execute(sql.drop_function(*sql.function_parts(fn)))
    assert db_conn.execute("select count(*) from pg_proc where proname = %s", (fn.name,)).fetchone()[0] == 0


def run_twice(db_conn, steps, idempotent):
    for step in steps:
        db_conn.execute(step)
    for step in steps:
        if idempotent or step.startswith("do "):  # a role exists cluster-wide: always a guarded block
            db_conn.execute(step)
        else:
            with pytest.raises(psycopg.Error) as e:
                db_conn.execute(step)
            # duplicate schema, table (or index), column, object
            assert e.value.sqlstate in ("42P06", "42P07", "42701", "42710"), (step, e.value)


def test_a_column_is_written_serial_only_when_it_owns_its_sequence():
    """Introspected: `serial` is the column owning the sequence its default draws from (named as serial names it);
    a default naming a sequence created on its own, even one named like that, stays a default."""
    t = m.Table("public", "orders")
    owned = m.Column("id", "integer", nullable=False, default="nextval('public.orders_id_seq'::regclass)", serial=True)
    assert sql.serial_type(t, owned) == "serial"
    assert sql.column_def(owned, t).startswith('"id" serial')
    standalone = replace(owned, serial=False)
    assert sql.serial_type(t, standalone) is None
    assert "default nextval('public.orders_id_seq'::regclass)" in sql.column_def(standalone, t)
    renamed = replace(owned, default="nextval('public.order_numbers'::regclass)")
    assert sql.serial_type(t, renamed) is None
    assert sql.serial_type(t, m.Column("n", "bigint", nullable=False, serial=True)) == "bigserial"  # from a spec
