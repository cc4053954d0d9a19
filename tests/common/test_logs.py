"""JSON logs carry the correlation id of the work in hand."""

from __future__ import annotations

import json
import logging

from fmc_common.correlation import correlation_scope
from fmc_common.logs import JsonFormatter


def record(message: str, **extra: object) -> logging.LogRecord:
    entry = logging.LogRecord("fmc.test", logging.INFO, __file__, 1, message, None, None)
    for key, value in extra.items():
        setattr(entry, key, value)
    return entry


class TestJsonFormatter:
    def test_a_line_inside_a_correlation_scope_carries_its_id_and_extras(self) -> None:
        formatter = JsonFormatter("registry")
        with correlation_scope("req-42"):
            line = json.loads(formatter.format(record("team registered", team_id="t-1")))
        assert line["correlation_id"] == "req-42"
        assert line["service"] == "registry"
        assert line["message"] == "team registered"
        assert line["team_id"] == "t-1"

    def test_outside_a_scope_there_is_no_correlation_id(self) -> None:
        line = json.loads(JsonFormatter("scoring").format(record("idle")))
        assert "correlation_id" not in line
