"""`schemagen lint`: Supabase's database linter (splinter) rules, on the spec before the deploy.

Each rule carries splinter's number and name where splinter has it (``0013
rls_disabled_in_public``), else ours (``SG01``...). Rules that need privileges use the spec's
effective ACLs (``access.spec_acl``: the server's defaults, the platform's default privileges,
then the spec's grants and revokes), so "a SECURITY DEFINER function anon may call" is found
without a database. The same rules run on a live database's model.

Objects in the platform's schemas (``auth``, ``storage``, ``realtime``, ...) are not linted:
they are Supabase's. A finding on an object whose spec says
``lint_ignore: {<rule name or number>: <reason>}`` is suppressed (listed as such in JSON).
Severity: error (exit 1), warning (exit 1 with ``lint``; ``validate`` only prints it), info.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from . import access
from . import model as m
from .printable import json_text

#: Supabase's own schemas (splinter skips them too): never linted.
PLATFORM_SCHEMAS = frozenset({
    "auth", "storage", "realtime", "extensions", "graphql", "graphql_public", "vault", "pgsodium",
    "pgsodium_masks", "supabase_functions", "supabase_migrations", "cron", "net", "pgbouncer", "pgtle",
    "information_schema", "pg_catalog"})
#: Schemas PostgREST exposes by default.
EXPOSED_SCHEMAS = frozenset({"public", "graphql_public"})
LEVELS = ("error", "warning", "info")
SPLINTER_URL = "https://supabase.com/docs/guides/database/database-linter?lint={code}_{name}"


@dataclass(frozen=True)
class Rule:
    code: str  # "0013" (splinter's number) or "SG01" (ours)
    name: str
    level: str
    summary: str

    @property
    def url(self) -> str | None:
        """splinter's page for its rules; ours are described in the README."""
        return SPLINTER_URL.format(code=self.code, name=self.name) if self.code[0].isdigit() else None


@dataclass(frozen=True)
class Finding:
    rule: Rule
    object: str  # "table public.t", "function public.f(uuid)", "extension pg_trgm"
    message: str
    pos: m.Pos | None = None
    suppressed: str | None = None  # the reason given in the spec

    def data(self) -> dict:
        return {"code": self.rule.code, "rule": self.rule.name, "level": self.rule.level, "object": self.object,
                "message": self.message, "file": self.pos.file if self.pos else None,
                "line": self.pos.line if self.pos else None, "col": self.pos.col if self.pos else None,
                **({"suppressed": self.suppressed} if self.suppressed is not None else {})}


RULES: dict[str, Rule] = {r.name: r for r in (
    Rule("0001", "unindexed_foreign_keys", "info", "a foreign key without an index starting with its columns"),
    Rule("0002", "auth_users_exposed", "error", "a view in an exposed schema reads auth.users"),
    Rule("0003", "auth_rls_initplan", "warning",
         "a policy calls auth.<function>() per row; write (select auth.<function>())"),
    Rule("0004", "no_primary_key", "info", "a table without a primary key"),
    Rule("0006", "multiple_permissive_policies", "warning",
         "several permissive policies for one role and command (each runs for every row)"),
    Rule("0007", "policy_exists_rls_disabled", "error", "policies on a table whose row level security is off"),
    Rule("0008", "rls_enabled_no_policy", "info", "row level security on, but no policy: nobody sees a row"),
    Rule("0009", "duplicate_index", "warning", "two indexes with the same definition"),
    Rule("0010", "security_definer_view", "error",
         "a view in an exposed schema without security_invoker: it reads as its owner, bypassing RLS"),
    Rule("0011", "function_search_path_mutable", "warning", "a function without a pinned search_path"),
    Rule("0013", "rls_disabled_in_public", "error", "a table in an exposed schema without row level security"),
    Rule("0014", "extension_in_public", "warning", "an extension installed in schema public"),
    Rule("0015", "rls_references_user_metadata", "error",
         "a policy reads user_metadata from the JWT, which every user may edit"),
    Rule("0024", "rls_policy_always_true", "warning",
         "a permissive policy for anon/authenticated that lets every row be written (using/with check true)"),
    Rule("0028", "anon_security_definer_function_executable", "warning",
         "a SECURITY DEFINER function that anon (or PUBLIC) may execute"),
    Rule("SG01", "api_role_truncate_or_sequence", "warning",
         "TRUNCATE on a table, or USAGE/UPDATE on a sequence, left to anon/authenticated/PUBLIC: RLS does "
         "not cover them"),
    Rule("SG02", "definer_without_caller_check", "warning",
         "a SECURITY DEFINER function callable by users takes a user id but never compares it with auth.uid()"),
    Rule("SG03", "api_role_grant_option", "warning",
         "a privilege granted WITH GRANT OPTION to anon, authenticated or PUBLIC: they may pass it on to any "
         "other role"),
)}
RULE_KEYS = frozenset(RULES) | {r.code for r in RULES.values()}


