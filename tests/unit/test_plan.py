"""plan: the global order of statements, quoting, destructive markers. No database (the
convergence of the SQL on a real server is tested in tests/db/test_diff.py)."""
from __future__ import annotations

from dataclasses import replace

from jarvis_schemagen import model as m
from jarvis_schemagen.compare import compare
from jarvis_schemagen.plan import function_needs_recreate, plan

USING = "(( SELECT auth.uid() AS uid) = user_id)"


def table(**kw) -> m.Table:
    t = m.Table(
        schema="public", name="user plans", migration="001", rls_enabled=True,
        columns=(m.Column("id", "uuid", nullable=False), m.Column("user_id", "uuid", nullable=False),
                 m.Column('we"ird', "text", comment="it's")),
        constraints=(m.Constraint("pk", "primary_key", columns=("id",)),
                     m.Constraint("fk", "foreign_key", columns=("user_id",), ref_table="auth.users",
                                  ref_columns=("id",), on_delete="cascade")),
        indexes=(m.Index("idx", keys=(m.IndexKey("user_id"), m.IndexKey("lower(x)", is_column=False, descending=True)),
                         where="(user_id IS NOT NULL)"),),
        policies=(m.Policy("Users see own", command="select", roles=("authenticated", "public"), using=USING),),
        triggers=(m.Trigger("touch", function="public.touch", timing="before", events=("insert", "update"),
                            update_columns=("user_id",)),),
    )
    return replace(t, **kw)


def fn(**kw) -> m.Function:
    return replace(m.Function("public", "touch", returns="trigger", body="\nbegin\n  return new;\nend;\n",
                              config=(("search_path", ""),), migration="001"), **kw)


def sql_of(desired: m.Schema, actual: m.Schema) -> str:
    return plan(compare(desired, actual).changes, desired).sql()


def lines(text: str) -> list[str]:
    return [x for x in text.splitlines() if x and not x.startswith("--")]


def test_no_changes_no_statements():
    text = plan([]).sql("header")
    assert text == "-- header\n-- Nothing to do.\n"


def test_a_missing_table_is_created_whole_with_everything_quoted():
    d = m.Schema(tables=(table(),), functions=(fn(),),
                 grants=(m.Grant("table", "public.user plans", ("select",), ("authenticated",)),))
    text = sql_of(d, m.Schema(functions=(fn(),)))
    body = lines(text)
    assert body[:3] == ["begin;", "set local search_path = '';", "set local check_function_bodies = off;"]
    assert body[-1] == "commit;"
    create = text.index('create table "public"."user plans" (')
    assert '"we""ird" text' in text and 'constraint "pk" primary key ("id")' in text
    fk = text.index('alter table "public"."user plans" add constraint "fk" foreign key ("user_id") '
                    'references "auth"."users" ("id") on delete cascade;')
    idx = text.index('create index "idx" on "public"."user plans" using btree ("user_id", (lower(x)) desc) '
                     'where ((user_id IS NOT NULL));')
    rls = text.index('alter table "public"."user plans" enable row level security;')
    pol = text.index('create policy "Users see own" on "public"."user plans"\n    as permissive\n    for select\n'
                     '    to "authenticated", public\n    using ((( SELECT auth.uid() AS uid) = user_id));')
    trg = text.index('create trigger "touch"\n    before insert or update of "user_id" on "public"."user plans"\n'
                     '    for each row\n    execute function "public"."touch"();')
    reset = text.index("revoke all on table")
    grant = text.index('grant select on table "public"."user plans" to "authenticated";')
    comment = text.index("""comment on column "public"."user plans"."we""ird" is 'it''s';""")
    assert create < rls < fk < idx < pol < trg < reset < grant < comment


def test_drops_of_triggers_and_policies_come_first_and_creates_last():
    t = table()
    d = m.Schema(tables=(t,), functions=(fn(),))
    changed_policy = replace(t.policies[0], using="true")
    a = m.Schema(tables=(replace(t, policies=(changed_policy,), triggers=(replace(t.triggers[0], timing="after"),),
                                 columns=t.columns[:2]),), functions=(fn(body="x"),))
    text = sql_of(d, a)
    order = [text.index(s) for s in (
        'drop trigger if exists "touch"', 'drop policy if exists "Users see own"',
        'create or replace function "public"."touch"()', 'add column "we""ird" text',
        'create policy "Users see own"', 'create trigger "touch"')]
    assert order == sorted(order)


