"""The CloudEvents envelope accepts what the spec allows (extension attributes) and nothing else."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from fmc_common.events.envelope import MAX_EXTENSIONS, Envelope

BASE = {
    "specversion": "1.0",
    "id": "7d1f",
    "source": "/partner",
    "type": "fmc.registry.team-registered.v1",
    "time": "2026-12-05T00:00:00Z",
    "data": {},
}


def parse(**extra: object) -> Envelope:
    return Envelope.from_bytes(json.dumps(BASE | extra).encode())


class TestExtensionAttributes:
    def test_a_w3c_traceparent_is_kept_and_written_back(self) -> None:
        envelope = parse(traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        assert envelope.model_extra == {
            "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        }
        assert json.loads(envelope.to_bytes())["traceparent"].startswith("00-4bf9")

    def test_integer_and_boolean_extensions_are_allowed(self) -> None:
        assert parse(sequence=5, replayed=True).model_extra == {"sequence": 5, "replayed": True}

    @pytest.mark.parametrize(
        "extra",
        [
            {"TraceParent": "x"},  # upper case
            {"a_b": "x"},  # not alphanumeric
            {"averyveryverylongextensionname": "x"},  # over 20 characters
            {"nested": {"a": 1}},  # not a scalar
            {"big": "x" * 5000},
            {f"x{i}": "v" for i in range(MAX_EXTENSIONS + 1)},
        ],
    )
    def test_what_the_spec_does_not_allow_is_still_refused(self, extra: dict[str, object]) -> None:
        with pytest.raises(ValidationError):
            parse(**extra)

    def test_a_wrong_specversion_is_refused(self) -> None:
        with pytest.raises(ValidationError):
            Envelope.from_bytes(json.dumps(BASE | {"specversion": "0.3"}).encode())