# ---------------------------------------------------------------- the rules

@dataclass
class _Ctx:
    spec: m.Schema
    acl: m.Schema  # the same model with effective ACLs
    privileges: "access._Privileges"
    roles: tuple[str, ...]

    def tables(self) -> Iterator[m.Table]:
        return (t for t in self.spec.tables if t.schema not in PLATFORM_SCHEMAS)

    def own_tables(self) -> Iterator[m.Table]:
        """Tables the spec creates. Rules about what is *absent* (a key, an index, a policy, RLS) skip
        assumed tables: the spec declares only what it relies on there, the rest is the app's."""
        return (t for t in self.tables() if _managed(t))

    def functions(self) -> Iterator[m.Function]:
        return (f for f in self.spec.functions if f.schema not in PLATFORM_SCHEMAS)

    def views(self) -> Iterator:
        return (v for v in getattr(self.spec, "views", ()) if v.schema not in PLATFORM_SCHEMAS)


_CHECKS: list[Callable[[_Ctx], Iterable[tuple[str, str, str, object]]]] = []


def _check(fn):
    _CHECKS.append(fn)
    return fn


def _tbl(t: m.Table) -> str:
    return f"table {t.qualified_name}"


@_check
def _unindexed_foreign_keys(ctx: _Ctx):
    for t in ctx.own_tables():
        prefixes = [tuple(k.expression if k.is_column else None for k in i.keys) for i in t.indexes]
        prefixes += [c.columns for c in t.constraints if c.kind in ("primary_key", "unique")]
        for c in t.constraints:
            if c.kind != "foreign_key":
                continue
            n = len(c.columns)
            if not any(len(p) >= n and set(p[:n]) == set(c.columns) for p in prefixes):
                yield ("unindexed_foreign_keys", _tbl(t),
                       f"foreign key {c.name} on {t.qualified_name} ({', '.join(c.columns)}) has no index starting "
                       "with its columns: deletes in the referenced table scan this one", c)


_AUTH_USERS = re.compile(r'\bauth"?\s*\.\s*"?users\b', re.IGNORECASE)


@_check
def _views(ctx: _Ctx):
    for v in ctx.views():
        if v.schema not in EXPOSED_SCHEMAS:
            continue
        name = f"{v.schema}.{v.name}"
        kind = "materialized view" if getattr(v, "materialized", False) else "view"
        if _AUTH_USERS.search(v.query or ""):
            yield ("auth_users_exposed", f"{kind} {name}",
                   f"{kind} {name} in exposed schema {v.schema} reads auth.users: the API may show user data", v)
        if not getattr(v, "materialized", False) and not getattr(v, "security_invoker", False):
            yield ("security_definer_view", f"view {name}",
                   f"view {name} in exposed schema {v.schema} runs as its owner, bypassing the caller's RLS: "
                   "set security_invoker", v)


_AUTH_CALL = re.compile(r"\bauth\.(uid|jwt|role|email)\(\)", re.IGNORECASE)
_AUTH_WRAPPED = re.compile(r"select\s+auth\.(uid|jwt|role|email)\(\)", re.IGNORECASE)


