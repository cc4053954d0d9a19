"""A ``code`` item's key, checked where it enters (pure): hidden tests that parse as Python.

The tests are plain ``assert`` statements run after the model's code in the sandbox (see
``fmc_scoring.grading.execution``); a suite whose tests do not even parse would grade every team
wrong, so it is refused when loaded, with the item and the line. Sizes are capped so that one item
cannot make grading (or the key table) heavy.
"""

from __future__ import annotations

import ast

from fmc_scoring.values import AnswerKey, ItemKind

MAX_TESTS_CHARS = 64_000
MAX_ENTRY_POINT_CHARS = 100


def code_key(tests: object, entry_point: object = None) -> AnswerKey:
    """The key of a ``code`` item; ValueError saying what is wrong."""
    if not isinstance(tests, str) or not tests.strip():
        raise ValueError("a code item needs its hidden tests ('tests': Python source with asserts)")
    if len(tests) > MAX_TESTS_CHARS:
        raise ValueError(f"the tests are {len(tests)} characters, more than {MAX_TESTS_CHARS}")
    try:
        ast.parse(tests)
    except SyntaxError as exc:
        raise ValueError(f"the tests do not parse as Python (line {exc.lineno}: {exc.msg})") from exc
    if entry_point is not None:
        name = str(entry_point)
        if not name.isidentifier() or len(name) > MAX_ENTRY_POINT_CHARS:
            raise ValueError(f"entry_point {name!r} is not a Python function name")
        return AnswerKey(ItemKind.CODE, tests=tests, entry_point=name)
    return AnswerKey(ItemKind.CODE, tests=tests)
