"""The lock file (release.py), the planner's hazard markers and guards (plan.py): no database.
The day-two workflow on a real server is tests/db/test_evolution.py."""
from __future__ import annotations

from dataclasses import replace

import pytest

from jarvis_schemagen import model as m
from jarvis_schemagen.compare import compare
from jarvis_schemagen.errors import UsageError
from jarvis_schemagen.plan import plan, type_change_is_free
from jarvis_schemagen.release import Entry, Lock, format_lock, read_lock, released_problems, write_lock

HEX = "a" * 64


def test_lock_round_trips_sorted_and_human_readable(tmp_path):
    lock = Lock((Entry("006", "widen", "pending", allow_destructive=True), Entry("001", "base", "released", HEX)),
                exists=True)
    write_lock(tmp_path, lock)
    text = (tmp_path / "schemagen.lock").read_text()
    body = [line for line in text.splitlines() if not line.startswith("#")]
    assert body == [f"released 001_base.sql sha256:{HEX}", "pending  006_widen.sql allow-destructive"]
    again = read_lock(tmp_path)
    assert again.pending.filename == "006_widen.sql" and again.pending.allow_destructive
    assert [e.filename for e in again.released] == ["001_base.sql"]
    assert format_lock(again) == text


def test_no_lock_file_is_an_empty_lock(tmp_path):
    lock = read_lock(tmp_path)
    assert not lock.exists and lock.entries == () and lock.pending is None
    write_lock(tmp_path, lock)  # nothing to record: no file appears
    assert not (tmp_path / "schemagen.lock").exists()


@pytest.mark.parametrize("line, problem", [
    ("released 001_base.sql", "sha256"),
    (f"released 001_base.sql sha256:{'A' * 64}", "sha256"),
    ("frozen 001_base.sql", "expected"),
    ("pending 002_x.sql please", "allow-destructive"),
    ("released base.sql sha256:" + HEX, "expected"),
])
def test_malformed_lock_lines_name_the_line(tmp_path, line, problem):
    (tmp_path / "schemagen.lock").write_text("# comment\n" + line + "\n")
    with pytest.raises(UsageError) as e:
        read_lock(tmp_path)
    assert "schemagen.lock:2:" in str(e.value) and problem in str(e.value)


def test_two_pending_or_duplicate_ids_are_refused(tmp_path):
    (tmp_path / "schemagen.lock").write_text("pending 002_a.sql\npending 003_b.sql\n")
    with pytest.raises(UsageError, match="more than one pending"):
        read_lock(tmp_path)
    (tmp_path / "schemagen.lock").write_text(f"released 001_a.sql sha256:{HEX}\npending 001_b.sql\n")
    with pytest.raises(UsageError, match="has the id of 001_a.sql"):
        read_lock(tmp_path)


def test_edited_or_missing_released_files_are_problems(tmp_path):
    import hashlib

    (tmp_path / "001_a.sql").write_text("select 1;\n")
    good = hashlib.sha256(b"select 1;\n").hexdigest()
    lock = Lock((Entry("001", "a", "released", good), Entry("002", "b", "released", HEX)), exists=True)
    problems = released_problems(tmp_path, lock)
    assert len(problems) == 1 and "002_b.sql is missing" in problems[0]
    (tmp_path / "001_a.sql").write_text("select 2;\n")
    assert any("001_a.sql was edited" in p for p in released_problems(tmp_path, lock))


# ---------------------------------------------------------------- planner markers

def _table(**kw) -> m.Table:
    t = m.Table(schema="public", name="t", migration="001",
                columns=(m.Column("id", "bigint", nullable=False), m.Column("n", "character varying(20)")),
                constraints=(m.Constraint("t_pkey", "primary_key", columns=("id",)),))
    return replace(t, **kw)


def _sql(desired: m.Table, actual: m.Table) -> str:
    d = m.Schema(tables=(desired,))
    return plan(compare(d, m.Schema(tables=(actual,))).changes, d).sql()


def test_hazards_on_existing_tables_say_what_locks_and_the_online_way():
    base = _table()
    sql = _sql(_table(indexes=(m.Index("t_n_idx", keys=(m.IndexKey("n"),)),)), base)
    assert "-- hazard: builds index t_n_idx under a SHARE lock on public.t" in sql and "concurrently" in sql
    sql = _sql(_table(constraints=base.constraints + (m.Constraint("t_n_check", "check", expression="(n <> '')"),)),
               base)
    assert "-- hazard: checks every row of public.t" in sql and "not valid" in sql and "validate constraint" in sql
    wide = replace(base.columns[1], nullable=False)
    sql = _sql(_table(columns=(base.columns[0], wide)), base)
    assert "-- hazard: scans all of public.t" in sql
    big = replace(base.columns[0], type="numeric")
    assert "-- hazard: may rewrite public.t" in _sql(_table(columns=(big, base.columns[1])), base)


def test_a_new_table_has_no_hazards():
    sql = _sql(_table(name="u", indexes=(m.Index("u_n_idx", keys=(m.IndexKey("n"),)),)), _table())
    assert "create index" in sql and "-- hazard:" not in sql


def test_widening_varchar_is_no_hazard():
    assert type_change_is_free("character varying(20)", "character varying(50)")
    assert type_change_is_free("character varying(20)", "text")
    assert not type_change_is_free("character varying(50)", "character varying(20)")
    assert not type_change_is_free("integer", "bigint")


def test_new_not_null_column_without_default_gets_a_guard():
    base = _table()
    col = m.Column("region", "text", nullable=False)
    sql = _sql(_table(columns=base.columns + (col,)), base)
    guard, add = sql.index("raise exception using message = 'public.t has rows"), sql.index('add column "region"')
    assert guard < add
    with_default = replace(col, default="'eu'::text")
    assert "raise exception" not in _sql(_table(columns=base.columns + (with_default,)), base)


def test_marker_text_cannot_break_out_of_its_comment():
    evil = 'x\ndrop table "users";--'
    base = _table(name=evil)
    sql = _sql(_table(name=evil, indexes=(m.Index("i", keys=(m.IndexKey("n"),)),)), base)
    assert "-- hazard: builds index i" in sql
    assert '-- drop table "users";--: writes' in sql  # the name's second line is a comment line too
    assert not any(line.startswith('drop table "users"') for line in sql.splitlines())


def test_the_jarvis_files_ship_released_and_unchanged():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    lock = read_lock(root / "generated")
    assert [e.filename for e in lock.released] == sorted(p.name for p in (root / "generated").glob("*.sql"))
    assert len(lock.released) == 5 and lock.pending is None
    assert released_problems(root / "generated", lock) == []