@_check
def _auth_rls_initplan(ctx: _Ctx):
    for t in ctx.tables():
        if not t.rls_enabled:
            continue
        for p in t.policies:
            for expr in (p.using, p.with_check):
                if expr and len(_AUTH_CALL.findall(expr)) > len(_AUTH_WRAPPED.findall(expr)):
                    yield ("auth_rls_initplan", _tbl(t),
                           f"policy '{p.name}' on {t.qualified_name} calls auth.<function>() for every row: "
                           "write (select auth.<function>()) so it runs once per query", p)
                    break


_USER_METADATA = re.compile(r"(auth\.jwt\(\)|request\.jwt\.claims).*user_metadata", re.IGNORECASE | re.DOTALL)
_ALWAYS_TRUE = {"true", "(true)", "1=1", "(1=1)"}


def _always_true(expr: str | None) -> bool:
    return expr is not None and re.sub(r"\s+", "", expr.lower()) in _ALWAYS_TRUE


@_check
def _policies(ctx: _Ctx):
    for t in ctx.tables():
        for p in t.policies:
            if any(e and _USER_METADATA.search(e) for e in (p.using, p.with_check)):
                yield ("rls_references_user_metadata", _tbl(t),
                       f"policy '{p.name}' on {t.qualified_name} reads user_metadata from the JWT: every user can "
                       "set it (updateUser); use app_metadata or a table", p)
            if not (t.rls_enabled and p.permissive and {"public", "anon", "authenticated"} & set(p.roles)):
                continue
            using = p.command in ("update", "delete", "all") and (p.using is None or _always_true(p.using))
            check = _always_true(p.with_check) or (p.with_check is None and (
                p.command == "insert" or p.command in ("update", "all") and _always_true(p.using)))
            if using or check:
                yield ("rls_policy_always_true", _tbl(t),
                       f"policy '{p.name}' on {t.qualified_name} lets {', '.join(p.roles)} {p.command} every row "
                       f"({'using' if using else 'with check'} is always true): row level security does nothing "
                       "for it", p)


@_check
def _tables(ctx: _Ctx):
    api = [r for r in ctx.roles if not ctx.privileges.bypassrls(r)]
    for t in ctx.tables():
        own = _managed(t)
        if own and t.primary_key is None:
            yield ("no_primary_key", _tbl(t), f"table {t.qualified_name} has no primary key", t)
        if t.policies and not t.rls_enabled:
            yield ("policy_exists_rls_disabled", _tbl(t),
                   f"table {t.qualified_name} has policies but row level security is off: they do nothing", t)
        if own and t.rls_enabled and not t.policies:
            yield ("rls_enabled_no_policy", _tbl(t),
                   f"table {t.qualified_name} has row level security on and no policy: no API role sees a row", t)
        if own and t.schema in EXPOSED_SCHEMAS and not t.rls_enabled:
            yield ("rls_disabled_in_public", _tbl(t),
                   f"table {t.qualified_name} is in exposed schema {t.schema} without row level security: "
                   "anyone with the anon key may read and write it (given the platform's grants)", t)
        for role in api:
            for cmd in ("select", "insert", "update", "delete"):
                found = [p for p in t.policies if p.permissive and p.command in (cmd, "all")
                         and (role in p.roles or "public" in p.roles)]
                if len(found) > 1:
                    yield ("multiple_permissive_policies", _tbl(t),
                           f"table {t.qualified_name} has {len(found)} permissive {cmd} policies for {role} "
                           f"({', '.join(p.name for p in found)}): merge them", found[-1])
        seen: dict[tuple, str] = {}
        defs = [(c.name, (tuple(m.IndexKey(col) for col in c.columns), "btree", None, ()), c) for c in t.constraints
                if c.kind in ("primary_key", "unique")]
        defs += [(i.name, (i.keys, i.method, i.where, i.include), i) for i in t.indexes]
        for name, key, obj in defs:
            if key in seen:
                yield ("duplicate_index", _tbl(t),
                       f"index {name} on {t.qualified_name} duplicates {seen[key]}: drop one", obj)
            else:
                seen[key] = name


