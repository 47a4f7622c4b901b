"""compare: model vs model, no database. Ownership rules (managed, assumed, unmanaged), field
detail, destructive flags, names, ACLs, and the carrying of spec flags onto a shadow model."""
from __future__ import annotations

from dataclasses import replace

import pytest

from jarvis_schemagen import model as m
from jarvis_schemagen.compare import (Change, annotate, compare, normalize_body, spec_schemas,
                                      type_change_loses_data)

USING = "(( SELECT auth.uid() AS uid) = user_id)"


def plans_table(**kw) -> m.Table:
    t = m.Table(
        schema="public", name="user_plans", migration="001", rls_enabled=True, comment="plans",
        columns=(m.Column("id", "uuid", nullable=False, default="gen_random_uuid()"),
                 m.Column("user_id", "uuid", nullable=False),
                 m.Column("plan_type", "text", nullable=False, default="'free'::text")),
        constraints=(m.Constraint("user_plans_pkey", "primary_key", columns=("id",)),
                     m.Constraint("user_plans_user_id_fkey", "foreign_key", columns=("user_id",),
                                  ref_table="auth.users", ref_columns=("id",), on_delete="cascade")),
        indexes=(m.Index("user_plans_user_idx", keys=(m.IndexKey("user_id"),)),),
        policies=(m.Policy("Users can view own plan", command="select", roles=("authenticated",), using=USING),),
        triggers=(m.Trigger("touch", function="public.touch", timing="before", events=("update",), migration="005"),),
    )
    return replace(t, **kw)


def conversations(**kw) -> m.Table:
    t = m.Table(schema="public", name="conversations", assumed=True, rls_enabled=True,
                columns=(m.Column("id", "uuid", nullable=False),
                         m.Column("cost_cents", "numeric(12,4)", migration="002", comment="cents")),
                policies=(m.Policy("own", roles=("authenticated",), using=USING),))
    return replace(t, **kw)


def touch(**kw) -> m.Function:
    return replace(m.Function("public", "touch", returns="trigger", body="\nbegin\n  return new;\nend;\n",
                              config=(("search_path", ""),), migration="005"), **kw)


def schema(tables=(), functions=(), grants=(), roles=(), **kw) -> m.Schema:
    return m.Schema(tables=tuple(tables), functions=tuple(functions), grants=tuple(grants), roles=tuple(roles), **kw)


def desired(**kw) -> m.Schema:
    base = dict(tables=[plans_table(), conversations()], functions=[touch()],
                roles=[m.Role("anon"), m.Role("service_role", bypassrls=True)])
    base.update(kw)
    return schema(**base)


def actual_from(d: m.Schema, **kw) -> m.Schema:
    """What introspection would give for ``d``: the same objects without ownership flags."""
    def strip(o):
        return replace(o, migration=None, assumed=False)

    tables = tuple(replace(strip(t), **{a: tuple(strip(o) for o in getattr(t, a)) for a in
                                        ("columns", "constraints", "indexes", "policies", "triggers")})
                   for t in d.tables)
    out = replace(d, tables=tables, functions=tuple(strip(f) for f in d.functions),
                  roles=tuple(replace(r, assumed=False) for r in d.roles))
    return replace(out, **kw)


def with_table(s: m.Schema, t: m.Table) -> m.Schema:
    return replace(s, tables=tuple(t if x.qualified_name == t.qualified_name else x for x in s.tables))


def kinds(changes) -> list[tuple[str, str, str]]:
    return [(c.kind, c.action, c.object) for c in changes]


# ---------------------------------------------------------------- equal models

def test_identical_models_have_no_changes():
    d = desired()
    result = compare(d, actual_from(d))
    assert result.changes == () and result.unmanaged == ()


# ---------------------------------------------------------------- managed table

def test_missing_and_extra_columns_on_a_managed_table():
    d = desired()
    t = plans_table()
    a = with_table(actual_from(d), replace(t, columns=t.columns[:2] + (m.Column("hack", "text"),)))
    changes = compare(d, a).changes
    assert kinds(changes) == [("column", "drop", "public.user_plans.hack"),
                              ("column", "add", "public.user_plans.plan_type")]
    drop = changes[0]
    assert drop.destructive and "drops column public.user_plans.hack" in drop.reason
    assert not changes[1].destructive


