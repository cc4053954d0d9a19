"""The code in a model's answer (pure).

A fenced block marked ``python`` (or ``py``) wins, the first one; else the first unmarked fenced
block; else the whole answer, if it parses as Python. Prose without code is ``None`` (graded
``no-code-found``): running it would only report a syntax error and hide what went wrong.
"""

from __future__ import annotations

import ast
import re

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)```", re.DOTALL)


def extract_code(response: str) -> str | None:
    blocks = [(str(m.group(1)).casefold(), str(m.group(2))) for m in _FENCE.finditer(response)]
    for lang, body in blocks:
        if lang in {"python", "py", "python3"} and body.strip():
            return body
    for lang, body in blocks:
        if not lang and body.strip():
            return body
    text = response.strip()
    if not text or blocks:
        return None
    try:
        ast.parse(text)
    except SyntaxError:
        return None
    return text + "\n"
