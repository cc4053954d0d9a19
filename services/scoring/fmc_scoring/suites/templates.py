"""lm-evaluation-harness templates rendered in a sandbox (pure: template and doc in, text out).

Task files come from outside the project, so a template is untrusted code: it is rendered by Jinja's
``ImmutableSandboxedEnvironment`` (no attribute starting with ``_``, no mutation of the doc), with no
globals at all (``range``, ``cycler``, ``joiner``, ``lipsum``, ``namespace`` are gone, so the usual
``cycler.__init__.__globals__`` escape names an undefined variable), only the filters the harness's
common tasks use, strict undefined variables, bounded string repetition and ``%`` formats, and a cap on
the rendered size. Every failure is a ``TemplateRefused`` whose message names the task and the reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import StrictUndefined, TemplateError, UndefinedError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_RENDERED_CHARS = 64_000
"""A rendered prompt longer than this is refused (a prompt, not a document)."""

_MAX_REPEAT = 10_000
_MAX_FORMAT_WIDTH = 100
_FORMAT_SPEC = re.compile(r"%(?:\([A-Za-z_][A-Za-z0-9_]*\))?[-+ #0]*(\d*)(?:\.(\d+))?([sdifgeExXr%])")
_ALLOWED_FILTERS = frozenset(
    {
        "upper",
        "lower",
        "trim",
        "replace",
        "join",
        "first",
        "last",
        "length",
        "count",
        "default",
        "d",
        "int",
        "float",
        "string",
        "title",
        "capitalize",
        "list",
        "abs",
        "round",
    }
)


class TemplateRefused(ValueError):
    """The template cannot or may not be rendered; the message names the task and why."""


def _safe_format(value: Any, *args: Any, **kwargs: Any) -> str:
    """``"%s: %d" | format(a, b)``: ``%`` formatting only, widths and precisions bounded."""
    text = str(value)
    for match in _FORMAT_SPEC.finditer(text):
        width, precision = match.group(1), match.group(2)
        if int(width or 0) > _MAX_FORMAT_WIDTH or int(precision or 0) > _MAX_FORMAT_WIDTH:
            raise SecurityError(f"format width {match.group(0)!r} is above {_MAX_FORMAT_WIDTH}")
    if args and kwargs:
        raise SecurityError("format takes positional or keyword arguments, not both")
    return text % (kwargs or args)


class _TaskSandbox(ImmutableSandboxedEnvironment):
    """The sandbox plus bounded ``*`` and ``**`` (``'a' * 10**9`` would exhaust memory)."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            if abs(right) > 64 or abs(left) > 2**32:
                raise SecurityError("power operands too large")
            return left**right
        sizes = [len(side) for side in (left, right) if isinstance(side, str | list | tuple)]
        counts = [side for side in (left, right) if isinstance(side, int)]
        if sizes and counts and sizes[0] * max(counts[0], 0) > _MAX_REPEAT:
            raise SecurityError(f"repetition above {_MAX_REPEAT} elements")
        return left * right


def _environment() -> ImmutableSandboxedEnvironment:
    environment = _TaskSandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
    filters: dict[str, Callable[..., Any]] = {name: environment.filters[name] for name in _ALLOWED_FILTERS}
    filters["format"] = _safe_format
    environment.filters = filters
    environment.tests = {name: environment.tests[name] for name in ("defined", "undefined", "none")}
    environment.globals = {}
    return environment


_ENVIRONMENT = _environment()


def render(task: str, template: str, doc: Mapping[str, Any]) -> str:
    """Render ``template`` with the doc's fields as variables (as the harness does) and ``doc`` itself.

    The harness renders ``Template(spec).render(**doc)``; ``doc`` is added for templates that index
    the whole record. Nothing here runs Python from the task file.
    """
    variables = {"doc": doc, **doc}
    try:
        rendered = _ENVIRONMENT.from_string(template).render(variables)
    except UndefinedError as exc:
        raise TemplateRefused(f"task {task!r}: template {template!r}: undefined variable: {exc}") from exc
    except SecurityError as exc:
        raise TemplateRefused(f"task {task!r}: template {template!r} refused by the sandbox: {exc}") from exc
    except TemplateError as exc:
        raise TemplateRefused(f"task {task!r}: template {template!r}: {exc}") from exc
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise TemplateRefused(f"task {task!r}: template {template!r} failed: {exc}") from exc
    if len(rendered) > MAX_RENDERED_CHARS:
        raise TemplateRefused(
            f"task {task!r}: template {template!r} renders {len(rendered)} characters,"
            f" above the cap of {MAX_RENDERED_CHARS}"
        )
    return rendered