@pytest.mark.parametrize("field, value", [("type", "character varying(20)"), ("nullable", True),
                                          ("default", "'pro'::text"), ("identity", "always"),
                                          ("generated", "upper(x)")])
def test_each_column_property_is_named_in_detail(field, value):
    d = desired()
    t = plans_table()
    cols = t.columns[:2] + (replace(t.columns[2], **{field: value}),)
    change, = compare(d, with_table(actual_from(d), replace(t, columns=cols))).changes
    assert (change.kind, change.action, change.object, change.detail) == (
        "column", "alter", "public.user_plans.plan_type", (field,))
    assert getattr(change.before, field) == value and change.after == t.columns[2]


def test_type_changes_that_can_lose_data_are_destructive():
    d = desired()
    t = plans_table()
    narrowed = with_table(actual_from(d), replace(t, columns=t.columns[:2] + (replace(t.columns[2], type="jsonb"),)))
    change, = compare(d, narrowed).changes
    assert change.destructive and "from jsonb to text" in change.reason


@pytest.mark.parametrize("old, new, loses", [
    ("integer", "bigint", False), ("smallint", "integer", False), ("integer", "numeric", False),
    ("bigint", "integer", True), ("character varying(20)", "text", False),
    ("character varying(20)", "character varying(50)", False), ("character varying(50)", "character varying(20)", True),
    ("text", "character varying(20)", True), ("numeric(12,4)", "numeric(14,4)", False),
    ("numeric(12,4)", "numeric(12,2)", True), ("numeric(12,4)", "numeric", False), ("text", "uuid", True),
    ("timestamp without time zone", "timestamp with time zone", True),
])
def test_type_change_loses_data(old, new, loses):
    assert type_change_loses_data(old, new) is loses


@pytest.mark.parametrize("attr, kind, obj, changed", [
    ("constraints", "constraint", "constraint user_plans_user_id_fkey on public.user_plans",
     lambda o: replace(o, on_delete=None)),
    ("indexes", "index", "index user_plans_user_idx on public.user_plans",
     lambda o: replace(o, keys=(m.IndexKey("user_id", descending=True),))),
    ("policies", "policy", 'policy "Users can view own plan" on public.user_plans',
     lambda o: replace(o, using="true")),
    ("triggers", "trigger", "trigger touch on public.user_plans", lambda o: replace(o, enabled=False)),
])
def test_nested_objects_missing_extra_and_changed(attr, kind, obj, changed):
    d = desired()
    t = plans_table()
    item = getattr(t, attr)[-1]
    a = actual_from(d)
    missing = compare(d, with_table(a, replace(t, **{attr: getattr(t, attr)[:-1]}))).changes
    assert kinds(missing) == [(kind, "add", obj)]
    extra_item = replace(item, name="zz_extra")
    extra = compare(d, with_table(a, replace(t, **{attr: getattr(t, attr) + (extra_item,)}))).changes
    assert [(c.kind, c.action) for c in extra] == [(kind, "drop")] and not extra[0].destructive
    alt = compare(d, with_table(a, replace(t, **{attr: getattr(t, attr)[:-1] + (changed(item),)}))).changes
    assert kinds(alt) == [(kind, "alter", obj)] and alt[0].detail


def test_rls_flags_on_a_managed_table_must_match_exactly():
    d = desired()
    off = compare(d, with_table(actual_from(d), replace(plans_table(), rls_enabled=False))).changes
    assert kinds(off) == [("rls", "alter", "public.user_plans")] and off[0].detail == ("enabled",)
    forced = compare(d, with_table(actual_from(d), replace(plans_table(), rls_forced=True))).changes
    assert forced[0].detail == ("forced",) and forced[0].after.forced is False


def test_comments_of_managed_objects():
    d = desired()
    changes = compare(d, with_table(actual_from(d), replace(plans_table(), comment="other"))).changes
    assert kinds(changes) == [("comment", "alter", "table public.user_plans")]
    assert (changes[0].before, changes[0].after) == ("other", "plans")


# ---------------------------------------------------------------- assumed table

def test_extras_on_an_assumed_table_are_unmanaged_not_drift():
    d = desired()
    c = conversations()
    a = with_table(actual_from(d), replace(c, columns=c.columns + (m.Column("archived", "boolean"),),
                                           policies=c.policies + (m.Policy("open", using="true"),),
                                           rls_forced=True, comment="whatever"))
    result = compare(d, a)
    assert result.changes == ()
    assert kinds(result.unmanaged) == [("column", "drop", "public.conversations.archived"),
                                       ("policy", "drop", "policy open on public.conversations")]


