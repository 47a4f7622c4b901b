"""The command line: the only module that imports click.

Each command parses its options, calls one library function, prints the report and exits
with the contract's code. Library modules are imported inside the commands so that
``schemagen --help`` starts fast.

Exit codes: 0 success / no differences; 1 the check found something (invalid spec, drift,
stale files, pending migrations); 2 could not do the work (bad usage, database
unreachable, a migration failed).
"""
from __future__ import annotations

import sys

import click

from . import __version__
from .errors import SchemagenError, UsageError

EXIT_CODES_HELP = (
    "Exit codes: 0 success or no differences; 1 the check found something "
    "(invalid spec, drift, stale files, pending migrations); 2 could not do the work "
    "(bad usage, database unreachable, a migration failed). Each command's --help says what they mean for it."
)


class _Group(click.Group):
    """Turns every SchemagenError into `schemagen: error: ...` and its exit code, and any other
    exception into one line `schemagen: internal error: ...` with exit 2 (a crash is never read as
    "found something", exit 1); the traceback only with --debug."""

    def add_command(self, cmd, name=None):
        if not any(p.name == "color" for p in cmd.params):  # every command takes --color too
            cmd.params.append(_color_option())
        super().add_command(cmd, name)

    def main(self, *args, standalone_mode: bool = True, **kwargs):
        """click's standalone mode, but its usage errors (an unknown option, a bad choice, a directory
        given as --spec) are one line `schemagen: error: ...` like every other error, exit 2; Ctrl-C
        outside a command is `schemagen: interrupted`, exit 2 (click would say "Aborted!", exit 1)."""
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except _NO_ARGS_IS_HELP as e:
            e.show()  # bare `schemagen`: the help, as click prints it
            sys.exit(e.exit_code)
        except click.ClickException as e:
            click.echo(f"schemagen: error: {_click_message(e)}", err=True)
            sys.exit(2)  # never click's 1 (a FileError's), which CI would read as "found something"
        except click.Abort:
            click.echo("schemagen: interrupted", err=True)
            sys.exit(2)
        except OSError as e:  # writing the help or the version failed
            _output_failed(e)
            raise
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx):
        from . import term

        progress = term.StderrProgress(sys.stderr, color=_color(sys.stderr, ctx))
        term.set_reporter(progress if progress.enabled else None)  # a progress line only on a terminal
        try:
            return super().invoke(ctx)
        except SchemagenError as e:
            _report_error(e, ctx)
            sys.exit(e.exit_code)
        except KeyboardInterrupt:
            click.echo("schemagen: interrupted", err=True)
            sys.exit(2)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except OSError as e:
            _output_failed(e)  # stdout closed or full: not a bug
            _internal_error(e, ctx)
        except Exception as e:  # a bug: say so in one line, exit 2
            _internal_error(e, ctx)
        finally:
            term.set_reporter(None)


def _internal_error(e: Exception, ctx: click.Context) -> None:
    """A bug: one line, exit 2; the traceback only with --debug."""
    if ctx.obj and ctx.obj.get("debug"):  # for a bug report: masked like everything else printed
        import traceback

        click.echo(_shown(traceback.format_exc().rstrip("\n"), mask=True), err=True)
    click.echo(f"schemagen: internal error: {_shown(f'{type(e).__name__}: {e}'.splitlines()[0], mask=True)} "
               "(a bug in schemagen; rerun with --debug for the traceback)", err=True)
    sys.exit(2)


#: click >= 8.2 raises it for a bare `schemagen` (the help, exit 2); older versions print the help and exit 0
_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


def _click_message(e: click.ClickException) -> str:
    """click's message on one line, with the command's help to look at: `invalid value for '--format':
    'xml' is not one of 'text', 'json', 'sql' (see `schemagen diff --help`)`."""
    text = " ".join(line.strip() for line in e.format_message().splitlines() if line.strip()).rstrip(".")
    text = text[:1].lower() + text[1:]
    ctx = getattr(e, "ctx", None)
    hint = f" (see `{ctx.command_path} --help`)" if isinstance(e, click.UsageError) and ctx is not None else ""
    return _shown(text, mask=True) + hint


