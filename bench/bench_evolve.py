"""Benchmark: the shadow database of a cold `schemagen diff` and of `schemagen render --name`.

    python bench/bench_evolve.py            # N = 1000 tables
    python bench/bench_evolve.py 100 1000

For each N, the synthetic spec of bench_diff.py is rendered and applied to a database on a
throwaway cluster. Measured in the same run, each the best of a few:

- the reference: a scratch apply (create an empty database, apply the assumed objects and the
  rendered files) plus ``pg_dump --schema-only`` of the result: what "build the spec's state and
  read it back" costs with PostgreSQL's own tools;
- ``schemagen diff`` with an empty cache (the CI case), as a subprocess, normalising the spec on
  the same server (``--shadow-db``) and on its default throwaway cluster;
- ``schemagen render --name`` of one change (a column added to one table) on the released
  1000-table project, empty cache, ``--shadow-db`` and default.

Targets (issue #7): the cold diff and render --name (``--shadow-db``) within 1.5x of the
reference. The stage times printed after the table say where the time goes.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import psycopg  # noqa: E402

from synthetic import best_of, schemagen_command, synthetic_spec  # noqa: E402
from jarvis_schemagen import api, pg  # noqa: E402
from jarvis_schemagen.diff import diff  # noqa: E402

TARGET = 1.5


def main(sizes: list[int]) -> int:
    ok = True
    work = Path(tempfile.mkdtemp(prefix="schemagen-bench-evolve-"))
    cli = schemagen_command()
    rows = []
    with pg.TempCluster() as cluster:
        pg_dump = str(cluster.bin_dir / "pg_dump")
        print(f"PostgreSQL {cluster.major_version} (throwaway cluster)")
        for n in sizes:
            project = work / f"p{n}"
            project.mkdir()
            spec_path = project / "schema.yaml"
            spec_path.write_text(synthetic_spec(n))
            spec = api.load_spec(spec_path)
            assumed = api.assumed_objects_sql(spec)
            files = api.render_migrations(spec)
            counter = iter(range(10**6))

            def scratch_apply() -> str:
                name = f"scratch_{n}_{next(counter)}"
                pg.create_database(cluster.url, name)
                with psycopg.connect(cluster.url_for(name)) as conn:
                    conn.execute(assumed)
                    for sql in files.values():
                        conn.execute(sql)
                    conn.commit()
                return name

            def scratch_apply_and_dump() -> None:
                name = scratch_apply()
                subprocess.run([pg_dump, "--schema-only", "-f", os.devnull, "-d", cluster.url_for(name)],
                               check=True, capture_output=True)

            t_apply = best_of(scratch_apply, 3)
            target_db = scratch_apply()
            url = cluster.url_for(target_db)
            t_dump = best_of(lambda: subprocess.run([pg_dump, "--schema-only", "-f", os.devnull, "-d", url],
                                                    check=True, capture_output=True), 3)
            t_ref = best_of(scratch_apply_and_dump, 3)

            def cold_diff(shadow: bool) -> None:
                cache = Path(tempfile.mkdtemp(dir=work))
                cmd = cli + ["diff", "--db", url, "--spec", str(spec_path)] + \
                    (["--shadow-db", cluster.url] if shadow else [])
                r = subprocess.run(cmd, env=dict(os.environ, SCHEMAGEN_CACHE_DIR=str(cache)), capture_output=True,
                                   text=True)
                if r.returncode != 0:
                    raise SystemExit(f"schemagen diff exited {r.returncode}:\n{r.stdout}{r.stderr}")

            t_cold = best_of(lambda: cold_diff(True), 3)
            t_cold_default = best_of(lambda: cold_diff(False), 2)
            stats = diff(url, spec_path, shadow_url=cluster.url, use_cache=False).stats

            # the released project, then one change
            api.render_to_dir(spec_path, project / "generated")
            api.release(spec_path, project / "generated")
            text = spec_path.read_text()
            # add a nullable column to the first table
            text = text.replace("      id: {type: bigint, identity: always, primary_key: true}\n",
                                "      id: {type: bigint, identity: always, primary_key: true}\n      note: text\n", 1)
            spec_path.write_text(text)

            def render_name(shadow: bool) -> None:
                cache = Path(tempfile.mkdtemp(dir=work))
                gen = project / "generated"
                for p in gen.glob("*_add_note.sql"):
                    p.unlink()
                lock = (gen / "schemagen.lock").read_text()
                cmd = cli + ["render", "--spec", str(spec_path), "--out", str(gen), "--name", "add_note"] + \
                    (["--shadow-db", cluster.url] if shadow else [])
                r = subprocess.run(cmd, env=dict(os.environ, SCHEMAGEN_CACHE_DIR=str(cache)), capture_output=True,
                                   text=True)
                (gen / "schemagen.lock").write_text("\n".join(x for x in lock.splitlines()
                                                              if not x.startswith("pending")) + "\n")
                if r.returncode != 0:
                    raise SystemExit(f"schemagen render --name exited {r.returncode}:\n{r.stdout}{r.stderr}")

            t_render = best_of(lambda: render_name(True), 3)
            t_render_default = best_of(lambda: render_name(False), 2)
            evo_stats: dict = {}
            from jarvis_schemagen.evolve import evolve

            released = [(p.name, p.read_text()) for p in sorted((project / "generated").glob("*.sql"))]
            evolve(api.load_spec(spec_path), spec_path, released, shadow_url=cluster.url, use_cache=False,
                   stats=evo_stats)
            rows.append((n, t_apply, t_dump, t_ref, t_cold, t_cold_default, t_render, t_render_default, stats,
                         evo_stats))
    print(f"{'tables':>6} {'apply':>7} {'pg_dump':>8} {'reference':>10} {'cold diff':>10} {'ratio':>6} "
          f"{'(default shadow)':>17} {'render --name':>14} {'ratio':>6} {'(default shadow)':>17}")
    for n, t_apply, t_dump, t_ref, t_cold, t_cold_d, t_render, t_render_d, stats, evo in rows:
        print(f"{n:>6} {t_apply:>6.2f}s {t_dump:>7.2f}s {t_ref:>9.2f}s {t_cold:>9.2f}s {t_cold / t_ref:>5.2f}x "
              f"{t_cold_d:>9.2f}s {t_cold_d / t_ref:>5.2f}x {t_render:>13.2f}s {t_render / t_ref:>5.2f}x "
              f"{t_render_d:>9.2f}s {t_render_d / t_ref:>5.2f}x")
        if n == 1000:
            met = t_cold <= TARGET * t_ref and t_render <= TARGET * t_ref
            ok &= met
            print(f"       target at 1000 tables (--shadow-db): within {TARGET}x of scratch apply + pg_dump -s: "
                  f"{'met' if met else 'MISSED'}")
    for n, *_, stats, evo in rows:
        print(f"{n:>6} tables, where the time goes: cold diff (in process): "
              + ", ".join(f"{k.replace('_seconds', '')} {v:.2f}s" for k, v in stats.items() if k.endswith("_seconds")))
        print(f"{'':>6}         render --name (in process): "
              + ", ".join(f"{k.replace('_seconds', '')} {v:.2f}s" for k, v in evo.items() if k.endswith("_seconds")))
    print(json.dumps({"rows": [r[:8] for r in rows]}))
    shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main([int(a) for a in sys.argv[1:]] or [1000]))