def test_declared_objects_of_an_assumed_table_are_compared():
    d = desired()
    c = conversations()
    a = with_table(actual_from(d), replace(c, columns=(c.columns[0], replace(c.columns[1], type="numeric")),
                                           rls_enabled=False))
    result = compare(d, a)
    # RLS is assumed (an unmet assumption, never fixed); cost_cents is 002's (a fixable change)
    assert kinds(result.unmet) == [("rls", "alter", "public.conversations")]
    assert kinds(result.changes) == [("column", "alter", "public.conversations.cost_cents")]


def test_comment_of_a_column_added_by_a_migration_to_an_assumed_table_is_compared():
    d = desired()
    c = conversations()
    a = with_table(actual_from(d), replace(c, columns=(c.columns[0], replace(c.columns[1], comment=None))))
    assert kinds(compare(d, a).changes) == [("comment", "add", "column public.conversations.cost_cents")]


def test_extras_on_an_assumed_table_outside_managed_schemas_are_not_even_listed():
    users = m.Table(schema="auth", name="users", assumed=True, columns=(m.Column("id", "uuid", nullable=False),))
    d = desired(tables=[plans_table(), conversations(), users])
    a = with_table(actual_from(d), replace(users, columns=users.columns + (m.Column("phone", "text"),)))
    result = compare(d, a)
    assert result.changes == () and result.unmanaged == ()


# ---------------------------------------------------------------- functions

def test_function_body_ignores_trailing_whitespace_and_the_line_break_render_adds_only():
    d = desired()
    trailing = replace(touch(), body="\nbegin   \n  return new;\t\nend;\n\n\n", migration=None)
    assert compare(d, replace(actual_from(d), functions=(trailing,))).changes == ()
    # created on one line after `as $$` (render writes a line break there): the same body
    one_line = replace(touch(), body="begin\n  return new;\nend;", migration=None)
    assert compare(d, replace(actual_from(d), functions=(one_line,))).changes == ()
    for body in (" begin\n  return new;\nend;\n",  # a leading space
                 "\n\nbegin\n  return new;\nend;\n",  # a blank line more
                 "\nbegin\n    return new;\nend;\n",  # indentation inside
                 "\nbegin\n\n  return new;\nend;\n"):  # a blank line inside
        change, = compare(d, replace(actual_from(d), functions=(replace(touch(), body=body, migration=None),))).changes
        assert change.detail == ("body",) and change.object == "public.touch()", repr(body)
    assert normalize_body("a  \r\nb\t\n\n") == "a\nb"
    assert normalize_body("\n a \n") == normalize_body(" a") == " a" != normalize_body("\n\n a")


def test_two_spec_bodies_that_render_differently_never_compare_equal():
    """normalize_body ignores exactly what sql.function_body adds: nothing a spec can say is hidden."""
    from jarvis_schemagen.sql import function_body

    bodies = ["select 1", "select 1\n", " select 1", "\nselect 1", "\n\nselect 1", "select  1", "\n select 1",
              "select\n1", "select\n\n1", "\tselect 1", "begin\n  null;\nend;"]
    def stored(body: str) -> str:  # what the database holds, trailing blanks aside (ignored since ever)
        return "\n".join(line.rstrip() for line in function_body(body).splitlines())

    for a in bodies:
        assert normalize_body(function_body(a)) == normalize_body(a)  # a one-line body matches its render
        for b in bodies:
            if stored(a) != stored(b):
                assert normalize_body(function_body(a)) != normalize_body(function_body(b)), (a, b)
    # render makes one of "select 1", "select 1\n", "\nselect 1" and one of " select 1", "\n select 1"
    assert len({stored(b) for b in bodies}) == len(bodies) - 3


@pytest.mark.parametrize("field, value", [("security_definer", True), ("config", ()), ("volatility", "stable"),
                                          ("language", "sql"), ("strict", True), ("returns", "void")])
def test_function_fields(field, value):
    d = desired()
    change, = compare(d, replace(actual_from(d), functions=(replace(touch(), **{field: value}),))).changes
    assert change.detail == (field,)


