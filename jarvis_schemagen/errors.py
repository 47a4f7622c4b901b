"""Errors the tool reports to a person. The CLI maps them to exit codes; nothing here knows click."""
from __future__ import annotations


class SchemagenError(Exception):
    """Root of every error the tool reports to a user (never a traceback)."""

    exit_code = 2


class SpecError(SchemagenError):
    """The spec is invalid. Carries every problem found, each with its position."""

    exit_code = 1

    def __init__(self, problems=None, message: str | None = None):
        self.problems = list(problems or [])
        super().__init__(message or "\n".join(str(p) for p in self.problems))


class DatabaseError(SchemagenError):
    """The database could not be reached or refused the work."""

    exit_code = 2


class UsageError(SchemagenError):
    """The command was called wrongly (missing URL, bad option combination)."""

    exit_code = 2
