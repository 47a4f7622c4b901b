"""The synthetic schema of the benchmarks that need a database (bench_diff.py, bench_inspect.py).

``synthetic_spec(n)``: n tables, each with 8 columns (identity pk, a foreign key to the previous
table, a check, a unique, defaults), 2 indexes (one partial), RLS with a policy, an updated_at
trigger, revoke/grant; plus n/10 SECURITY DEFINER functions with grants.
``create_database``: that spec rendered and applied to a new database of a cluster.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from jarvis_schemagen import api, pg  # noqa: E402


def synthetic_spec(n: int) -> str:
    out = [
        "version: 1",
        "migrations:",
        '  "001": create_tables',
        '  "002": create_functions',
        "roles:",
        "  anon: {assumed: true}",
        "  authenticated: {assumed: true}",
        "  service_role: {assumed: true, bypassrls: true}",
        "schemas:",
        "  public: {assumed: true}",
        "  auth: {assumed: true}",
        "functions:",
        "  auth.uid:",
        "    assumed: true",
        "    returns: uuid",
        "    language: sql",
        "    volatility: stable",
        "    body: select nullif(current_setting('request.jwt.claim.sub', true), '')::uuid",
        "  public.touch:",
        '    migration: "002"',
        "    returns: trigger",
        '    set: {search_path: ""}',
        "    body: |",
        "      begin new.updated_at := now(); return new; end;",
    ]
    for k in range(max(1, n // 10)):
        t = f"t{k * 10:05d}"
        out += [
            f"  public.count_{t}:",
            '    migration: "002"',
            "    arguments:",
            "      - {name: p_owner, type: uuid}",
            "      - {name: p_limit, type: integer, default: '100'}",
            "    returns: bigint",
            "    volatility: stable",
            "    security_definer: true",
            '    set: {search_path: ""}',
            "    body: |",
            "      begin",
            f"        return (select count(*) from public.{t} as x where x.owner_id = p_owner limit p_limit);",
            "      end;",
            "    grants:",
            "      - {revoke: [execute], from: [public, anon]}",
            "      - {grant: [execute], to: [authenticated]}",
        ]
    out.append("tables:")
    for i in range(n):
        t = f"t{i:05d}"
        out += [
            f"  public.{t}:",
            '    migration: "001"',
            f"    comment: Synthetic table {i}.",
            "    rls: true",
            "    columns:",
            "      id: {type: bigint, identity: always, primary_key: true}",
            "      owner_id: {type: uuid, nullable: false}",
            f"      parent_id: {{type: bigint, references: public.t{i - 1:05d}}}" if i else "      parent_id: bigint",
            "      name: {type: text, nullable: false, check: length(name) < 200}",
            "      code: {type: text, unique: true}",
            '      amount: {type: "numeric(12,2)", nullable: false, default: "0"}',
            "      created_at: {type: timestamptz, nullable: false, default: now()}",
            "      updated_at: {type: timestamptz, nullable: false, default: now()}",
            "    indexes:",
            f"      {t}_owner_created_idx: {{columns: [owner_id, created_at desc]}}",
            f"      {t}_parent_idx: {{columns: [parent_id], where: parent_id is not null}}",
            "    policies:",
            "      Owners read:",
            "        command: select",
            "        roles: [authenticated]",
            "        using: (select auth.uid()) = owner_id",
            "    triggers:",
            f"      {t}_touch:",
            '        migration: "002"',
            "        timing: before",
            "        events: [update]",
            "        function: public.touch",
            "    grants:",
            "      - {revoke: [all], from: [anon]}",
            "      - {grant: [select], to: [authenticated]}",
        ]
    return "\n".join(out) + "\n"


def schemagen_command() -> list[str]:
    """How the benchmarks run the CLI as a whole process: the installed script beside this Python,
    else ``python -m jarvis_schemagen``."""
    exe = Path(sys.executable).with_name("schemagen")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "jarvis_schemagen"]


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def create_database(cluster: pg.TempCluster, name: str, spec_path: Path):
    """Create database ``name`` holding the spec's assumed objects and migrations; returns (url, spec, seconds)."""
    spec = api.load_spec(spec_path)
    pg.create_database(cluster.url, name)
    url = cluster.url_for(name)
    t0 = time.perf_counter()
    with psycopg.connect(url) as conn:
        conn.execute(api.assumed_objects_sql(spec))
        for sql in api.render_migrations(spec).values():
            conn.execute(sql)
        conn.commit()
    return url, spec, time.perf_counter() - t0