def test_assumed_function_is_checked_for_existence_and_return_type_only():
    uid = m.Function("auth", "uid", returns="uuid", language="sql", body="select 1", assumed=True)
    d = desired(functions=[touch(), uid])
    other_body = replace(uid, body="select 2", volatility="stable", assumed=False)
    assert compare(d, replace(actual_from(d), functions=(touch(), other_body))).changes == ()
    wrong = replace(uid, returns="text", assumed=False)
    assert kinds(compare(d, replace(actual_from(d), functions=(touch(), wrong))).unmet) == [
        ("function", "alter", "auth.uid()")]
    missing = compare(d, replace(actual_from(d), functions=(touch(),)))
    assert kinds(missing.unmet) == [("function", "add", "auth.uid()")] and missing.changes == ()


def test_function_signatures_name_argument_types():
    f = replace(touch(), name="check_conversation_limit", returns="jsonb",
                arguments=(m.Argument("p_user_id", "uuid"),))
    d = desired(functions=[f])
    change, = compare(d, replace(actual_from(d), functions=())).changes
    assert change.object == "public.check_conversation_limit(uuid)"


def test_unmanaged_functions_and_tables_only_in_managed_schemas():
    d = desired()
    a = actual_from(d)
    a = replace(a, tables=a.tables + (m.Table("public", "legacy"), m.Table("analytics", "events")),
                functions=a.functions + (m.Function("public", "helper", arguments=(m.Argument("x", "integer"),)),
                                         m.Function("analytics", "f")))
    result = compare(d, a)
    assert result.changes == ()
    assert kinds(result.unmanaged) == [("function", "drop", "public.helper(integer)"),
                                       ("table", "drop", "public.legacy")]
    assert result.unmanaged[1].destructive


# ---------------------------------------------------------------- grants

def grant(on, obj, role, *privs) -> m.Grant:
    return m.Grant(on=on, object=obj, privileges=tuple(sorted(privs)), roles=(role,))


def test_acl_of_managed_tables_and_functions_is_compared_fully():
    d = desired(grants=[grant("table", "public.user_plans", "authenticated", "select"),
                        grant("function", "public.touch()", "service_role", "execute")])
    a = replace(actual_from(d), grants=(grant("table", "public.user_plans", "anon", "insert", "select"),
                                        grant("table", "public.user_plans", "authenticated", "select", "update"),
                                        grant("function", "public.touch()", "public", "execute")))
    changes = compare(d, a).changes
    assert kinds(changes) == [
        ("grant", "drop", "privileges on function public.touch() to public"),
        ("grant", "add", "privileges on function public.touch() to service_role"),
        ("grant", "drop", "privileges on table public.user_plans to anon"),
        ("grant", "alter", "privileges on table public.user_plans to authenticated"),
    ]
    alter = next(c for c in changes if c.action == "alter")
    assert alter.before.privileges == ("select", "update") and alter.after.privileges == ("select",)


def test_a_grant_option_is_part_of_the_acl():
    d = desired(grants=[grant("table", "public.user_plans", "authenticated", "select")])
    opt = replace(grant("table", "public.user_plans", "authenticated", "select"), grant_option=("select",))
    (c,) = compare(d, replace(actual_from(d), grants=(opt,))).changes
    assert (c.kind, c.action, c.detail) == ("grant", "alter", ("privileges", "grant_option"))
    assert (c.before.grant_option, c.after.grant_option) == (("select",), ())
    assert compare(replace(d, grants=(opt,)), replace(actual_from(d), grants=(opt,))).changes == ()


def test_acl_of_an_assumed_table_is_compared_for_roles_the_spec_mentions_only():
    spec_grants = [m.Grant(on="table", object="public.conversations", privileges=("all",), roles=("anon",),
                           action="revoke", assumed=True)]
    d = desired(grants=[])
    spec = replace(d, grants=tuple(spec_grants))
    a = replace(actual_from(d), grants=(grant("table", "public.conversations", "authenticated", "select"),
                                        grant("table", "public.conversations", "anon", "select")))
    result = compare(d, a, spec=spec)
    assert kinds(result.unmet) == [("grant", "drop", "privileges on table public.conversations to anon")]
    assert result.changes == ()


def test_a_migrations_grant_on_an_assumed_table_is_the_specs_to_fix():
    spec_grants = [m.Grant(on="table", object="public.conversations", privileges=("all",), roles=("anon",),
                           action="revoke", migration="002")]
    d = desired(grants=[])
    spec = replace(d, grants=tuple(spec_grants))
    a = replace(actual_from(d), grants=(grant("table", "public.conversations", "anon", "select"),))
    result = compare(d, a, spec=spec)
    assert kinds(result.changes) == [("grant", "drop", "privileges on table public.conversations to anon")]
    assert result.unmet == ()


