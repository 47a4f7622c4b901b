"""access.judge and Condition without a database: how a changed cell is classified."""
from __future__ import annotations

import pytest

from jarvis_schemagen import model as m
from jarvis_schemagen.access import Cell, Condition, format_text, judge, matrix, spec_acl

OWN = "(uid() = user_id)"


def rows(permissive=(OWN,), restrictive=(), columns=None, grant_option=False):
    return Cell("rows", "", columns, Condition(tuple(permissive), tuple(restrictive)), grant_option=grant_option)


@pytest.mark.parametrize("before, after, verdict", [
    (Cell("denied", ""), rows(), "widened"),
    (rows(), Cell("all", ""), "widened"),
    (rows(), rows(permissive=(OWN, "shared")), "widened"),
    (rows(), rows(restrictive=("recent",)), "narrowed"),
    (rows(restrictive=("recent",)), rows(), "widened"),
    (rows(), rows(permissive=("shared",)), "changed"),
    (rows(columns=("id",)), rows(), "widened"),
    (Cell("all", "", ("id", "a")), rows(columns=("id", "a", "b")), "changed"),
    (Cell("all", ""), Cell("denied", ""), "narrowed"),
    (rows(), rows(), None),
    (Cell("denied", "no select privilege"), Cell("denied", "row level security: no policy"), None),
    (rows(), rows(grant_option=True), "widened"),
    (Cell("all", "", grant_option=True), Cell("all", ""), "narrowed"),
    (Cell("all", ""), rows(grant_option=True), "changed"),
    (Cell("denied", ""), Cell("all", "", grant_option=True), "widened"),
])
def test_judge(before, after, verdict):
    assert judge(before, after) == verdict


def test_condition_text_combines_like_postgresql():
    assert Condition(("a = 1", "(b)"), ("c",)).text == "((a = 1) OR (b)) AND (c)"
    assert Condition((), ()).text == "false"
    assert Condition(("(x) OR (y)",), ()).text == "((x) OR (y))"


def test_offline_acls_follow_defaults_grants_and_revokes_in_order():
    f = m.Function("public", "f", security_definer=True, migration="001")
    t = m.Table("public", "t", migration="001", rls_enabled=True)
    spec = m.Schema(
        migrations=(m.Migration("001", "x"),), namespaces=(m.Namespace("public", assumed=True),),
        tables=(t,), functions=(f,),
        default_privileges=(m.DefaultPrivilege("public", "tables", ("all",), ("anon",)),),
        grants=(m.Grant("function", "public.f()", ("execute",), ("public",), action="revoke", migration="001"),
                m.Grant("table", "public.t", ("all",), ("anon",), action="revoke", migration="001"),
                m.Grant("table", "public.t", ("select",), ("anon",), migration="001")))
    acl = {(g.on, g.object, g.roles[0]): g.privileges for g in spec_acl(spec).grants}
    assert acl == {("schema", "public", "public"): ("usage",), ("table", "public.t", "anon"): ("select",)}
    mx = matrix(spec_acl(spec), ("anon",))
    assert mx.function("public.f()").execute == ()
    assert mx.table("public.t").cell("anon", "select").access == "denied"  # RLS on, no policy
    assert mx.table("public.t").cell("anon", "truncate").access == "denied"


def test_offline_acls_and_the_matrix_mark_grant_options():
    f = m.Function("public", "f", migration="001")
    t = m.Table("public", "t", migration="001", columns=(m.Column("c", "text"),))
    spec = m.Schema(
        migrations=(m.Migration("001", "x"),), namespaces=(m.Namespace("public", assumed=True),),
        tables=(t,), functions=(f,), roles=(m.Role("member", member_of=("holder",)),),
        grants=(m.Grant("table", "public.t", ("all",), ("holder",), migration="001", grant_option=("all",)),
                m.Grant("table", "public.t", ("delete",), ("holder",), action="revoke", migration="001"),
                m.Grant("column", "public.t.c", ("update",), ("anon",), migration="001", grant_option=("update",)),
                m.Grant("function", "public.f()", ("execute",), ("anon",), migration="001",
                        grant_option=("execute",))))
    acl = {(g.on, g.object, g.roles[0]): g.grant_option for g in spec_acl(spec).grants}
    assert acl[("table", "public.t", "holder")] == ("insert", "references", "select", "trigger", "truncate", "update")
    mx = matrix(spec_acl(spec), ("anon", "holder", "member"))
    cells = mx.table("public.t")
    assert cells.cell("member", "select").grant_option  # through membership
    assert not cells.cell("holder", "delete").grant_option  # a revoke takes the option
    assert cells.cell("anon", "update").grant_option and not cells.cell("anon", "select").grant_option
    assert mx.function("public.f()").grant_option == ("anon",)
    assert "ALL*" in format_text(mx) and "x*" in format_text(mx)
    assert "*  with grant option" in format_text(mx)


def test_column_privileges_on_a_view_give_access_to_those_columns():
    v = m.View("public", "names", "select id, name, secret from public.people", security_invoker=True, migration="001")
    spec = m.Schema(
        migrations=(m.Migration("001", "x"),), namespaces=(m.Namespace("public", assumed=True),), views=(v,),
        grants=(m.Grant("table", "public.names", ("all",), ("public", "anon"), action="revoke", migration="001"),
                m.Grant("column", "public.names.id", ("select",), ("anon",), migration="001"),
                m.Grant("column", "public.names.name", ("select",), ("anon",), migration="001")))
    mx = matrix(spec_acl(spec), ("anon", "authenticated"))
    cell = mx.table("public.names").cell("anon", "select")
    assert (cell.access, cell.columns) == ("rows", ("id", "name"))
    assert mx.table("public.names").cell("anon", "update").access == "denied"
    assert mx.table("public.names").cell("authenticated", "select").access == "denied"
