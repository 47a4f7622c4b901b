"""The diff report and its formats: text (for people), JSON (for scripts, versioned), SQL (the fix).

``DiffReport`` is what ``diff.diff`` returns; nothing here touches a database.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field, fields, is_dataclass
from typing import TYPE_CHECKING, Any

from . import model as m
from .access import AccessChange, assumed_objects, describe_change, drift_of
from .compare import Change, Rls
from .printable import escape_controls, json_text
from .term import use_color  # noqa: F401  (the one colour decision, term.py; importable here as before)

if TYPE_CHECKING:
    from .plan import Plan

JSON_VERSION = 1


@dataclass
class DiffReport:
    database: str  # the target, password masked
    spec: str
    changes: tuple[Change, ...]
    unmanaged: tuple[Change, ...]
    strict: bool = False
    warnings: list[str] = field(default_factory=list)
    stats: dict = field(default_factory=dict)  # cache hit/miss, seconds per stage
    desired: m.Schema | None = None  # the spec as PostgreSQL stores it, with ownership flags
    access: tuple[AccessChange, ...] = ()  # what the differences mean for each role (access.drift_changes)
    access_roles: tuple[str, ...] = ()  # the roles whose widened access is drift
    # differences in what the spec assumes (auth.users, roles, the app's conversations): never fixed here
    unmet: tuple[Change, ...] = ()

    @property
    def access_drift(self) -> tuple[AccessChange, ...]:
        """Access the database gives beyond the spec (widened, or changed so it may widen), on any
        table or function the spec mentions: drift even without --strict (on assumed ones, only
        access to every row; see ``access.drift_of``)."""
        return drift_of(self.access, self.desired, self.access_roles)

    @property
    def drift(self) -> bool:
        return bool(self.changes) or bool(self.unmet) or bool(self.access_drift) or \
            (self.strict and bool(self.unmanaged))

    @property
    def exit_code(self) -> int:
        return 1 if self.drift else 0

    @property
    def destructive(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.destructive)

    @property
    def plan(self) -> Plan:
        """The statements that fix the drift (unmanaged objects are dropped only in strict mode)."""
        if "_plan" not in self.__dict__:
            from .plan import plan

            self.__dict__["_plan"] = plan(self.changes + (self.unmanaged if self.strict else ()), self.desired)
        return self.__dict__["_plan"]


# ---------------------------------------------------------------- formats

_OWNERSHIP = {"pos", "migration", "assumed", "declared", "serial"}  # spec-side bookkeeping


def _plain(value) -> Any:
    """Model values as JSON data, without positions or ownership flags."""
    if isinstance(value, Rls):
        return {"enabled": value.enabled, "forced": value.forced}
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value) if f.name not in _OWNERSHIP}
    if isinstance(value, (tuple, list)):
        return [_plain(x) for x in value]
    return value


def _side(c: Change, value) -> Any:
    if value is None:
        return None
    if c.action == "alter" and c.detail and is_dataclass(value):
        return {f: _plain(getattr(value, f)) for f in c.detail}
    return _plain(value)


def _entry(c: Change) -> dict:
    return {"kind": c.kind, "object": c.object, "action": c.action,
            "before": _side(c, c.before), "after": _side(c, c.after),
            "destructive": c.destructive, "detail": list(c.detail), "reason": c.reason}


def to_json_data(report: DiffReport) -> dict:
    """The documented JSON structure (version 1; see the README's Drift section)."""
    return {
        "version": JSON_VERSION,
        "drift": report.drift,
        "strict": report.strict,
        "database": report.database,
        "spec": report.spec,
        "changes": [_entry(c) for c in report.changes],
        "unmet": [_entry(c) for c in report.unmet],
        "unmanaged": [{"kind": c.kind, "object": c.object} for c in report.unmanaged],
        "access": [dict(c.data(), drift=c in report.access_drift) for c in report.access],
        "warnings": list(report.warnings),
    }


def format_json(report: DiffReport) -> str:
    return json_text(to_json_data(report), indent=2) + "\n"


def format_sql(report: DiffReport) -> str:
    header = (f"schemagen diff: statements that bring {report.database} to {report.spec}.\n"
              "Review before running: statements marked destructive can lose data.")
    if report.unmet:
        header += (f"\n{len(report.unmet)} unmet assumption(s) are not fixed here: schemagen never changes what the "
                   "spec assumes (the platform's or the app's objects).\nFix the spec or the platform; until then "
                   "statements that rely on them may fail.")
    if report.unmanaged and not report.strict:
        header += (f"\n{len(report.unmanaged)} unmanaged object(s) are left alone "
                   "(with --strict they are dropped).")
    if report.plan.left_alone:
        header += (f"\n{len(report.plan.left_alone)} unmanaged object(s) on assumed tables are left alone: "
                   "declare them in the spec or remove them yourself.")
    return report.plan.sql(header)


_COLORS = {"+": "32", "-": "31", "~": "33", "?": "36", "bold": "1", "dim": "2"}
_SYMBOL = {"add": "+", "drop": "-", "alter": "~"}
_LIMIT = 120


def _show(value) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        if value and all(isinstance(x, tuple) and len(x) == 2 for x in value):
            return ", ".join(f"{k}={v!r}" for k, v in value)
        if value and is_dataclass(value[0]):
            return ", ".join(_show_item(x) for x in value)
        return ", ".join(str(x) for x in value) if value else "(none)"
    text = str(value)
    return text if len(text) <= _LIMIT else text[:_LIMIT - 1] + "…"


def _show_item(x) -> str:
    if isinstance(x, m.IndexKey):
        text = x.expression if x.is_column else f"({x.expression})"
        return text + (f" {x.opclass}" if x.opclass else "") + (" desc" if x.descending else "") + \
            (f" nulls {x.nulls}" if x.nulls else "")
    if isinstance(x, m.Argument):
        return " ".join(p for p in ("" if x.mode == "in" else x.mode, x.name or "", x.type,
                                    f"default {x.default}" if x.default is not None else "") if p)
    return str(x)


def _granted(g: m.Grant | None) -> str:
    """``insert, select (with grant option: select)``."""
    if g is None:
        return "none"
    text = ", ".join(g.privileges)
    return text + (f" (with grant option: {', '.join(g.grant_option)})" if g.grant_option else "")


def _describe(c: Change) -> list[str]:
    """The lines under a change's headline: what differs, database side first."""
    if c.kind == "grant":
        return [f"database grants {_granted(c.before)}; spec grants {_granted(c.after)}"]
    if c.kind == "comment":
        return [f"database: {_show(c.before)}", f"spec:     {_show(c.after)}"]
    if c.kind == "owner":
        return [f"owned by {c.before}, one of the spec's API roles (an owner bypasses RLS and every revoke); "
                f"expected the deploying role ({c.after})"]
    if c.kind == "replica identity":
        return [f"database {c.before or 'default'}; spec {c.after or 'default'}"]
    if c.kind == "rls":
        return [f"row level security {f}: database {'on' if getattr(c.before, f) else 'off'}, "
                f"spec {'on' if getattr(c.after, f) else 'off'}" for f in c.detail]
    if c.action != "alter":
        return []
    lines = []
    for f in c.detail:
        before, after = getattr(c.before, f), getattr(c.after, f)
        if f in ("body", "query"):
            lines.append(f"{f} differs (- database, + spec):")
            diff = list(difflib.unified_diff((before or "").splitlines(), (after or "").splitlines(), lineterm="",
                                             n=1))[2:]
            lines += ["  " + d for d in diff[:40]] + (["  …"] if len(diff) > 40 else [])
        else:
            lines.append(f"{f}: database {_show(before)}; spec {_show(after)}")
    return lines


def _headline(c: Change) -> str:
    if c.kind == "comment":
        what = f"comment on {c.object}"
    elif c.kind == "rls":
        what = f"row level security on {c.object}"
    elif c.kind == "table" and c.detail == ("partition_by",):
        what = f"partitioning of table {c.object}"
    elif c.kind == "replica identity":
        what = f"replica identity of {c.object}"
    elif c.kind == "publication" and len(c.key) == 2:
        what = f"publication {c.object}"
    elif c.kind in ("column", "table", "function", "schema", "extension", "role", "type", "view", "materialized view",
                    "domain", "sequence"):
        what = f"{c.kind} {c.object}"
    else:
        what = c.object
    status = {"add": "missing from the database", "drop": "in the database, not in the spec",
              "alter": "differs"}[c.action]
    if c.kind == "grant" and c.action == "alter":
        status = "differ"
    return f"{what}: {status}"


def _painter(color: bool):
    def paint(text: str, style: str) -> str:
        return f"\033[{_COLORS[style]}m{text}\033[0m" if color else text

    return paint


def change_lines(changes, paint, fix: bool = True) -> list[str]:
    """Changes grouped by their object (table, function...), one headline each and what differs
    (``fix``: mark the ones destructive to fix; unmet assumptions are never fixed)."""
    lines: list[str] = []
    group = None
    for c in changes:
        if c.group != group:
            group = c.group
            lines.append("")
            lines.append(paint(escape_controls(group), "bold"))
        sym = _SYMBOL[c.action]
        text = f"  {paint(sym, sym)} {escape_controls(_headline(c))}"
        if c.destructive and fix:
            text += paint("  [destructive to fix]", "-")
        lines.append(text)
        lines += ["      " + escape_controls(d, keep="\t") for d in _describe(c)]
    return lines


def format_changes(changes, color: bool = False) -> str:
    """Just the grouped changes (render lists what no migration captures with it)."""
    return "\n".join(change_lines(changes, _painter(color))).strip("\n") + "\n"


def format_text(report: DiffReport, color: bool = False) -> str:
    paint = _painter(color)
    e = escape_controls

    lines: list[str] = []
    n = len(report.changes)
    unmet = len(report.unmet)
    counted = n + (len(report.unmanaged) if report.strict else 0)
    drift_access = report.access_drift
    if not report.drift:
        lines.append(f"No drift: {escape_controls(report.database)} matches {escape_controls(report.spec)}.")
    elif counted:
        destructive = sum(1 for c in report.changes if c.destructive) + \
            (sum(1 for c in report.unmanaged if c.destructive) if report.strict else 0)
        extra = f", {destructive} of them destructive to fix" if destructive else ""
        lines.append(paint(f"Drift: {_count(counted, 'difference')} between {e(report.spec)} and "
                           f"{e(report.database)}{extra}.", "bold"))
    elif drift_access:
        lines.append(paint(f"Drift: {e(report.database)} gives access that {e(report.spec)} does not.", "bold"))
    else:
        lines.append(paint(f"Unmet assumptions: {_count(unmet, 'difference')} between what "
                           f"{e(report.spec)} assumes and {e(report.database)}.", "bold"))
    if drift_access:
        lines.append(_access_summary(drift_access))
    if unmet and (counted or drift_access):
        lines.append(f"{_count(unmet, 'assumption')} of the spec {'is' if unmet == 1 else 'are'} not met "
                     "(listed under Unmet assumptions).")
    if n or unmet:
        lines.append(paint("  + missing from the database   - not in the spec   ~ differs", "dim"))
    lines += change_lines(report.changes, paint)
    if report.unmet:
        lines.append("")
        lines.append(paint("Unmet assumptions: the spec assumes these exist as declared (the platform's or the "
                           "app's objects).", "bold"))
        lines.append("schemagen never changes them: fix the spec (declare what the database really has) or the "
                     "platform.")
        lines += ["  " + line if line else line for line in change_lines(report.unmet, paint, fix=False)]
    if report.unmanaged:
        lines.append("")
        note = "counted as drift (--strict)" if report.strict else "drift only with --strict"
        lines.append(paint(f"Unmanaged: in the database, never mentioned by the spec ({note}):", "bold"))
        for c in report.unmanaged:
            lines.append(f"  {paint('?', '?')} {e(c.kind)} {e(c.object)}")
    if report.access:
        lines.append("")
        lines.append(paint("Access: what the differences mean for each role (database compared with the spec; "
                           f"{DRIFT_MARK} marks access beyond the spec's for " + ", ".join(report.access_roles)
                           + "):", "bold"))
        for verdict, style in (("widened", "-"), ("changed", "~"), ("narrowed", "+")):
            mine = [c for c in report.access if c.verdict == verdict]
            if mine:
                label = {"changed": "changed, may widen"}.get(verdict, verdict)
                marked = sum(1 for c in mine if c in drift_access)
                of = ("" if not marked else ", drift" if len(mine) == 1 else ", all drift" if marked == len(mine)
                      else f", {marked} of them drift")
                lines.append(f"  {paint(label.capitalize(), style)} ({len(mine)}{of}):")
                lines += [f"    {paint(escape_controls(describe_change(c)), style)}"
                          + (f"  {DRIFT_MARK}" if c in drift_access else "") for c in mine]
    lines += _closing_hint(report, drift_access)
    return "\n".join(lines) + "\n"


def _closing_hint(report: DiffReport, drift_access: tuple[AccessChange, ...]) -> list[str]:
    """Where to go next: the SQL when it fixes something; access drift on what the spec only assumes
    (an app's own ``using (true)`` policy on its table) is never in that SQL, so say what to do instead."""
    from .plan import touches_assumed

    assumed = assumed_objects(report.desired)
    on_assumed = list(dict.fromkeys(c.object for c in drift_access if c.object in assumed))
    fixable = bool(report.changes) or any(c.object not in assumed for c in drift_access) or \
        (report.strict and any(not touches_assumed(c, report.desired) for c in report.unmanaged))
    lines = [""] if fixable or on_assumed else []
    if fixable and report.strict:
        lines.append("To see the statements that fix this: schemagen diff --strict --format sql")
    elif fixable:
        lines.append("To see the statements that fix this: schemagen diff --format sql"
                     + (" (--strict also drops what the spec never mentions)" if report.unmanaged else ""))
    if on_assumed:
        lines.append(f"The access marked {DRIFT_MARK} on {escape_controls(', '.join(on_assumed))} is not fixed by "
                     "schemagen, which never changes what the spec only assumes: review the policies and grants "
                     "there that give it (the app's own) and drop them yourself, or declare them in the spec if "
                     "they are meant to be.")
    return lines


DRIFT_MARK = "[drift]"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


def _access_summary(drift: tuple[AccessChange, ...]) -> str:
    """`Access is wider than the spec in 2 places and may be wider in 1, each marked [drift] under Access.`"""
    wider = sum(1 for c in drift if c.verdict == "widened")
    maybe = len(drift) - wider
    parts = ([f"wider than the spec in {_count(wider, 'place')}"] if wider else []) + \
        ([f"may be wider{' in ' + str(maybe) if wider else ' than the spec in ' + _count(maybe, 'place')}"]
         if maybe else [])
    return f"Access is {' and '.join(parts)}, {'each ' if len(drift) > 1 else ''}marked {DRIFT_MARK} under Access."


FORMATS = {"text": format_text, "json": format_json, "sql": format_sql}
