"""The terminal: whether to colour, and a progress line for slow work.

``use_color`` is the one decision every command uses; ``progress`` is how library code
announces slow work (a shadow database, a long migration) without printing: it does
nothing until the CLI installs a reporter with ``set_reporter``.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator

COLOR_MODES = ("auto", "always", "never")
PROGRESS_DELAY = 1.0  # seconds of work before a progress line appears


def use_color(stream, mode: str = "auto", environ=None) -> bool:
    """Colour for ``stream``: ``--color always/never`` wins; then NO_COLOR (non-empty) says no,
    FORCE_COLOR (non-empty, not 0/false) says yes, TERM=dumb says no; else only on a terminal."""
    if mode == "always":
        return True
    if mode == "never":
        return False
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR", ""):
        return False
    force = env.get("FORCE_COLOR", "")
    if force and force.lower() not in ("0", "false", "no"):
        return True
    if env.get("TERM", "") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):
        return False


def paint(text: str, code: str, on: bool) -> str:
    """``text`` in SGR colour ``code`` (e.g. "31" red, "1" bold) when ``on``."""
    return f"\x1b[{code}m{text}\x1b[0m" if on else text


# ---------------------------------------------------------------- progress

_reporter: Callable[[str, float | None], None] | None = None


def set_reporter(reporter: Callable[[str, float | None], None] | None) -> None:
    """Install ``reporter(label, elapsed)`` (elapsed None: the work ended) for ``progress``."""
    global _reporter
    _reporter = reporter


@contextmanager
def progress(label: str, delay: float | None = None) -> Iterator[None]:
    """Announce ``label`` if the work inside takes longer than ``delay`` seconds (default
    PROGRESS_DELAY; refreshed every second with the time spent); nothing at all without a reporter."""
    reporter = _reporter
    if reporter is None:
        yield
        return
    delay = PROGRESS_DELAY if delay is None else delay
    done = threading.Event()
    shown = threading.Event()
    start = time.monotonic()

    def tick() -> None:
        if done.wait(delay):
            return
        while not done.is_set():
            shown.set()
            reporter(label, time.monotonic() - start)
            if done.wait(1.0):
                return

    thread = threading.Thread(target=tick, name="schemagen-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        if shown.is_set():
            reporter(label, None)


class StderrProgress:
    """A reporter writing one self-updating line to a terminal; silent on anything else."""

    def __init__(self, stream=None, color: bool = False):
        self.stream = stream if stream is not None else sys.stderr
        self.color = color
        self.lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        isatty = getattr(self.stream, "isatty", None)
        try:
            return bool(isatty and isatty())
        except (OSError, ValueError):
            return False

    def __call__(self, label: str, elapsed: float | None) -> None:
        if not self.enabled:
            return
        with self.lock:
            if elapsed is None:
                self.stream.write("\r\x1b[2K")  # clear the line: the command's own output follows
            else:
                self.stream.write("\r\x1b[2K" + paint(f"schemagen: {label}… {elapsed:.0f} s", "2", self.color))
            self.stream.flush()