def _output_failed(e: OSError) -> None:
    """Standard output closed (`schemagen diff | head`) or full: exit 2, quietly for a closed pipe
    (as `cat` is), else in one line. Returns when ``e`` is about something else."""
    import errno
    import os

    if not (isinstance(e, BrokenPipeError)
            or e.filename is None and e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG)):
        return
    try:  # what is left in the buffer goes nowhere: Python's flush at exit must not fail again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    if not isinstance(e, BrokenPipeError):
        try:
            click.echo(f"schemagen: error: cannot write the output: {e.strerror}", err=True)
        except OSError:
            pass
    sys.exit(2)


def _shown(text: str, mask: bool = False) -> str:
    """Text for the terminal: control characters other than newline escaped (a name may hold an
    escape sequence); with ``mask``, passwords of connection strings masked too (the library's own
    errors are masked where they are made)."""
    from .pg import mask_url
    from .printable import escape_controls

    return escape_controls(mask_url(str(text)) if mask else str(text), keep="\n")


#: what an invalid spec stopped, per command (validate and diff never write anything)
_NOT_DONE = {"render": "; nothing was written", "apply": "; nothing was applied", "diff": "; nothing was compared",
             "assumed-sql": "; nothing was printed"}


def _report_error(e: SchemagenError, ctx: click.Context | None = None) -> None:
    command = ctx.invoked_subcommand if ctx is not None else None
    from .errors import SpecError
    from .term import paint

    if isinstance(e, SpecError) and e.problems:
        for p in e.problems:
            click.echo(_shown(str(p)), err=True)
        n = len(e.problems)
        click.echo(f"schemagen: {n} problem{'s' if n != 1 else ''} in the spec{_NOT_DONE.get(command or '', '')}",
                   err=True)
    else:
        on = _color(sys.stderr, ctx)
        click.echo(f"schemagen: {paint('error:', '31', on)} {_shown(str(e))}", err=True, color=on)


def _color(stream, ctx: click.Context | None = None) -> bool:
    """The one colour decision of every command: --color, then NO_COLOR/FORCE_COLOR/TERM, then a terminal."""
    from .term import use_color

    ctx = ctx or click.get_current_context(silent=True)
    mode = (ctx.find_root().meta.get("schemagen.color") if ctx else None) or "auto"
    return use_color(stream, mode)


def _set_color(ctx: click.Context, _param, value: str | None) -> None:
    if value is not None:
        ctx.find_root().meta["schemagen.color"] = value


def _color_option():
    return click.Option(["--color"], type=click.Choice(["auto", "always", "never"]), default=None,
                        expose_value=False, is_eager=True, callback=_set_color,
                        help="Colour: auto (a terminal, unless NO_COLOR is set or TERM=dumb; FORCE_COLOR forces), "
                             "always or never.")


def _warn(message: str) -> None:
    from .term import paint

    on = _color(sys.stderr)
    click.echo(f"schemagen: {paint('warning:', '33', on)} {_shown(message)}", err=True, color=on)


def _print_warnings(warnings) -> None:
    """Risky but valid constructs: on stderr, never changing the exit code."""
    for w in warnings:
        _warn(str(w))


SPEC_OPTION = click.option(
    "--spec", "spec", default="schema.yaml", show_default=True,
    type=click.Path(dir_okay=False), help="The spec file.",
)


@click.group("schemagen", cls=_Group,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
             epilog=EXIT_CODES_HELP)
@click.version_option(__version__, "--version", "-V", prog_name="schemagen")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default=None, expose_value=False,
              is_eager=True, callback=_set_color, help="Colour: auto (default), always or never; also per command.")
