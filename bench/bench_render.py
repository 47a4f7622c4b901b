"""Benchmark: validate + render of synthetic specs, and CLI start-up time.

    python bench/bench_render.py            # N = 100 and 1000
    python bench/bench_render.py 100 5000

The spec is bench/synthetic.py's, shared with bench_diff and bench_inspect: each table has 8
columns (pk, fk to the previous table, check, unique), 2 indexes, RLS with a policy, an updated_at
trigger and grants, plus n/10 SECURITY DEFINER functions. The reference measured in the same run is
``yaml.compose`` of the same text with the same loader: the floor for any tool that reads YAML in Python, so
the ratio says what our own work costs on top of parsing. Targets (issue #2): 1000 tables
validate+render in under 1 s; ``schemagen --help`` in under 0.3 s.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jarvis_schemagen import api  # noqa: E402
from synthetic import best_of, schemagen_command, synthetic_spec  # noqa: E402  (the benchmarks' one synthetic schema)


def main(sizes: list[int]) -> int:
    print(f"{'tables':>7} {'validate+render':>16} {'yaml.compose':>15} {'ratio':>6} {'SQL bytes':>10}  target")
    ok = True
    for n in sizes:
        text = synthetic_spec(n)
        files = api.render_migrations(api.load_spec_text(text))
        repeat = 5 if n <= 1000 else 2
        ours = best_of(lambda: api.render_migrations(api.load_spec_text(text)), repeat)
        ref = best_of(lambda: yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)), repeat)
        size = sum(len(v) for v in files.values())
        verdict = ""
        if n == 1000:
            verdict = "< 1 s: " + ("met" if ours < 1.0 else "MISSED")
            ok &= ours < 1.0
        print(f"{n:>7} {ours:>15.3f}s {ref:>14.3f}s {ours / ref:>5.2f}x {size:>10}  {verdict}")

    cmd = schemagen_command() + ["--help"]
    runs = []
    for _ in range(7):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        runs.append(time.perf_counter() - t0)
    py = []
    for _ in range(7):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        py.append(time.perf_counter() - t0)
    help_t, py_t = statistics.median(runs), statistics.median(py)
    ok &= help_t < 0.3
    print(f"schemagen --help: {help_t * 1000:.0f} ms (bare python start-up {py_t * 1000:.0f} ms, "
          f"ratio {help_t / py_t:.1f}x)  < 300 ms: {'met' if help_t < 0.3 else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main([int(a) for a in sys.argv[1:]] or [100, 1000]))
