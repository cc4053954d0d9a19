"""Published contracts: AsyncAPI for the event streams, JSON Schema per event type, OpenAPI per service,
a summary of the gRPC protos, and the compatibility rules that keep them from breaking silently.

``python -m fmc_common.contracts export`` writes them under ``docs/contracts/``; the committed copies
are the baseline that ``check`` (and the contract tests) compare the code against.
"""

from fmc_common.contracts.events import (
    FORBIDDEN_PUBLIC_FIELD,
    event_schema_breaks,
    event_schemas,
    forbidden_public_fields,
)
from fmc_common.contracts.export import (
    Artefacts,
    BreakingChange,
    breaking_changes,
    generate,
    read_committed,
    stale_files,
    write,
)
from fmc_common.contracts.protos import proto_breaks, proto_summary

__all__ = [
    "FORBIDDEN_PUBLIC_FIELD",
    "Artefacts",
    "BreakingChange",
    "breaking_changes",
    "event_schema_breaks",
    "event_schemas",
    "forbidden_public_fields",
    "generate",
    "proto_breaks",
    "proto_summary",
    "read_committed",
    "stale_files",
    "write",
]
