"""apply's pure parts: finding migration files, splitting a file into statements, locating an error."""
from __future__ import annotations

import hashlib
from types import SimpleNamespace

import pytest

from jarvis_schemagen.apply import _applied_by, _ms_setting
from jarvis_schemagen.failure import locate_failure
from jarvis_schemagen.migrations import discover
from jarvis_schemagen.sqltext import position as _position, statement_spans
from jarvis_schemagen.errors import UsageError


def statements(text: str) -> list[str]:
    spans = statement_spans(text)
    assert spans is not None
    return [text[a:b] for a, b in spans]


# ---------------------------------------------------------------- discovery

def test_discover_orders_by_number_and_ignores_other_files(tmp_path):
    for name in ("010_ten.sql", "002_two.sql", "001_one.sql", "README.md", "notes.sql", "003_Three.sql"):
        (tmp_path / name).write_text("select 1;\n")
    files = discover(tmp_path)
    assert [(f.version, f.name) for f in files] == [("001", "one"), ("002", "two"), ("003", "Three"), ("010", "ten")]
    assert files[0].checksum == hashlib.sha256(b"select 1;\n").hexdigest()
    assert files[0].filename == "001_one.sql" and files[0].text() == "select 1;\n"


def test_discover_refuses_duplicate_versions_missing_dir_and_empty_dir(tmp_path):
    with pytest.raises(UsageError, match="not found"):
        discover(tmp_path / "nope")
    with pytest.raises(UsageError, match="no migration files"):
        discover(tmp_path)
    (tmp_path / "001_a.sql").write_text("")
    (tmp_path / "1_b.sql").write_text("")
    with pytest.raises(UsageError, match="share version"):
        discover(tmp_path)


def test_a_file_edited_after_discovery_is_not_run(tmp_path):
    (tmp_path / "001_one.sql").write_text("select 1;\n")
    [f] = discover(tmp_path)
    (tmp_path / "001_one.sql").write_text("select 2;\n")
    with pytest.raises(UsageError, match="changed while schemagen apply was running"):
        f.text()


# ---------------------------------------------------------------- statement splitting

def test_split_plain_statements_skipping_empty_ones_and_comments():
    text = "create table a (id int);\n;\n-- x; y\n/* a; /* nested; */ b; */\ninsert into a values (1);\nselect 1"
    assert statements(text) == ["create table a (id int);", "insert into a values (1);", "select 1"]


def test_split_respects_strings_identifiers_and_dollar_quotes():
    text = (
        "comment on table a is 'it''s; fine';\n"
        "select E'back\\'slash; still';\n"
        'create table "we;ird""name" (id int);\n'
        "do $$ begin perform 1; end $$;\n"
        "create function f() returns int language sql as $fn$ select 1; $$ not the end $fn$;\n"
        "select a$b from t;\n"
        "select $1;\n"
    )
    got = statements(text)
    assert len(got) == 7, got
    assert got[3] == "do $$ begin perform 1; end $$;"
    assert got[4].endswith("$fn$;")


def test_split_gives_up_on_begin_atomic():
    assert statement_spans("create function f() returns int begin atomic select 1; end;") is None
    assert statement_spans("do $$ begin atomic; end $$;") is not None  # inside a body: not followed


# ---------------------------------------------------------------- positions

def test_position_is_line_and_column_of_a_1_based_offset():
    text = "select 1;\n  selec 2;\n"
    assert _position(text, text.index("selec 2") + 1) == (2, 3, "  selec 2;")
    assert _position(text, 1) == (1, 1, "select 1;")


def diag(position=None, context=None):
    return SimpleNamespace(statement_position=position, context=context)


def test_locate_uses_postgresql_position_first():
    text = "create table a (id int);\ninsert into a values ('x');\n"
    loc = locate_failure(text, diag(str(text.index("'x'") + 1)), completed=1)
    assert (loc.line, loc.col, loc.exact) == (2, 23, True)
    assert loc.statement == "insert into a values ('x');"


def test_locate_by_completed_statements_when_no_position():
    text = "create table a (id int);\n\n  insert into a\n  values (1);\n"
    loc = locate_failure(text, diag(), completed=1)
    assert (loc.line, loc.col, loc.exact, loc.source) == (3, 3, False, "  insert into a")
    assert locate_failure(text, diag(), completed=None) is None
    assert locate_failure(text, diag(), completed=5) is None


def test_locate_inside_a_do_block_from_its_context_line():
    text = "select 1;\ndo $$\nbegin\n  perform 1 / 0;\nend $$;\n"
    ctx = 'SQL statement "SELECT 1 / 0"\nPL/pgSQL function inline_code_block line 3 at PERFORM'
    loc = locate_failure(text, diag(context=ctx), completed=1)
    assert (loc.line, loc.col, loc.source, loc.exact) == (4, 3, "  perform 1 / 0;", True)


# ---------------------------------------------------------------- small helpers

def test_timeouts_never_round_down_to_disabled():
    assert _ms_setting(0) == "0"
    assert _ms_setting(0.0001) == "1ms"
    assert _ms_setting(5) == "5000ms"


def test_applied_by(monkeypatch):
    monkeypatch.setenv("SCHEMAGEN_APPLIED_BY", "github:org/repo#12")
    assert _applied_by() == "github:org/repo#12"
    monkeypatch.delenv("SCHEMAGEN_APPLIED_BY")
    assert "@" in _applied_by()