@_check
def _functions(ctx: _Ctx):
    for f in ctx.functions():
        if not any(k == "search_path" for k, _ in f.config):
            yield ("function_search_path_mutable", f"function {f.signature}",
                   f"function {f.signature} does not pin search_path: set it (e.g. to '') and qualify names", f)
        if not f.security_definer:
            continue
        callers = set(access.callers(ctx.privileges, f, ctx.roles))
        public = ctx.privileges.has("public", "function", f.signature, "execute")
        if public or "anon" in callers:
            who = "PUBLIC (so anon)" if public else "anon"
            yield ("anon_security_definer_function_executable", f"function {f.signature}",
                   f"SECURITY DEFINER function {f.signature} may be executed by {who}: revoke execute from "
                   "public and anon", f)
        users = callers & {"anon", "authenticated"} or ({"public"} if public else set())
        arg = next((a for a in f.arguments if a.type == "uuid" and a.name and _USER_ARG.search(a.name)), None)
        if users and arg is not None and not _checks_caller(ctx.spec, f, set()):
            yield ("definer_without_caller_check", f"function {f.signature}",
                   f"SECURITY DEFINER function {f.signature} may be called by {', '.join(sorted(users))} and acts "
                   f"for {arg.name}, but never compares it with auth.uid(): any user may act for any other", f)


_USER_ARG = re.compile(r"(^|_)(user_?id|uid)$")
_CALLER = re.compile(r"\bauth\.(uid|jwt)\(\)|request\.jwt", re.IGNORECASE)
_CALL = re.compile(r"\b([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)\s*\(", re.IGNORECASE)


def _checks_caller(spec: m.Schema, f: m.Function, seen: set[str]) -> bool:
    """The body reads the caller's identity, or calls a spec function that does (transitively)."""
    if _CALLER.search(f.body or ""):
        return True
    seen.add(f.qualified_name)
    for schema, name in _CALL.findall(f.body or ""):
        callee = spec.function(f"{schema}.{name}")
        if callee is not None and callee.qualified_name not in seen and _checks_caller(spec, callee, seen):
            return True
    return False


@_check
def _extensions(ctx: _Ctx):
    for e in ctx.spec.extensions:
        if e.schema in (None, "public") and not e.assumed:
            yield ("extension_in_public", f"extension {e.name}",
                   f"extension {e.name} is installed in schema {e.schema or 'public (the default)'}: "
                   "put it in schema extensions", e)


@_check
def _api_role_truncate_or_sequence(ctx: _Ctx):
    roles = ("anon", "authenticated", "public")
    seqs: dict[str, m.Table] = {}
    for t in ctx.own_tables():
        granted = [r for r in roles if "truncate" in ctx.privileges.acl.get(("table", t.qualified_name), {}).get(r, ())]
        if granted:
            yield ("api_role_truncate_or_sequence", _tbl(t),
                   f"{', '.join(granted)} may TRUNCATE {t.qualified_name}: row level security does not apply to "
                   "it; revoke truncate (or all, then grant what the API needs)", t)
        for c in t.columns:
            if c.identity:
                seqs[f"{t.schema}.{t.name}_{c.name}_seq"] = t
    for (on, obj), entry in sorted(ctx.privileges.acl.items()):
        if on != "sequence" or obj not in seqs:
            continue
        granted = [r for r in roles if entry.get(r, set()) & {"usage", "update"}]
        if granted:
            yield ("api_role_truncate_or_sequence", _tbl(seqs[obj]),
                   f"{', '.join(granted)} may use or set sequence {obj} (nextval/setval): a setval() breaks every "
                   "later insert; revoke it", seqs[obj])


_GRANT_OPTION_ROLES = ("anon", "authenticated", "public")