def test_destructive_statements_are_marked():
    t = table()
    d = m.Schema(tables=(t,))
    a = m.Schema(tables=(replace(t, columns=(replace(t.columns[0], type="text"),) + t.columns[1:]
                                  + (m.Column("old", "text"),)),))
    text = sql_of(d, a)
    assert '-- destructive: drops column public.user plans.old and its data\nalter table "public"."user plans" ' \
           'drop column "old";' in text
    assert "-- destructive: changes the type of public.user plans.id from text to uuid" in text
    assert 'alter column "id" type uuid using "id"::uuid;' in text
    assert len(plan(compare(d, a).changes, d).destructive) == 2


def test_dropping_a_constraint_is_not_destructive_and_fks_go_first():
    t = table()
    d = m.Schema(tables=(replace(t, constraints=()),))
    text = sql_of(d, m.Schema(tables=(t,)))
    assert "destructive" not in text.split("begin;")[1]
    assert text.index('drop constraint "fk"') < text.index('drop constraint "pk"')


def test_a_type_change_rebuilds_the_policies_that_name_the_column():
    t = table()
    d = m.Schema(tables=(t,))
    a = m.Schema(tables=(replace(t, columns=(t.columns[0], replace(t.columns[1], type="text"), t.columns[2])),))
    text = sql_of(d, a)
    assert text.index('drop policy if exists "Users see own"') < text.index('alter column "user_id" type uuid') \
        < text.index('create policy "Users see own"')


def test_column_alterations():
    t = table()
    col = m.Column("n", "bigint", nullable=False, identity="always")
    d = m.Schema(tables=(replace(t, columns=t.columns + (col,)),))
    a = m.Schema(tables=(replace(t, columns=t.columns + (replace(col, nullable=True, identity=None,
                                                                  default="0"),)),))
    text = sql_of(d, a)
    assert [x for x in lines(text) if '"n"' in x] == [
        'alter table "public"."user plans" alter column "n" drop default;',
        'alter table "public"."user plans" alter column "n" set not null;',
        'alter table "public"."user plans" alter column "n" add generated always as identity;',
    ]


def test_a_disabled_trigger_is_enabled_not_recreated():
    t = table()
    d = m.Schema(tables=(t,))
    a = m.Schema(tables=(replace(t, triggers=(replace(t.triggers[0], enabled=False),)),))
    assert lines(sql_of(d, a))[3:-1] == ['alter table "public"."user plans" enable trigger "touch";']


def test_grants_and_revokes():
    d = m.Schema(tables=(table(),), grants=(m.Grant("table", "public.user plans", ("select",), ("authenticated",)),
                                            m.Grant("function", "public.touch()", ("execute",), ("service_role",))),
                 functions=(fn(),))
    a = m.Schema(tables=(table(),), functions=(fn(),),
                 grants=(m.Grant("table", "public.user plans", ("insert", "select"), ("anon",)),
                         m.Grant("column", "public.user plans.id", ("update",), ("authenticated",)),
                         m.Grant("function", "public.touch()", ("execute",), ("public",))))
    text = sql_of(d, a)
    assert 'revoke insert, select on table "public"."user plans" from "anon";' in text
    assert 'revoke update ("id") on table "public"."user plans" from "authenticated";' in text
    assert 'revoke execute on function "public"."touch"() from public;' in text
    assert 'grant execute on function "public"."touch"() to "service_role";' in text
    assert 'grant select on table "public"."user plans" to "authenticated";' in text
    assert text.index("revoke insert") < text.index("grant select")


def test_grant_options_are_added_and_removed_alone():
    def g(role, privs, options=()):
        return m.Grant("table", "public.user plans", privs, (role,), grant_option=options)

    d = m.Schema(tables=(table(),), grants=(g("a", ("insert", "select"), ("select",)), g("b", ("select",)),
                                            g("c", ("select",), ("select",))))
    a = m.Schema(tables=(table(),), grants=(g("a", ("select",)), g("b", ("delete", "select"), ("delete", "select")),
                                            g("c", ("select",), ("select",))))
    body = lines(sql_of(d, a))[3:-1]
    assert body == [
        # b passed its options on? `cascade` takes what it granted with them too
        'revoke delete on table "public"."user plans" from "b" cascade;',
        'revoke grant option for select on table "public"."user plans" from "b" cascade;',
        'grant insert on table "public"."user plans" to "a";',
        'grant select on table "public"."user plans" to "a" with grant option;',
    ]