# ---------------------------------------------------------------- roles, schemas, extensions, owners

def test_roles_bypassrls_and_membership():
    d = desired(roles=[m.Role("anon"), m.Role("service_role", bypassrls=True),
                       m.Role("authenticator", member_of=("anon",))])
    a = replace(actual_from(d), roles=(m.Role("anon", bypassrls=True), m.Role("authenticator", login=True),
                                       m.Role("postgres", login=True, bypassrls=True)))
    result = compare(d, a)
    assert result.changes == ()  # roles are the platform's: never fixed, reported as unmet assumptions
    assert [(c.kind, c.action, c.object, c.detail) for c in result.unmet] == [
        ("role", "alter", "anon", ("bypassrls",)), ("role", "alter", "authenticator", ("member_of",)),
        ("role", "add", "service_role", ())]


def test_owner_that_is_an_api_role_is_drift_other_owners_are_not():
    d = desired()
    a = actual_from(d)
    owned = with_table(a, replace(a.table("public.user_plans"), owner="anon"))
    change, = compare(d, owned).changes
    assert (change.kind, change.object, change.before) == ("owner", "owner of table public.user_plans", "anon")
    other = with_table(a, replace(a.table("public.user_plans"), owner="deployer"))
    assert compare(d, other).changes == ()


def test_extensions_declared_and_unmanaged():
    d = desired(extensions=(m.Extension("pg_trgm", schema="extensions", migration="001"),))
    a = replace(actual_from(d), extensions=(m.Extension("pg_trgm", schema="public"),
                                            m.Extension("citext", schema="public"),
                                            m.Extension("plpgsql", schema="pg_catalog")))
    result = compare(d, a)
    assert kinds(result.changes) == [("extension", "alter", "pg_trgm")]
    assert kinds(result.unmanaged) == [("extension", "drop", "citext")]


def test_unmodelled_objects_in_managed_schemas_are_unmanaged():
    d = desired()
    result = compare(d, actual_from(d), unmodelled=[("view", "public", "v"), ("sequence", "public", "s"),
                                                    ("view", "auth", "hidden")])
    assert kinds(result.unmanaged) == [("sequence", "drop", "public.s"), ("view", "drop", "public.v")]


# ---------------------------------------------------------------- annotate, names, scope

def test_annotate_carries_the_spec_flags_onto_the_shadow_model():
    spec = desired()
    shadow = actual_from(spec, roles=(m.Role("postgres", login=True),))
    shadow = replace(shadow, extensions=(m.Extension("plpgsql", schema="pg_catalog"),))
    annotated = annotate(shadow, spec)
    t = annotated.table("public.user_plans")
    assert t.migration == "001" and t.triggers[0].migration == "005"
    c = annotated.table("public.conversations")
    assert c.assumed and c.columns[1].migration == "002"
    assert annotated.functions[0].migration == "005"
    assert annotated.roles == spec.roles and annotated.extensions == ()
    # through annotate, a shadow model compares like the spec's own
    assert compare(shadow, actual_from(spec), spec=spec).changes == ()


def test_object_names():
    d = desired()
    t = plans_table()
    a = with_table(actual_from(d), replace(t, policies=(), columns=t.columns[:2]))
    names = {c.object for c in compare(d, a).changes}
    assert names == {'policy "Users can view own plan" on public.user_plans', "public.user_plans.plan_type"}


def test_changes_are_sorted_and_grouped_by_object():
    d = desired()
    t = plans_table()
    a = with_table(actual_from(d), replace(t, rls_enabled=False, policies=(), columns=t.columns[:2]))
    a = replace(a, functions=())
    changes = compare(d, a).changes
    assert [c.group for c in changes] == sorted(c.group for c in changes)
    assert isinstance(changes[0], Change)


def test_spec_schemas_include_referenced_ones():
    d = desired(extensions=(m.Extension("pg_trgm", schema="extensions"),))
    assert spec_schemas(d) == ["auth", "extensions", "public"]