@_check
def _api_role_grant_option(ctx: _Ctx):
    """A grant option held by an API role, on anything (effective ACLs, so a live database's too; the
    platform's objects included: no platform grants its API roles an option)."""
    declared: dict[tuple[str, str, str], m.Grant] = {}  # (on, object, role) -> the spec's grant, for its line
    for g in ctx.spec.grants:
        if g.action == "grant" and g.grant_option:
            for role in g.roles:
                declared.setdefault((g.on, g.object, role), g)
    for g in ctx.acl.grants:
        if g.action != "grant" or not g.grant_option:
            continue
        for role in (r for r in g.roles if r in _GRANT_OPTION_ROLES):
            name, kind, src = _grant_target(ctx.spec, g.on, g.object)
            yield ("api_role_grant_option", name,
                   f"{role} holds {', '.join(g.grant_option)} on {kind} WITH GRANT OPTION: "
                   + ("every role" if role == "public" else f"the API's users act as {role} and")
                   + " could pass the privilege on to any other role; grant it without grant_option",
                   declared.get((g.on, g.object, role)) or src)


def _grant_target(spec: m.Schema, on: str, obj: str) -> tuple[str, str, object]:
    """What a finding on a grant is reported on (as ``lint_ignore`` finds it: the table, view, function,
    schema or sequence; an identity column's sequence, its table), what the grant is on (for the message), and the spec object
    (for the position when the grant itself has none)."""
    if on == "function":
        return f"function {obj}", f"function {obj}", next((f for f in spec.functions if f.signature == obj), None)
    if on == "schema":
        return f"schema {obj}", f"schema {obj}", next((n for n in spec.namespaces if n.name == obj), None)
    if on == "sequence":
        owner = next((t for t in spec.tables for c in t.columns
                      if c.identity and f"{t.schema}.{t.name}_{c.name}_seq" == obj), None)
        if owner is not None:
            return _tbl(owner), f"sequence {obj}", owner
        return f"sequence {obj}", f"sequence {obj}", next((s for s in spec.sequences if s.qualified_name == obj), None)
    relation, column = obj.rsplit(".", 1) if on == "column" else (obj, None)
    view = next((v for v in getattr(spec, "views", ()) if v.qualified_name == relation), None)
    kind = ("materialized view" if getattr(view, "materialized", False) else "view") if view is not None else "table"
    what = f"column {column} of {kind} {relation}" if column else f"{kind} {relation}"
    return f"{kind} {relation}", what, view if view is not None else spec.table(relation)


def _managed(obj) -> bool:
    return m.effective_migration(obj) != m.ASSUMED


# ---------------------------------------------------------------- running

def lint(spec: m.Schema, acl_model: m.Schema | None = None) -> list[Finding]:
    """Every finding on ``spec`` (suppressed ones marked), in rule and object order.

    ``acl_model``: the same objects with effective ACLs (default: ``access.spec_acl(spec)``;
    for a live database, its introspected model, which already has them).
    """
    acl_model = acl_model if acl_model is not None else access.spec_acl(spec)
    roles = access.default_roles(spec)
    acl_model = access.with_roles(acl_model, roles)
    ctx = _Ctx(spec, acl_model, access._Privileges(acl_model), roles)
    ignores = _ignores(spec)
    out = []
    for check in _CHECKS:
        for name, obj, message, src in check(ctx):
            rule = RULES[name]
            reasons = ignores.get(obj, {})
            reason = reasons.get(rule.name, reasons.get(rule.code))
            out.append(Finding(rule, obj, message, getattr(src, "pos", None), reason))
    order = {name: i for i, name in enumerate(RULES)}
    out.sort(key=lambda f: (order[f.rule.name], f.object, f.message))
    return out