def test_function_recreate_rule():
    base = fn(arguments=(m.Argument("a", "integer", default="1"),))
    assert not function_needs_recreate(base, replace(base, body="x", security_definer=True))
    assert function_needs_recreate(base, replace(base, returns="void"))
    assert function_needs_recreate(base, replace(base, arguments=(m.Argument("b", "integer", default="1"),)))
    assert function_needs_recreate(base, replace(base, arguments=(m.Argument("a", "integer"),)))
    assert not function_needs_recreate(replace(base, arguments=(m.Argument("a", "integer"),)), base)


def test_a_recreated_function_brings_back_its_triggers_and_privileges():
    t = table()
    f = fn()
    d = m.Schema(tables=(t,), functions=(f,), grants=(m.Grant("function", "public.touch()", ("execute",),
                                                              ("service_role",)),))
    a = m.Schema(tables=(t,), functions=(replace(f, returns="void", migration=None),),
                 grants=(m.Grant("function", "public.touch()", ("execute",), ("service_role",)),))
    text = sql_of(d, a)
    order = [text.index(s) for s in ('drop trigger if exists "touch"', 'drop function "public"."touch"();',
                                     'create or replace function "public"."touch"()', 'create trigger "touch"',
                                     "revoke all on function", 'grant execute on function "public"."touch"() to '
                                                               '"service_role";')]
    assert order == sorted(order)


def test_same_changes_same_bytes():
    t = table()
    d = m.Schema(tables=(t,))
    a = m.Schema(tables=(replace(t, policies=(), indexes=(), rls_enabled=False),))
    assert sql_of(d, a) == sql_of(d, a)


def test_a_table_from_the_database_is_dropped_by_its_catalog_parts():
    keep = m.Table("we.ird", "keep", columns=(m.Column("id", "integer"),), migration="001")
    odd = m.Table("we.ird", "t", columns=(m.Column("id", "integer"),))
    changes = compare(m.Schema(tables=(keep,)), m.Schema(tables=(keep, odd)))
    text = plan(changes.changes + changes.unmanaged).sql()
    assert 'drop table "we.ird"."t";' in text


def test_serial_to_identity_is_one_statement_with_a_hazard_and_the_specs_sequence_grants():
    ident = m.Column("id", "bigint", nullable=False, identity="always")
    t = m.Table("public", "events", migration="001", columns=(ident,))
    desired = m.Schema(tables=(t,), grants=(m.Grant("sequence", "public.events_id_seq", ("usage", "select"),
                                                    ("service_role",)),))
    serial = replace(ident, identity=None, default="nextval('public.events_id_seq'::regclass)", migration=None)
    actual = m.Schema(tables=(replace(t, migration=None, columns=(serial,)),))
    text = plan(compare(desired, actual).changes, desired).sql()
    assert "-- hazard: makes public.events.id an identity column" in text
    assert text.count("drop default") == 1 and "add generated always as identity" in text  # inside the DO block
    assert text.index("do $do$\ndeclare\n    v_seq") < text.index("revoke all on sequence %s") \
        < text.index('grant select, usage on sequence "public"."events_id_seq" to "service_role";')


def test_serial_to_identity_keeps_the_old_sequence_only_when_the_spec_declares_that_one():
    ident = m.Column("id", "integer", nullable=False, identity="by default")
    t = m.Table("public", "events", migration="001", columns=(ident,))
    actual = m.Schema(tables=(replace(t, migration=None, columns=(
        replace(ident, identity=None, default="nextval('public.numbers'::regclass)", migration=None),)),))
    for declared, kept in (("public.numbers", True), ("public.other", False)):
        desired = m.Schema(tables=(t,), sequences=(m.Sequence("public", declared.split(".")[1], migration="001"),))
        text = plan([c for c in compare(desired, actual).changes if c.kind == "column"], desired).sql()
        assert ("pg_catalog.to_regclass('\"public\".\"numbers\"')" in text) is kept
        assert "pg_catalog.to_regclass('\"public\".\"other\"')" not in text
