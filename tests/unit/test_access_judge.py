"""access.judge and Condition without a database: how a changed cell is classified."""
from __future__ import annotations

import pytest

from jarvis_schemagen import model as m
from jarvis_schemagen.access import Cell, Condition, judge, matrix, spec_acl

OWN = "(uid() = user_id)"


def rows(permissive=(OWN,), restrictive=(), columns=None):
    return Cell("rows", "", columns, Condition(tuple(permissive), tuple(restrictive)))


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