def test_identity_sequences_are_compared_with_their_table():
    d = desired(grants=[grant("sequence", "public.user_plans_n_seq", "service_role", "usage")])
    a = replace(actual_from(d), grants=(grant("sequence", "public.user_plans_n_seq", "anon", "update"),
                                        grant("sequence", "public.user_plans_n_seq", "service_role", "usage"),
                                        grant("sequence", "public.other_seq", "anon", "usage")))
    changes = compare(d, a, sequences={"public.user_plans_n_seq": "public.user_plans"}).changes
    assert kinds(changes) == [("grant", "drop", "privileges on sequence public.user_plans_n_seq to anon")]
    assert changes[0].group == "public.user_plans_n_seq"
    assert compare(d, a).changes == ()  # without the ownership, a sequence is not the table's


# ---------------------------------------------------------------- assumed: only what the spec declares

def _auth_users(id_col: m.Column, **kw) -> m.Table:
    return replace(m.Table(schema="auth", name="users", assumed=True, columns=(id_col,),
                           constraints=(m.Constraint("users_pkey", "primary_key", columns=("id",), assumed=True),)),
                   **kw)


@pytest.mark.parametrize("field,value", [("default", "gen_random_uuid()"), ("nullable", True),
                                         ("identity", "by default"), ("comment", "Auth: Stores user login data")])
def test_undeclared_attributes_of_an_assumed_column_are_not_compared(field, value):
    declared = m.Column("id", "uuid", nullable=False, assumed=True, declared=("type",))
    d = schema([_auth_users(declared)])
    a = schema([_auth_users(replace(declared, assumed=False, declared=None, **{field: value}))])
    assert compare(d, a).changes == ()


def test_declared_attributes_and_the_type_of_an_assumed_column_are_compared():
    declared = m.Column("id", "uuid", nullable=False, default="gen_random_uuid()", assumed=True,
                        declared=("type", "default"))
    d = schema([_auth_users(declared)])
    changed = compare(d, schema([_auth_users(replace(declared, default=None, nullable=True))])).unmet
    assert [(c.object, c.detail) for c in changed] == [("auth.users.id", ("default",))]
    changed = compare(d, schema([_auth_users(replace(declared, type="text"))])).unmet
    assert [(c.object, c.detail) for c in changed] == [("auth.users.id", ("type",))]


def test_a_column_built_without_a_spec_compares_everything():
    col = m.Column("id", "uuid", nullable=False, assumed=True)  # declared None
    d = schema([_auth_users(col)])
    assert [c.detail for c in compare(d, schema([_auth_users(replace(col, default="x()"))])).unmet] == \
        [("default",)]


FK = m.Constraint("conversations_user_id_fkey", "foreign_key", columns=("user_id",), ref_table="auth.users",
                  ref_columns=("id",), on_delete="no action", assumed=True, declared=())


def _conv_with(*constraints) -> m.Table:
    return m.Table(schema="public", name="conversations", assumed=True,
                   columns=(m.Column("user_id", "uuid", assumed=True, declared=("type",)),),
                   constraints=tuple(constraints))


def test_an_assumed_foreign_key_under_the_apps_own_name_and_actions_is_found_by_shape():
    d = schema([_conv_with(FK)])
    a = schema([_conv_with(replace(FK, name="conversations_owner_fk", on_delete="cascade", assumed=False,
                                   declared=None))])
    result = compare(d, a)
    assert result.changes == () and result.unmanaged == ()


def test_an_assumed_foreign_key_is_compared_on_the_actions_the_spec_declares():
    d = schema([_conv_with(replace(FK, on_delete="cascade", declared=("on_delete",)))])
    a = schema([_conv_with(replace(FK, name="conversations_owner_fk", on_delete="set null"))])
    assert [(c.kind, c.action, c.detail) for c in compare(d, a).unmet] == [("constraint", "alter", ("on_delete",))]


def test_an_assumed_foreign_key_to_another_table_is_missing():
    d = schema([_conv_with(FK)])
    a = schema([_conv_with(replace(FK, name="conversations_owner_fk", ref_table="public.profiles"))])
    result = compare(d, a)
    assert kinds(result.unmet) == [("constraint", "add", "constraint conversations_user_id_fkey on public.conversations")]


def test_annotate_carries_what_the_spec_declared():
    spec = schema([_auth_users(m.Column("id", "uuid", nullable=False, assumed=True, declared=("type",)))])
    shadow = schema([_auth_users(m.Column("id", "uuid", nullable=False))])
    assert annotate(shadow, spec).tables[0].columns[0].declared == ("type",)
