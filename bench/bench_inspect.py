"""Benchmark: `schemagen inspect` against pg_dump --schema-only of the same database.

    python bench/bench_inspect.py            # N = 100 and 1000 tables
    python bench/bench_inspect.py 1000 3000

For each N, the synthetic schema of bench/synthetic.py (the one bench_diff.py uses) is applied
to a database on a throwaway cluster. Then, on that database, in the same run:

- ``schemagen inspect --db URL --out FILE`` end to end, as a subprocess (Python start-up,
  catalog queries, building the spec, YAML);
- the stages in process: reading the catalog, building the spec, writing the YAML;
- the reference: ``pg_dump --schema-only`` of the same database (the server's own pg_dump).

The inspected spec must describe all N tables and nothing may be left out. Each figure is the
best of five runs, the two alternating. Target (issue #9): inspect of 1000 tables within 2x pg_dump --schema-only.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from synthetic import best_of, create_database, schemagen_command, synthetic_spec

from jarvis_schemagen import pg
from jarvis_schemagen.api import load_spec_text
from jarvis_schemagen.inspect_spec import build_spec, read_catalog, to_yaml


def main(sizes: list[int]) -> int:
    ok = True
    work = Path(tempfile.mkdtemp(prefix="schemagen-bench-"))
    cli = schemagen_command()
    rows = []
    with pg.TempCluster() as cluster:
        pg_dump = str(cluster.bin_dir / "pg_dump")
        print(f"PostgreSQL {cluster.major_version} (throwaway cluster), pg_dump: {pg_dump}")
        for n in sizes:
            spec_path = work / f"spec_{n}.yaml"
            spec_path.write_text(synthetic_spec(n))
            url, _, setup = create_database(cluster, f"bench_{n}", spec_path)
            out = work / f"inspected_{n}.yaml"
            cmd = cli + ["inspect", "--db", url, "--out", str(out), "--force"]

            def run_cli():
                r = subprocess.run(cmd, capture_output=True, text=True)
                if r.returncode != 0 or "cannot express" in r.stderr:
                    raise SystemExit(f"schemagen inspect exited {r.returncode}:\n{r.stderr}")

            # alternate the two, best of 5 each: on a shared machine load comes and goes
            whole, dump = float("inf"), float("inf")
            for _ in range(5):
                whole = min(whole, best_of(run_cli, 1))
                dump = min(dump, best_of(lambda: subprocess.run(
                    [pg_dump, "--schema-only", "-f", os.devnull, "-d", url], check=True, capture_output=True), 1))
            inspected = load_spec_text(out.read_text(encoding="utf-8"), str(out))
            tables = sum(1 for t in inspected.tables if not t.assumed)
            assert tables == n, f"inspect described {tables} of {n} tables"

            stages: dict[str, float] = {}
            for _ in range(3):
                t0 = time.perf_counter()
                with pg.connect(url) as conn:
                    catalog = read_catalog(conn)
                t1 = time.perf_counter()
                spec, notes = build_spec(catalog)
                t2 = time.perf_counter()
                to_yaml(spec)
                t3 = time.perf_counter()
                for name, value in (("catalog", t1 - t0), ("build", t2 - t1), ("yaml", t3 - t2)):
                    stages[name] = min(stages.get(name, value), value)
            rows.append((n, whole, dump, stages, setup, out.stat().st_size))
    print(f"{'tables':>6} {'inspect':>9} {'pg_dump -s':>11} {'inspect/dump':>13}   stages in process")
    for n, whole, dump, stages, setup, size in rows:
        print(f"{n:>6} {whole:>8.3f}s {dump:>10.3f}s {whole / dump:>12.2f}x   "
              + ", ".join(f"{k} {v:.3f}s" for k, v in stages.items()) + f"; spec {size // 1024} KiB")
        if n == 1000:
            met = whole <= 2 * dump
            ok &= met
            print(f"       target at 1000 tables: inspect within 2x pg_dump --schema-only: {'met' if met else 'MISSED'}")
    shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main([int(a) for a in sys.argv[1:]] or [100, 1000]))
