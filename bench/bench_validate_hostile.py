"""Benchmark: validation time on hostile specs (issue 12: linear-time validation).

    python bench/bench_validate_hostile.py           # every case at 100 KB
    python bench/bench_validate_hostile.py 1000      # every case at 1000 KB

Each case is a spec of about the given size whose text is built to make a backtracking regex,
a quadratic loop or an alias expansion blow up: long runs of spaces inside a `references:`
or an index column, a type with a huge modifier list, a 100 KB key (did-you-mean suggestions),
thousands of misspelt types, a deeply parenthesised expression, a YAML alias bomb. Each is
timed through `api.load_spec_text` (parse + validate; an invalid spec raises SpecError, which is
the expected outcome for most) against ``yaml.compose`` of the same text with the same loader,
the floor for reading it at all. Target: every case under 1 s at 100 KB.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jarvis_schemagen import api  # noqa: E402
from jarvis_schemagen.errors import SchemagenError  # noqa: E402

HEAD = """version: 1
migrations:
  "001": one
roles:
  anon: {assumed: true}
schemas:
  public: {assumed: true}
tables:
  public.a:
    migration: "001"
    columns:
      id: {type: bigint, primary_key: true}
"""


def _q(text: str) -> str:
    """A YAML double-quoted scalar."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def cases(size: int) -> dict[str, str]:
    """Case name -> spec text of about ``size`` bytes."""
    n = size
    col = "      "
    return {
        "references: table( + spaces + !": HEAD + f"{col}b: {{type: bigint, references: {_q('public.a(' + ' ' * n + '!')}}}\n",
        "references: many columns": HEAD + f"{col}b: {{type: bigint, references: {_q('public.a(' + 'id, ' * (n // 4))}}}\n",
        "index column x + spaces + y": HEAD + f"    indexes:\n      a_idx: {{columns: [{_q('x' + ' ' * n + 'y')}]}}\n",
        "index column with desc desc ...": HEAD + f"    indexes:\n      a_idx: {{columns: [{_q('x' + ' desc' * (n // 5))}]}}\n",
        "type numeric(1 1 1 ...": HEAD + f"{col}b: {{type: {_q('numeric(' + '1 ' * (n // 2))}}}\n",
        "type a a a ... !": HEAD + f"{col}b: {{type: {_q('a ' * (n // 2) + '!')}}}\n",
        "unknown keys of 1000 characters": HEAD + "".join(f"    {'c' * 1000}{i}: 1\n" for i in range(n // 1000)),
        "thousands of misspelt types": HEAD + "".join(f"{col}c{i}: integr\n" for i in range(n // 18)),
        "deeply parenthesised default": HEAD + f"{col}b: {{type: bigint, default: {_q('(' * (n // 2) + '1' + ')' * (n // 2))}}}\n",
        "unbalanced parentheses in a check": HEAD + f"{col}b: {{type: bigint, check: {_q('(' * n)}}}\n",
        "comment markers in an expression": HEAD + f"{col}b: {{type: bigint, check: {_q('b > 0 /*' * (n // 8))}}}\n",
        "grant on: function with spaces": HEAD + "grants:\n  - {on: " + _q("function public.f(" + " " * n + "int") + ", migration: '001', grant: [execute], to: [anon]}\n",
        "grant on: nested parentheses": HEAD + "grants:\n  - {on: " + _q("function public.f(" + "numeric(" * (n // 8)) + ", migration: '001', grant: [execute], to: [anon]}\n",
        "migration comment of newlines": HEAD.replace('"001": one', '"001": {name: one, comment: ' + _q("-\n" * (n // 2)) + "}"),
        "policy name of 100 KB": HEAD + f"    rls: true\n    policies:\n      {_q('p' * n)}: {{using: 'true'}}\n",
        "YAML alias bomb": "version: 1\nmigrations: {'001': one}\nx0: &a0 [" + ",".join(["1"] * 10) + "]\n" + "".join(
            f"x{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 9)) + "#" * max(n - 2000, 0) + "\n",
    }


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _compose(text: str, loader) -> None:
    try:
        yaml.compose(text, Loader=loader)
    except yaml.YAMLError:
        pass


def validate(text: str) -> None:
    try:
        api.load_spec_text(text, "hostile.yaml")
    except SchemagenError:
        pass  # the expected outcome for most: the spec is refused, quickly


def run(size: int) -> list[tuple[str, int, float, float]]:
    """(case, bytes, seconds to validate, seconds for yaml.compose) per case."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    out = []
    for name, text in cases(size).items():
        ours = min(timed(lambda: validate(text)) for _ in range(3))
        ref = min(timed(lambda: _compose(text, loader)) for _ in range(3))
        out.append((name, len(text.encode()), ours, ref))
    return out


def main(sizes_kb: list[int]) -> int:
    ok = True
    for kb in sizes_kb:
        rows = run(kb * 1000)
        print(f"{'case':<36} {'bytes':>8} {'validate':>9} {'yaml.compose':>13} {'ratio':>7}")
        for name, size, ours, ref in rows:
            print(f"{name:<36} {size:>8} {ours:>8.4f}s {ref:>12.4f}s {ours / max(ref, 1e-6):>6.1f}x")
        worst = max(r[2] for r in rows)
        met = worst < 1.0 if kb <= 100 else True
        ok &= met
        print(f"{kb} KB: slowest case {worst:.3f} s" + (f"  (< 1 s: {'met' if met else 'MISSED'})" if kb <= 100 else ""))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main([int(a) for a in sys.argv[1:]] or [100]))
