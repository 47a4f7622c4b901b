"""Benchmark: `schemagen diff` and introspection against pg_dump --schema-only (and migra).

    python bench/bench_diff.py            # N = 100 and 1000 tables
    python bench/bench_diff.py 100 3000

For each N, a synthetic spec (every table: 8 columns with identity pk, a foreign key to the
previous table, a check, a unique, a default; 2 indexes, one partial; RLS with a policy; an
updated_at trigger; revoke/grant; plus N/10 SECURITY DEFINER functions with grants) is rendered
and applied to a database on a throwaway cluster (pg.TempCluster). Then, on that database:

- ``schemagen diff`` end to end, as a subprocess (Python start-up, spec load and render, cache
  key, one introspection of the target, compare, report), with a warm shadow cache;
  it must report no drift;
- introspection alone (connect + ``introspect.inspect``), in process;
- the reference, in the same run: ``pg_dump --schema-only`` of the same database (the
  server's own pg_dump), and ``migra`` comparing the database with a clone of itself when it
  is installed (``MIGRA=/path/to/migra`` or on PATH; it needs psycopg2).

Each figure is the best of several runs. Targets (issue #4): introspection of 1000 tables no
slower than pg_dump --schema-only; the whole diff with a warm cache under 2x pg_dump.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from jarvis_schemagen import pg  # noqa: E402
from jarvis_schemagen.compare import spec_schemas  # noqa: E402
from jarvis_schemagen.diff import diff  # noqa: E402
from jarvis_schemagen.introspect import inspect  # noqa: E402
from synthetic import best_of, create_database, schemagen_command, synthetic_spec  # noqa: E402


def find_migra() -> str | None:
    return os.environ.get("MIGRA") or shutil.which("migra")


def sqlalchemy_url(cluster: pg.TempCluster, db: str) -> str:
    return f"postgresql+psycopg2://postgres@/{db}?host={cluster.dir}&port={cluster.port}"


def main(sizes: list[int]) -> int:
    migra = find_migra()
    ok = True
    work = Path(tempfile.mkdtemp(prefix="schemagen-bench-"))
    cache = work / "cache"
    cli = schemagen_command()
    with pg.TempCluster() as cluster:
        pg_dump = str(cluster.bin_dir / "pg_dump")
        print(f"PostgreSQL {cluster.major_version} (throwaway cluster), pg_dump: {pg_dump}")
        print(f"migra: {migra or 'not installed (pip install migra psycopg2-binary; set MIGRA=path)'}")
        header = (f"{'tables':>6} {'diff warm':>10} {'diff cold':>10} {'introspect':>11} {'pg_dump -s':>11} "
                  f"{'introspect/dump':>16} {'diff/dump':>10} {'migra':>8}")
        rows = []
        for n in sizes:
            text = synthetic_spec(n)
            spec_path = work / f"spec_{n}.yaml"
            spec_path.write_text(text)
            db = f"bench_{n}"
            url, spec, setup = create_database(cluster, db, spec_path)
            # cold: shadow database on the same cluster, nothing cached
            t0 = time.perf_counter()
            cold_report = diff(url, spec_path, shadow_url=cluster.url, cache_dir=cache)
            cold = time.perf_counter() - t0
            assert not cold_report.drift, "the synthetic database drifted from its own spec"
            env = dict(os.environ, SCHEMAGEN_CACHE_DIR=str(cache))
            cmd = cli + ["diff", "--db", url, "--spec", str(spec_path), "--shadow-db", cluster.url]

            def run_cli():
                r = subprocess.run(cmd, env=env, capture_output=True, text=True)
                if r.returncode != 0:
                    raise SystemExit(f"schemagen diff exited {r.returncode}:\n{r.stdout}{r.stderr}")

            warm = best_of(run_cli, 3)
            schemas = spec_schemas(spec)

            def introspect_once():
                with psycopg.connect(url, autocommit=True) as conn:
                    inspect(conn, schemas)

            intro = best_of(introspect_once, 5)
            dump = best_of(lambda: subprocess.run([pg_dump, "--schema-only", "-f", os.devnull, "-d", url],
                                                  check=True, capture_output=True), 3)
            migra_t = None
            if migra:
                clone = f"bench_{n}_clone"
                pg.create_database(cluster.url, clone, template=db)
                a, b = sqlalchemy_url(cluster, db), sqlalchemy_url(cluster, clone)
                r = subprocess.run([migra, "--unsafe", "--with-privileges", a, b], capture_output=True, text=True)
                if r.returncode in (0, 2):
                    migra_t = best_of(lambda: subprocess.run([migra, "--unsafe", "--with-privileges", a, b],
                                                             capture_output=True), 2)
                else:
                    print(f"migra failed (exit {r.returncode}): {(r.stderr or r.stdout).strip().splitlines()[-1:]}")
            rows.append((n, warm, cold, intro, dump, migra_t, setup, cold_report.stats))
        print(header)
        for n, warm, cold, intro, dump, migra_t, setup, stats in rows:
            m_text = f"{migra_t:>7.2f}s" if migra_t is not None else f"{'n/a':>8}"
            print(f"{n:>6} {warm:>9.3f}s {cold:>9.3f}s {intro:>10.3f}s {dump:>10.3f}s {intro / dump:>15.2f}x "
                  f"{warm / dump:>9.2f}x {m_text}")
            if n == 1000:
                i_ok, d_ok = intro <= dump, warm < 2 * dump
                ok &= i_ok and d_ok
                print(f"       targets at 1000 tables: introspection <= pg_dump: {'met' if i_ok else 'MISSED'}; "
                      f"warm diff < 2x pg_dump: {'met' if d_ok else 'MISSED'}")
        for n, warm, cold, intro, dump, migra_t, setup, stats in rows:
            print(f"{n:>6} tables: applying the spec took {setup:.2f}s; cold diff stages: "
                  + ", ".join(f"{k.replace('_seconds', '')} {v:.3f}s" for k, v in stats.items()
                              if k.endswith("_seconds")))
    shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main([int(a) for a in sys.argv[1:]] or [100, 1000]))
