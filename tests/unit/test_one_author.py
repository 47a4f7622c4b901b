"""One author per statement: what the migration files write for an object and what a plan
creating it from an empty database writes are the same text (up to the idempotent form),
because both come from one builder of sql.py."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from jarvis_schemagen import api
from jarvis_schemagen import model as m
from jarvis_schemagen.compare import compare
from jarvis_schemagen.plan import plan

ROOT = Path(__file__).resolve().parents[2]
SPECS = [ROOT / "schema.yaml", ROOT / "tests" / "fixtures" / "kitchen_sink" / "schema.yaml"]


def _files_and_plan(spec: Path) -> tuple[str, list[str]]:
    desired = api.load_spec(spec)
    files = "\n".join(api.render_migrations(desired).values()) + "\n" + api.assumed_objects_sql(desired)
    statements = [s.sql for s in plan(compare(desired, m.Schema()).changes, desired).statements]
    return files, statements


@pytest.mark.parametrize("spec", SPECS, ids=["jarvis", "kitchen_sink"])
def test_files_and_plans_write_every_object_with_the_same_text(spec):
    files, statements = _files_and_plan(spec)
    checked: Counter = Counter()
    for s in statements:
        if s.startswith("create table "):
            # the file inlines foreign keys, says `if not exists` and may add a later migration's
            # columns with `add column`; every column and constraint definition is the same text
            for line in s.splitlines()[1:-1]:
                d = line.strip().rstrip(",")
                forms = (f"    {d},\n", f"    {d}\n);", f" add column if not exists {d};\n", f" add {d};\n")
                assert any(form in files for form in forms), line
                checked["column/constraint"] += 1
        elif re.match(r"alter table \S+ add constraint ", s):
            definition = s.split(" add ", 1)[1].rstrip(";")
            assert definition in files, s
            checked["added constraint"] += 1
        elif s.startswith(("create index ", "create unique index ")):
            assert s.replace("index ", "index if not exists ", 1) in files, s
            checked["index"] += 1
        elif s.startswith("create trigger "):
            assert s.replace("create trigger", "create or replace trigger", 1) in files, s
            checked["trigger"] += 1
        elif s.startswith("create policy "):
            head = s.splitlines()[0]  # create policy "name" on "schema"."table"
            assert head.replace("create policy", "drop policy if exists", 1) + ";\n" + s in files, s
            checked["policy"] += 1
        elif s.startswith(("create or replace function ", "comment on ", "do $do$\nbegin\n    create role ")):
            assert s in files, s
            checked["comment" if s.startswith("comment") else s.split()[0]] += 1
        elif re.match(r"alter table \S+ (enable|force) row level security;", s):
            assert s in files, s
            checked["rls"] += 1
    assert checked["column/constraint"] and checked["create"] and checked["comment"] and checked["policy"], checked
    if spec.parent.name == "kitchen_sink":  # the Jarvis plan has no index or trigger of its own tables ...
        # (roles are assumed: a plan never creates them, only the assumed objects' SQL does)
        assert checked["trigger"] and checked["index"] and checked["added constraint"], checked


# ---------------------------------------------------------------- no second author in the code

PACKAGE = ROOT / "jarvis_schemagen"
# SQL of their own, not of the spec's objects: databases created/dropped through psycopg's
# sql.Identifier (pg.py, shadow.py), and the fixed ledger table (ledger.py)
NOT_SPEC_SQL = {"sql.py", "pg.py", "shadow.py", "ledger.py"}
NOT_SQL = {("report.py", "comment on {c.object}")}  # a report headline
# a statement (lower case, as schemagen writes SQL) naming something: interpolated or quoted
_STATEMENT = re.compile(r"\s*(create|alter|drop|grant|revoke|comment on|do \$)\s[^\n]*[{\"]")


def _string_literals(path: Path):
    import io
    import tokenize

    for tok in tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline):
        if tok.type == tokenize.STRING:
            quote = re.match(r"[a-zA-Z]*('''|\"\"\"|'|\")", tok.string)
            yield tok.start[0], tok.string[quote.end():-len(quote.group(1))]


def test_no_module_but_sql_py_writes_a_statement():
    """New statements go into a builder of sql.py; plan.py, render.py and the rest call it."""
    found = [f"{p.name}:{line}: {text[:60]!r}" for p in sorted(PACKAGE.rglob("*.py")) if p.name not in NOT_SPEC_SQL
             for line, text in _string_literals(p) if _STATEMENT.match(text) and (p.name, text) not in NOT_SQL]
    assert not found, "SQL written outside sql.py (add or reuse a builder there):\n" + "\n".join(found)


def test_templates_hold_no_sql_of_their_own():
    for path in (ROOT / "templates").rglob("*.j2"):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            assert not _STATEMENT.match(line.replace("{{", "{")) or line.lstrip().startswith("{{"), \
                f"{path.name}:{n}: SQL written in a template (call a sql.* builder): {line}"
