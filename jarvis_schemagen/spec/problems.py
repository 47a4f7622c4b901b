"""Problems found in a spec, each pointing at the place in the file that causes it."""
from __future__ import annotations

import contextvars
import difflib
from contextlib import contextmanager
from dataclasses import dataclass

from ..model import Pos


@dataclass(frozen=True, order=True)
class Problem:
    pos: Pos | None
    message: str

    def __str__(self) -> str:
        return f"{self.pos}: {self.message}" if self.pos else self.message


# A suggestion costs a difflib comparison with every choice; a hostile spec with thousands of
# misspellings would make validation slow. The first SUGGESTIONS problems of a load get one.
SUGGESTIONS = 50
_budget: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("did_you_mean_budget", default=None)


@contextmanager
def suggestion_budget(n: int = SUGGESTIONS):
    """Within the block, at most ``n`` did-you-mean suggestions are computed."""
    token = _budget.set([n])
    try:
        yield
    finally:
        _budget.reset(token)


def did_you_mean(word: str, choices) -> str:
    budget = _budget.get()
    if len(word) > 100 or budget is not None and budget[0] <= 0:
        return ""
    if budget is not None:
        budget[0] -= 1
    match = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean '{match[0]}'?)" if match else ""


def sort_problems(problems: list[Problem]) -> list[Problem]:
    """Stable, file-ordered, without duplicates."""
    seen: set[tuple] = set()
    out = []
    for p in sorted(problems, key=lambda p: (p.pos.line if p.pos else 0, p.pos.col if p.pos else 0)):
        key = (p.pos, p.message)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out