def _ignores(spec: m.Schema) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for t in spec.tables:
        out[_tbl(t)] = dict(getattr(t, "lint_ignore", ()))
    for f in spec.functions:
        out[f"function {f.signature}"] = dict(getattr(f, "lint_ignore", ()))
    for e in spec.extensions:
        out[f"extension {e.name}"] = dict(getattr(e, "lint_ignore", ()))
    for n in spec.namespaces:
        out[f"schema {n.name}"] = dict(getattr(n, "lint_ignore", ()))
    for s in spec.sequences:
        out[f"sequence {s.qualified_name}"] = dict(getattr(s, "lint_ignore", ()))
    for v in getattr(spec, "views", ()):
        kind = "materialized view" if v.materialized else "view"
        out[f"{kind} {v.qualified_name}"] = dict(getattr(v, "lint_ignore", ()))
    return out


def active(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.suppressed is None]


def failing(findings: Iterable[Finding], fail_on: str = "warning") -> list[Finding]:
    """The unsuppressed findings at ``fail_on`` or more severe."""
    limit = LEVELS.index(fail_on)
    return [f for f in active(findings) if LEVELS.index(f.rule.level) <= limit]


# ---------------------------------------------------------------- formats

def format_line(f: Finding) -> str:
    where = f"{f.pos}: " if f.pos else ""
    return access.shown(f"{where}{f.rule.level} {f.rule.code} {f.rule.name}: {f.message}")


def format_text(findings: list[Finding], source: str = "") -> str:
    shown = active(findings)
    lines = [format_line(f) for f in shown]
    counts = {lv: sum(1 for f in shown if f.rule.level == lv) for lv in LEVELS}
    quiet = len(findings) - len(shown)
    summary = ", ".join(f"{n} {lv}{'s' if n != 1 and lv != 'info' else ''}" for lv, n in counts.items())
    lines.append(access.shown(f"{source + ': ' if source else ''}{summary}" + (f" ({quiet} suppressed)" if quiet else "")))
    return "\n".join(lines) + "\n"


def format_json(findings: list[Finding], source: str = "") -> str:
    return json_text({"version": 1, "source": source, "findings": [f.data() for f in findings]}, indent=2) + "\n"


_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def format_sarif(findings: list[Finding], source: str = "") -> str:
    """SARIF 2.1.0, as GitHub code scanning reads it (suppressed findings carry a suppression)."""
    from . import __version__

    rules = [{"id": r.code, "name": r.name, "shortDescription": {"text": r.summary},
              **({"helpUri": r.url} if r.url else {}),
              "defaultConfiguration": {"level": _SARIF_LEVEL[r.level]}} for r in RULES.values()]
    index = {r.code: i for i, r in enumerate(RULES.values())}
    results = []
    for f in findings:
        result: dict = {"ruleId": f.rule.code, "ruleIndex": index[f.rule.code], "level": _SARIF_LEVEL[f.rule.level],
                        "message": {"text": f.message}}
        if f.pos is not None:
            result["locations"] = [{"physicalLocation": {
                "artifactLocation": {"uri": f.pos.file},
                "region": {"startLine": f.pos.line, "startColumn": f.pos.col}}}]
        if f.suppressed is not None:
            result["suppressions"] = [{"kind": "inSource", "justification": f.suppressed}]
        results.append(result)
    doc = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "schemagen", "version": __version__, "rules": rules}},
        "results": results}]}
    return json_text(doc, indent=2) + "\n"


FORMATS = {"text": format_text, "json": format_json, "sarif": format_sarif}


def declared_like(model: m.Schema, spec: m.Schema | None) -> m.Schema:
    """An introspected model made lintable like a spec: objects the spec assumes stay assumed,
    everything else counts as created by the project; the roles are the spec's (or the API roles)."""
    from dataclasses import replace

    assumed_tables = {t.qualified_name for t in spec.tables if t.assumed} if spec else set()
    assumed_functions = {f.qualified_name for f in spec.functions if f.assumed} if spec else set()
    roles = spec.roles if spec is not None else tuple(r for r in model.roles if r.name in access.API_ROLES)
    return replace(
        model, roles=roles,
        tables=tuple(replace(t, assumed=t.qualified_name in assumed_tables, migration="database")
                     for t in model.tables),
        functions=tuple(replace(f, assumed=f.qualified_name in assumed_functions, migration="database")
                        for f in model.functions))
