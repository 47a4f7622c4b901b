"""Text from outside (names read back from a database, spec values, file names) made safe to show.

A name may hold a newline, an escape sequence (``ESC ] 0;...`` retitles a terminal) or a
bidirectional override. Shown raw, such a name can fake lines of a report, or end a SQL
comment it was written into. ``escape_controls`` writes every such character as a visible
escape (``\\n``, ``\\x1b``, ``\\u202e``), so the text stays on one line and means what it shows.
"""
from __future__ import annotations

import json
import re

# C0 controls, DEL, C1 controls, the Unicode line/paragraph separators and the bidirectional
# embedding/override/isolate characters ("trojan source")
CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(mt: re.Match) -> str:
    ch = mt.group(0)
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def escape_controls(text: str, keep: str = "") -> str:
    """``text`` with every control character written as an escape, except those in ``keep``."""
    text = str(text)
    if not CONTROLS.search(text):
        return text
    return CONTROLS.sub(lambda mt: mt.group(0) if mt.group(0) in keep else _escape(mt), text)


def has_controls(text: str, allow: str = "") -> str | None:
    """The first control character of ``text`` not in ``allow``, or None."""
    for mt in CONTROLS.finditer(str(text)):
        if mt.group(0) not in allow:
            return mt.group(0)
    return None


def json_text(data, **kwargs) -> str:
    """``json.dumps(data, ensure_ascii=False, **kwargs)`` with every control, line-separator and
    bidirectional character written as a ``\\uXXXX`` escape (json.dumps escapes only C0): the
    document decodes to the same values, and shown raw on a terminal it cannot move the cursor,
    retitle the window or reorder what it shows."""
    return _JSON_RAW.sub(lambda mt: f"\\u{ord(mt.group(0)):04x}", json.dumps(data, ensure_ascii=False, **kwargs))


# what json.dumps leaves raw in strings: CONTROLS but C0 (which it escapes; C0 in its output is layout)
_JSON_RAW = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