@click.option("--debug", is_flag=True, envvar="SCHEMAGEN_DEBUG",
              help="On an internal error, print the traceback (for bug reports).")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Schema-as-code for PostgreSQL/Supabase.

    schema.yaml declares tables, columns, constraints, indexes, RLS policies, functions,
    triggers and grants; `render` turns it into ordered, idempotent migration files;
    `apply` runs them safely; `diff` finds drift between the spec and a live database.
    """
    ctx.obj = {"debug": debug}


@main.command(short_help="Check the spec; each problem as FILE:LINE:COL: message.")
@SPEC_OPTION
def validate(spec: str) -> None:
    """Check the spec and report every problem as FILE:LINE:COL: message.

    Also runs `schemagen lint`: its findings are printed, and only errors fail validation.
    Exit 0 when the spec is valid, 1 when it has problems (or lint errors), 2 when the file
    cannot be read.
    """
    from .api import load_spec

    from .lint import failing, format_line, lint

    schema = load_spec(spec)
    _print_warnings(schema.warnings)
    findings = lint(schema)
    for f in findings:
        if f.suppressed is None:
            click.echo(format_line(f), err=True)
    errors = failing(findings, "error")
    if errors:
        click.echo(f"schemagen: {len(errors)} lint error{'s' if len(errors) != 1 else ''} in the spec "
                   "(see `schemagen lint`)", err=True)
        sys.exit(1)
    n_tables = sum(1 for t in schema.tables if not t.assumed)
    click.echo(f"{spec}: valid ({len(schema.migrations)} migrations, {n_tables} tables, "
               f"{sum(1 for f in schema.functions if not f.assumed)} functions)")


SHADOW_OPTION = click.option(
    "--shadow-db", "shadow_db", metavar="URL",
    help="A server where temporary databases may be created to compute states "
         "(default: a throwaway local cluster, which needs the PostgreSQL server binaries).")
NO_CACHE_OPTION = click.option("--no-cache", "no_cache", is_flag=True,
                               help="Recompute normalised states in a shadow database even if cached.")


LAYOUT_OPTION = click.option("--layout", type=click.Choice(["schemagen", "supabase"]), default="schemagen",
                             show_default=True,
                             help="supabase: the Supabase CLI's layout: files in supabase/migrations/<id>_<name>.sql "
                                  "and, for apply/status, the ledger supabase_migrations.schema_migrations (unless "
                                  "--dir/--out/--ledger say otherwise).")
LEDGER_OPTION = click.option("--ledger", type=click.Choice(["schemagen", "supabase"]), default=None,
                             help="Where applied migrations are recorded: schemagen (schemagen.migrations, with "
                                  "checksums and who/when) or supabase (supabase_migrations.schema_migrations, "
                                  "shared with `supabase db push`) [default: as --layout].")


@main.command(short_help="Write one SQL file per migration into generated/.")
@SPEC_OPTION
@click.option("--out", "out", default=None, type=click.Path(file_okay=False),
              help="Directory for the migration files [default: generated, or supabase/migrations with "
                   "--layout supabase].")
@LAYOUT_OPTION
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 when a file is stale or missing, a released file was edited, or "
                   "the spec has changes no migration captures (for CI).")
@click.option("--name", "name", metavar="NAME",
              help="Capture the spec's changes to released migrations in one new file NNN_NAME.sql "
                   "(pending until `schemagen release`).")
@click.option("--allow-destructive", is_flag=True,
              help="Consent to statements that can lose data (drop table/column, narrowing type change...).")
@SHADOW_OPTION
@NO_CACHE_OPTION
def render(spec: str, out: str | None, layout: str, check: bool, name: str | None, allow_destructive: bool,
           shadow_db: str | None, no_cache: bool) -> None:
    """Render the spec into one SQL file per migration.

    Files are rewritten only when their content changes; the output is byte-for-byte
    deterministic. Nothing is written if the spec has any problem. Released files (see
    `schemagen release`) are never rewritten: a change to what they created becomes a new
    migration with --name, and until then render exits 1 listing the changes.

    Exit 0 when the files are written (or, with --check, up to date); 1 when the spec has
    problems, --check finds a stale, missing or edited file, the spec has changes no migration
    captures, or --name needs --allow-destructive; 2 when it could not run (unreadable spec,
    unwritable directory, no shadow database).
    """
    from .api import render_to_dir
    from .migrations import layout_dir
    from .report import format_changes, use_color

    out = layout_dir(layout, out)
    report = render_to_dir(spec, out, check=check, name=name, allow_destructive=allow_destructive,
                           shadow_url=shadow_db, use_cache=not no_cache)
    _print_warnings(report.warnings)
    for name_ in report.extra:
        click.echo(f"note: {out}/{name_} is neither produced by the spec nor released (left untouched)", err=True)
    for problem in report.problems:
        click.echo(f"schemagen: error: {problem}", err=True)
    if report.problems:
        click.echo("schemagen: nothing was written", err=True)
        sys.exit(1)
    if report.uncaptured:
        n = len(report.uncaptured)
        click.echo(f"The spec has {n} change{'s' if n != 1 else ''} that no migration captures "
                   f"(\"database\" below: what the files of {out}/ produce):")
        click.echo(format_changes(report.uncaptured, color=use_color(sys.stdout)), nl=False)
        click.echo("schemagen: released migrations are frozen; capture the changes in a new migration with "
                   "`schemagen render --name NAME`" + ("" if check else "; nothing was written"), err=True)
        sys.exit(1)
    if report.refused:
        click.echo("schemagen: error: the change can lose data; rerun with --allow-destructive to consent "
                   "(nothing was written):", err=True)
        for why in report.refused:
            click.echo(f"  destructive: {why}", err=True)
        sys.exit(1)
    if report.nothing_to_capture:
        click.echo(f"no changes to capture: the files of {out}/ already produce the spec; nothing was written")
    if check:
        for name_ in report.stale:
            click.echo(f"stale: {out}/{name_}")
        for name_ in report.missing:
            click.echo(f"missing: {out}/{name_}")
        if not report.ok:
            click.echo(f"schemagen: {len(report.stale) + len(report.missing)} file(s) out of date; "
                       "run `schemagen render`", err=True)
            sys.exit(1)
        frozen = f", {len(report.released)} released" if report.released else ""
        click.echo(f"{out}/: up to date ({len(report.unchanged) + len(report.released)} files{frozen})")
        return
    for name_ in report.removed:
        click.echo(f"removed {out}/{name_}")
    for name_ in report.written:
        click.echo(f"wrote {out}/{name_}" + (" (pending: recomputed by render until `schemagen release`)"
                                             if name_ == report.pending else ""))
    frozen = f", {len(report.released)} released (frozen)" if report.released else ""
    click.echo(f"{out}/: {len(report.written)} written, {len(report.unchanged)} unchanged{frozen}")
    if report.access and report.pending in report.written:
        click.echo(report.access, nl=False)


@main.command(short_help="Freeze the migration files in generated/schemagen.lock.")
@SPEC_OPTION
@click.option("--out", "out", default=None, type=click.Path(file_okay=False),
              help="Directory of the migration files [default: generated, or supabase/migrations with "
                   "--layout supabase].")
@LAYOUT_OPTION
@SHADOW_OPTION
@NO_CACHE_OPTION
def release(spec: str, out: str | None, layout: str, shadow_db: str | None, no_cache: bool) -> None:
    """Freeze every migration file of the directory in OUT/schemagen.lock.

    Released files are never rewritten by render, and `render --check` fails when their bytes
    change. Only an up-to-date directory (what `render --check` accepts) is released.
    Exit 0 when released (or nothing new); 1 when the directory is not up to date or the spec
    has problems; 2 when it could not run.
    """
    from .api import release as run_release
    from .migrations import layout_dir

    out = layout_dir(layout, out)
    report = run_release(spec, out, shadow_url=shadow_db, use_cache=not no_cache)
    for name_ in report.newly:
        click.echo(f"released {out}/{name_}")
    if not report.newly:
        click.echo(f"{out}/: nothing new to release ({len(report.already)} files already released)")
        return
    click.echo(f"{out}/schemagen.lock: {len(report.newly)} newly released, {len(report.already)} already released")


@main.command("assumed-sql", short_help="For scratch databases: SQL creating the assumed objects.")
@SPEC_OPTION
def assumed_sql(spec: str) -> None:
    """Print the SQL creating the spec's assumed objects (auth schema, roles, ...).

    For scratch databases (local development, tests); never run it against Supabase.
    Exit 0; 1 when the spec has problems; 2 when it cannot be read.
    """
    from .api import assumed_objects_sql, load_spec

    click.echo(assumed_objects_sql(load_spec(spec)), nl=False)


DB_HELP = ("The database (default: $DATABASE_URL, then DATABASE_URL= in ./.env.local or ./.env, then libpq's "
           "PG* variables). Never printed with its password.")
DB_OPTION = click.option("--db", "db", metavar="URL", help=DB_HELP)


def _need_db(db: str | None) -> str:
    """The one resolver of --db for every command (settings.resolve_database)."""
    from .settings import resolve_database

    return resolve_database(db).url


@main.command(short_help="Report drift between the spec and a live database.")
@DB_OPTION
@SPEC_OPTION
@click.option("--shadow-db", "shadow_db", metavar="URL",
              help="A server where a temporary database may be created to normalise the spec "
                   "(default: a throwaway local cluster, which needs the PostgreSQL server binaries).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sql"]), default="text", show_default=True,
              help="text: readable report; json: the documented structure; sql: statements that fix the drift.")
@click.option("--strict", is_flag=True,
              help="Also count unmanaged objects (in the spec's schemas, never mentioned by it) as drift.")
@click.option("--no-cache", "no_cache", is_flag=True,
              help="Rebuild the normalised spec in a shadow database even if it is cached.")
def diff(db: str | None, spec: str, shadow_db: str | None, fmt: str, strict: bool, no_cache: bool) -> None:
    """Report drift between the spec and a live database.

    Exit 0 when the database matches the spec; 1 when it drifted, an assumption is unmet, or
    the spec has problems; 2 when the check could not run (unreachable database, no shadow
    database possible, invalid usage).
    """
    from .diff import diff as run_diff
    from .report import FORMATS, format_text

    report = run_diff(_need_db(db), spec, shadow_url=shadow_db, strict=strict, use_cache=not no_cache)
    for warning in report.warnings:
        _warn(warning)
    on = _color(sys.stdout)
    text = format_text(report, color=on) if fmt == "text" else FORMATS[fmt](report)
    click.echo(text, nl=False, color=on)
    sys.exit(report.exit_code)


class Seconds(click.ParamType):
    """A finite, non-negative number of seconds; at most what PostgreSQL's timeouts hold
    (2147483647 ms). nan, inf and 1e400 are refused (exit 2), not crashed on."""

    name = "seconds"
    MAX = 2147483.0

    def convert(self, value, param, ctx):
        import math

        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
        else:
            try:
                number = float(str(value).strip())
            except ValueError:
                self.fail(f"{value!r} is not a number of seconds", param, ctx)
        if not math.isfinite(number) or number < 0 or number > self.MAX:
            self.fail(f"{value!r} must be a finite number of seconds from 0 to {self.MAX:.0f}", param, ctx)
        return number



DIR_OPTION = click.option("--dir", "directory", default=None, type=click.Path(file_okay=False),
                          help="Directory of the migration files [default: generated, or supabase/migrations "
                               "with --layout supabase].")
def _layout(layout: str, directory: str | None, ledger_name: str | None) -> tuple[str, str]:
    from .migrations import layout_dir

    return layout_dir(layout, directory), ledger_name or layout


@main.command(short_help="Run the pending migrations against a database.")
@DB_OPTION
@DIR_OPTION
@LAYOUT_OPTION
@LEDGER_OPTION
@click.option("--spec", "spec", default="schema.yaml", show_default=True, type=click.Path(dir_okay=False),
              help="Spec whose assumed objects must exist in the database before anything is applied "
                   "(skipped when the default file is absent).")
@click.option("--dry-run", is_flag=True, help="Print what would be applied, in order; change nothing.")
@click.option("--lock-timeout", default=5.0, show_default=True, type=Seconds(), metavar="S",
              help="Seconds a migration statement may wait for a table lock before failing (0: forever).")
@click.option("--statement-timeout", default=300.0, show_default=True, type=Seconds(), metavar="S",
              help="Seconds one statement may run before failing (0: no limit).")
@click.option("--wait-timeout", default=300.0, show_default=True, type=Seconds(), metavar="S",
              help="Seconds to wait for another schemagen apply on the same database to finish.")
@click.option("--allow-changed", is_flag=True,
              help="Do not refuse applied files that changed: never re-run them, apply the pending ones, then "
                   "verify with diff that the database matches the spec (exit 1 if not) and only then record "
                   "the new checksums. To change the schema, use `schemagen render --name` instead.")
@click.option("--verify", is_flag=True,
              help="After applying, diff the database against the spec; exit 1 listing the differences "
                   "when it does not match.")
@click.option("--shadow-db", "shadow_db", metavar="URL",
              help="With --verify or --allow-changed: where to normalise the spec (as for diff; default a "
                   "throwaway cluster).")
def apply(db, directory, layout, ledger, spec, dry_run, lock_timeout, statement_timeout, wait_timeout,
          allow_changed, verify, shadow_db) -> None:
    """Apply the migrations not yet applied, in order, each exactly once.

    Each file runs in one transaction together with its row in the ledger table
    schemagen.migrations: it commits whole or not at all. Concurrent runs against one
    database queue on an advisory lock. Exit 0 when everything is applied; 1 when history
    does not fit (an applied file changed, or a pending file sorts before an applied one;
    nothing applied); 2 when a prerequisite is missing, the database cannot be reached, or a
    migration failed (it is rolled back; rerun after the fix). With --verify, also 1 when the
    database then differs from the spec.
    """
    from pathlib import Path

    from .apply import MigrationFailed, apply as run_apply

    url = _need_db(db)
    directory, ledger = _layout(layout, directory, ledger)
    spec_path = spec if (spec != "schema.yaml" or Path(spec).is_file()) else None
    if verify and dry_run:
        raise UsageError("--verify checks the database after applying; --dry-run applies nothing")
    if verify and spec_path is None:
        raise UsageError(f"--verify compares the database with the spec, and {spec} does not exist: pass --spec PATH")
    try:
        report = run_apply(url, directory, spec_path=spec_path, dry_run=dry_run, allow_changed=allow_changed,
                           lock_timeout=lock_timeout, statement_timeout=statement_timeout,
                           wait_timeout=wait_timeout, on_event=lambda msg: click.echo(msg, err=True),
                           shadow_url=shadow_db, ledger_name=ledger)
    except MigrationFailed as e:  # what this run committed before the failure stays committed: say so
        for f, ms in e.applied:
            click.echo(f"applied {f.filename} ({ms} ms)")
        if e.applied:
            click.echo(f"{len(e.applied)} applied before the failure (committed); the failed file was rolled back")
        raise
    if dry_run:
        for f in report.pending:
            click.echo(f"would apply {f.path}")
        for f in report.changed:
            click.echo(f"would verify {f.path} (changed since it was applied; not re-run)")
        click.echo(f"dry run: {len(report.pending)} to apply, {len(report.already)} already applied "
                   f"on {report.database}; nothing was changed")
        return
    for f, ms in report.applied:
        click.echo(f"applied {f.filename} ({ms} ms)")
    for f in report.accepted:
        click.echo(f"accepted {f.filename}: changed since it was applied, and the database matches the spec")
    click.echo(f"{report.database}: {len(report.applied)} applied, {len(report.already)} already applied")
    if verify:
        from .diff import diff as run_diff
        from .report import format_text

        check = run_diff(url, spec_path, shadow_url=shadow_db)
        for warning in check.warnings:
            _warn(warning)
        if check.drift:
            on = _color(sys.stdout)
            click.echo(format_text(check, color=on), nl=False, color=on)
            click.echo(f"schemagen: verify failed: {report.database} does not match {spec_path} after applying",
                       err=True)
            sys.exit(1)
        click.echo(f"verified: {report.database} matches {spec_path}")


@main.command(short_help="Which migrations a database has applied, pending or changed.")
@DB_OPTION
@DIR_OPTION
@LAYOUT_OPTION
@LEDGER_OPTION
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: {version, database, ok, counts, migrations: [{version, name, state, ...}]}.")
def status(db, directory, layout, ledger, fmt) -> None:
    """Show each migration as applied, pending or changed (and ledger rows whose file is gone).

    Exit 0 when every file is applied unchanged; 1 when anything is pending, changed or
    missing its file; 2 when the database cannot be reached. Changes nothing.
    """
    import json

    from .apply import status as run_status
    from .printable import escape_controls

    directory, ledger = _layout(layout, directory, ledger)
    report = run_status(_need_db(db), directory, ledger_name=ledger)
    if fmt == "json":
        click.echo(json.dumps(report.to_json(), indent=2, sort_keys=True))
    else:
        from datetime import datetime, timezone

        width = max((len(f"{e.version}_{e.name}.sql") for e in report.entries), default=0)
        for e in report.entries:
            name = f"{e.version}_{e.name}.sql"
            if e.applied_at:  # aligned columns; times in UTC whatever the session's time zone
                utc = datetime.fromisoformat(e.applied_at).astimezone(timezone.utc)
                click.echo(escape_controls(  # ledger text: escaped
                    f"{e.state:<12} {name:<{width}}  {utc:%Y-%m-%d %H:%M:%S} UTC  by {e.applied_by}"))
            else:
                click.echo(escape_controls(f"{e.state:<12} {name}"))
        click.echo(f"{escape_controls(report.database)}: " + ", ".join(
            f"{report.count(s)} {s}" for s in ("applied", "pending", "changed", "missing-file") if report.count(s)))
    sys.exit(0 if report.ok else 1)


@main.command("lint", short_help="Supabase's linter rules on the spec (or a database).")
@SPEC_OPTION
@click.option("--db", "db", metavar="URL",
              help="Lint this live database (its schemas and roles from the spec when it exists) instead of the "
                   "spec. Never printed with its password.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text", show_default=True,
              help="sarif: SARIF 2.1.0 for GitHub code scanning.")
@click.option("--fail-on", "fail_on", type=click.Choice(["error", "warning", "info"]), default="warning",
              show_default=True, help="The least severe finding that makes the exit code 1.")
def lint_command(spec, db, fmt, fail_on) -> None:
    """Supabase's linter rules (splinter's names and numbers) and ours, on the spec (or with
    --db on a live database).

    Suppress a finding on one table, view, function or extension with
    `lint_ignore: {<rule name or number>: <reason>}` in the spec.
    Exit 0 when nothing at --fail-on or worse is found; 1 otherwise (or when the spec has
    problems); 2 when it could not run.
    """
    from pathlib import Path

    from . import lint as lint_mod
    from .api import load_spec

    if db is not None:
        from .access import from_database

        schema = load_spec(spec) if Path(spec).is_file() else None
        source = from_database(_need_db(db), schema)
        model = lint_mod.declared_like(source.model, schema)
        findings = lint_mod.lint(model, source.model)
        label = source.label
    else:
        findings = lint_mod.lint(load_spec(spec))
        label = spec
    click.echo(lint_mod.FORMATS[fmt](findings, label), nl=False)
    sys.exit(1 if lint_mod.failing(findings, fail_on) else 0)


@main.command(short_help="Who may do what: per table, role and command.")
@SPEC_OPTION
@click.option("--db", "db", metavar="URL",
              help="Show the access of this live database instead of the spec's (schemas and roles from the "
                   "spec when it exists). Never printed with its password.")
@click.option("--shadow-db", "shadow_db", metavar="URL",
              help="Server for the temporary database that normalises a spec (as for diff).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text",
              show_default=True, help="markdown: for pull request comments.")
@click.option("--base", "base", metavar="OLD_SPEC",
              help="Show only what changed since this spec: a file, or git:REF:path (e.g. git:main:schema.yaml). "
                   "Widened access comes first.")
@click.option("--fail-on-widen", is_flag=True,
              help="With --base: exit 1 when access widened (or changed in a way that may widen).")
@click.option("--no-cache", "no_cache", is_flag=True, help="Normalise specs again even if cached.")
def access(spec, db, shadow_db, fmt, base, fail_on_widen, no_cache) -> None:
    """Who may do what: per table, role and command, denied / every row / the rows the
    policies allow; and who may execute each function.

    Computed from the spec normalised in a shadow database (like diff), or from --db.
    Exit 0; 1 when the spec has problems, or with --base and --fail-on-widen when access
    widened; 2 when it could not run.
    """
    from pathlib import Path

    from . import access as acc
    from .api import load_spec

    def current():
        if db is not None:
            return acc.from_database(_need_db(db), load_spec(spec) if Path(spec).is_file() else None)
        return acc.from_spec(spec, shadow_url=shadow_db, use_cache=not no_cache)

    if base is None:
        if fail_on_widen:
            raise UsageError("--fail-on-widen needs --base OLD_SPEC")
        mx = acc.matrix_of(current())
        click.echo(acc.FORMATS[fmt](mx), nl=False)
        return
    with acc.base_spec_file(base) as base_path:
        old = acc.from_spec(base_path, shadow_url=shadow_db, use_cache=not no_cache, label=base)
    new = current()
    changes = acc.access_changes(old.model, new.model, roles=_union(old.roles, new.roles))
    title = f"Access changes from {base} to {new.label}"
    if fmt == "json":
        click.echo(acc.format_changes_json(changes, base=base, target=new.label), nl=False)
    elif fmt == "markdown":
        click.echo(acc.format_changes_markdown(changes, title), nl=False)
    else:
        on = _color(sys.stdout)
        click.echo(acc.format_changes_text(changes, color=on, title=title), nl=False, color=on)
    if fail_on_widen and any(c.verdict in ("widened", "changed") for c in changes):
        sys.exit(1)


def _union(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(a + b))


@main.command("inspect", short_help="Write a spec (schema.yaml) describing a live database.")
@DB_OPTION
@click.option("--schema", "schemas", multiple=True, metavar="S",
              help="A schema to describe (repeatable; default: every schema holding user objects, public first).")
@click.option("--out", "out", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write the spec to FILE instead of stdout.")
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
def inspect_command(db, schemas, out, force) -> None:
    """Write a spec (schema.yaml) describing a live database.

    The app's objects become migration "001"; what the platform provides and the app uses
    (auth.users with the columns it references, auth.uid(), roles, schemas) is declared
    assumed; grants are relative to the default privileges. Whatever the spec cannot express is
    listed on stderr and left out, with everything that depends on it. Exit 0 when the spec was
    written (also when something was left out); 2 when the database cannot be read, a --schema
    does not exist, or FILE exists (without --force) or cannot be written.
    """
    from .inspect_spec import check_out_path, inspect_database, write_spec

    if out:
        check_out_path(out, force)
    result = inspect_database(_need_db(db), list(schemas) or None)
    for note in result.notes:
        click.echo(f"schemagen: cannot express: {note}", err=True)
    if out:
        write_spec(result, out, force=force)
    else:
        click.echo(result.text, nl=False)
    n_tables = sum(1 for t in result.spec.tables if not t.assumed)
    n_functions = sum(1 for f in result.spec.functions if not f.assumed)
    left_out = sum(1 for n in result.notes if n.endswith("(left out)"))
    click.echo(f"{out or 'stdout'}: {n_tables} tables, {len(result.spec.views)} views, {n_functions} functions "
               f"from schema(s) "
               f"{', '.join(result.schemas)}" + (f"; {left_out} object(s) left out (listed above)" if left_out else ""),
               err=True)


@main.command(short_help="Start a project: starter schema.yaml and generated/.")
@click.argument("directory", default=".", type=click.Path(file_okay=False))
def init(directory: str) -> None:
    """Start a project: a starter schema.yaml for Supabase, its editor schema, generated/.

    DIRECTORY defaults to the current one. The spec declares what Supabase provides (roles,
    auth.users, auth.uid(), the default privileges of public) and one example table with RLS
    and a policy. Exit 0 when written; 2 when schema.yaml, schemagen.schema.json or a
    non-empty generated/ already exists there (nothing is overwritten) or it cannot be written.
    """
    import os

    from .scaffold import SCHEMA_JSON_NAME, init_project

    report = init_project(directory)
    for path in report.created:
        click.echo(f"created {path}")
    cd = "" if os.path.abspath(directory) == os.getcwd() else f"  cd {directory}\n"
    click.echo(
        "\nNext steps:\n"
        f"{cd}"
        f"  edit schema.yaml              (editors complete and check it through {SCHEMA_JSON_NAME})\n"
        "  schemagen render              write generated/ again after each edit; commit both\n"
        "  schemagen apply --db URL      run the new migrations (or put DATABASE_URL in .env.local)\n"
        "  schemagen diff --db URL       check a database for drift from the spec")


@main.command("schema-json", short_help="Print the JSON Schema of the spec, for editors.")
@click.option("--out", "-o", "out", type=click.Path(dir_okay=False),
              help="Write to this file (default: standard output).")
def schema_json(out: str | None) -> None:
    """Print the JSON Schema of schema.yaml, for editors (yaml-language-server, VS Code, JetBrains).

    Put `# yaml-language-server: $schema=./schemagen.schema.json` on the spec's first line.
    Built from the same key tables `schemagen validate` uses. Exit 0; 2 when FILE cannot be
    written.
    """
    from pathlib import Path

    from .errors import UsageError
    from .spec.schema_json import spec_json_schema_text

    text = spec_json_schema_text()
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as e:
        raise UsageError(f"cannot write {out}: {e.strerror}") from None
    click.echo(f"wrote {out}")


if __name__ == "__main__":  # pragma: no cover
    main()
