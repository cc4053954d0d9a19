"""The published contracts (docs/contracts): regenerated identically from the code, valid, free of
scores on the public topic, and guarded by compatibility rules that are shown to fail on breaking
changes and to pass on compatible additions."""

from __future__ import annotations

import copy
import json
import re
import shutil
import uuid
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from pydantic import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from fmc_common.contracts import (
    breaking_changes,
    event_schema_breaks,
    event_schemas,
    forbidden_public_fields,
    generate,
    proto_breaks,
    proto_summary,
    read_committed,
    stale_files,
    write,
)
from fmc_common.contracts.__main__ import main as cli
from fmc_common.contracts.asyncapi import channel_id, message_id
from fmc_common.contracts.events import is_versioned, next_version
from fmc_common.contracts.export import EXPORT_COMMAND, ContractBreak
from fmc_common.contracts.protos import proto_root
from fmc_common.events.catalog import ALL_EVENTS
from fmc_common.events.envelope import envelope_for
from fmc_common.events.registry import TeamRegistered
from fmc_common.events.topics import CATALOGUE

with warnings.catch_warnings():
    # asyncapi3 0.0.2 names a field "schema", which pydantic warns about at import.
    warnings.simplefilter("ignore", UserWarning)
    from asyncapi3.models import AsyncAPI3  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT_URI = "urn:fmc:asyncapi"


@pytest.fixture(scope="module")
def generated() -> dict[str, str]:
    return generate()


@pytest.fixture(scope="module")
def asyncapi(generated: dict[str, str]) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(generated["asyncapi.yaml"])
    return document


def team_registered_schema() -> dict[str, Any]:
    return copy.deepcopy(TeamRegistered.json_schema())


# --- the committed documents are the code's ------------------------------------------------------


class TestCommittedContracts:
    def test_committed_documents_are_regenerated_identically(self, generated: dict[str, str]) -> None:
        stale = stale_files(generated, read_committed(ROOT))
        assert stale == [], (
            f"docs/contracts is stale for {stale}: run `{EXPORT_COMMAND}` and commit the result"
        )

    def test_no_published_contract_changed_incompatibly(self, generated: dict[str, str]) -> None:
        assert [str(change) for change in breaking_changes(generated, read_committed(ROOT))] == []

    def test_the_check_command_passes_on_the_repository(self) -> None:
        assert cli(["check", "--root", str(ROOT)]) == 0

    def test_the_export_command_writes_every_document(
        self, tmp_path: Path, generated: dict[str, str]
    ) -> None:
        assert cli(["export", "--root", str(tmp_path)]) == 0
        assert read_committed(tmp_path) == generated
        assert cli(["check", "--root", str(tmp_path)]) == 0

    def test_a_stale_document_is_reported(self, tmp_path: Path, generated: dict[str, str]) -> None:
        write(tmp_path, generated)
        (tmp_path / "docs" / "contracts" / "asyncapi.yaml").write_text("asyncapi: 3.0.0\n", encoding="utf-8")
        assert stale_files(generated, read_committed(tmp_path)) == ["asyncapi.yaml"]
        assert cli(["check", "--root", str(tmp_path)]) == 1


# --- AsyncAPI ------------------------------------------------------------------------------------


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    return []


def payload_validator(document: dict[str, Any], event_type: str) -> jsonschema.Draft202012Validator:
    key = next(k for k, m in document["components"]["messages"].items() if m["name"] == event_type)
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(DOCUMENT_URI, resource)
    schema = {"$ref": f"{DOCUMENT_URI}#/components/messages/{key}/payload"}
    return jsonschema.Draft202012Validator(schema, registry=registry)


class TestAsyncApi:
    def test_the_document_is_an_asyncapi_3_document(self, asyncapi: dict[str, Any]) -> None:
        assert asyncapi["asyncapi"] == "3.0.0"
        parsed = AsyncAPI3.model_validate(asyncapi)
        assert parsed.channels is not None
        assert parsed.operations is not None

    def test_the_validator_rejects_a_misspelt_field(self, asyncapi: dict[str, Any]) -> None:
        broken = copy.deepcopy(asyncapi)
        channel = next(iter(broken["channels"].values()))
        channel["adress"] = channel.pop("address")
        with pytest.raises(ValidationError):
            AsyncAPI3.model_validate(broken)

    def test_every_reference_resolves(self, asyncapi: dict[str, Any]) -> None:
        refs = _refs(asyncapi)
        assert refs
        for ref in refs:
            assert _resolve(asyncapi, ref) is not None

    def test_every_topic_is_a_channel_with_its_key_and_audience(self, asyncapi: dict[str, Any]) -> None:
        assert len(asyncapi["channels"]) == len(CATALOGUE)
        for spec in CATALOGUE:
            channel = asyncapi["channels"][channel_id(spec)]
            assert channel["address"] == str(spec.topic)
            assert channel["x-fmc-key"] == spec.key
            assert channel["x-fmc-partner-facing"] is spec.partner_facing
            operations = [
                op
                for op in asyncapi["operations"].values()
                if op["channel"]["$ref"].endswith(channel_id(spec))
            ]
            assert [op["action"] for op in operations] == ["send"]

    def test_exactly_one_channel_is_partner_facing(self, asyncapi: dict[str, Any]) -> None:
        public = [c["address"] for c in asyncapi["channels"].values() if c["x-fmc-partner-facing"]]
        assert public == [str(spec.topic) for spec in CATALOGUE if spec.partner_facing]
        assert len(public) == 1

    def test_every_event_is_a_message_on_its_topics_channel(self, asyncapi: dict[str, Any]) -> None:
        for event in ALL_EVENTS:
            spec = next(s for s in CATALOGUE if s.topic == event.topic)
            channel = asyncapi["channels"][channel_id(spec)]
            assert message_id(event) in channel["messages"]
            message = asyncapi["components"]["messages"][message_id(event)]
            assert message["name"] == event.event_type
            assert message["bindings"]["kafka"]["key"]["type"] == "string"

    def test_a_real_envelope_matches_its_message_payload(self, asyncapi: dict[str, Any]) -> None:
        event = TeamRegistered(
            team_id=uuid.uuid4(), name="Upstage", lead_organisation="Upstage", registered_at=datetime.now(UTC)
        )
        envelope = envelope_for(
            event_type=event.event_type,
            source="/fmc/registry",
            data=event.model_dump(mode="json"),
            time=datetime.now(UTC),
            subject=event.subject(),
            dataschema=None,
            correlation_id="c-1",
            causation_id=None,
        )
        validator = payload_validator(asyncapi, event.event_type)
        wire = json.loads(envelope.to_bytes())
        validator.validate(wire)
        missing_name = copy.deepcopy(wire)
        del missing_name["data"]["name"]
        assert not validator.is_valid(missing_name)
        other_type = {**wire, "type": "fmc.registry.something-else.v1"}
        assert not validator.is_valid(other_type)

    def test_public_channels_carry_no_score(self, asyncapi: dict[str, Any]) -> None:
        for channel in asyncapi["channels"].values():
            if not channel["x-fmc-partner-facing"]:
                continue
            for ref in channel["messages"].values():
                message = _resolve(asyncapi, ref["$ref"])
                data = _resolve(asyncapi, message["payload"]["allOf"][1]["properties"]["data"]["$ref"])
                assert forbidden_public_fields(data) == []


# --- event JSON Schemas --------------------------------------------------------------------------


class TestEventSchemas:
    def test_every_event_type_is_versioned_and_on_a_known_topic(self) -> None:
        topics = {spec.topic for spec in CATALOGUE if not spec.dead_letter}
        for event in ALL_EVENTS:
            assert is_versioned(event.event_type), f"{event.event_type} must end in .vN"
            assert event.topic in topics

    def test_every_schema_is_a_valid_json_schema(self) -> None:
        for event_type, schema in event_schemas().items():
            jsonschema.Draft202012Validator.check_schema(schema)
            assert schema["title"] == event_type

    def test_events_on_partner_facing_topics_carry_no_score_rank_or_grade(self) -> None:
        public = {spec.topic for spec in CATALOGUE if spec.partner_facing}
        for event in ALL_EVENTS:
            if event.topic in public:
                assert forbidden_public_fields(event.json_schema()) == [], event.event_type

    def test_the_score_check_finds_scores_at_any_depth(self) -> None:
        schema = {
            "type": "object",
            "properties": {"team_id": {"type": "string"}, "outcome": {"$ref": "#/$defs/Outcome"}},
            "$defs": {
                "Outcome": {
                    "type": "object",
                    "properties": {"advanced": {"type": "boolean"}, "finalRank": {"type": "integer"}},
                },
                "Panel": {
                    "type": "object",
                    "properties": {
                        "items": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {"benchmark_score": {"type": "number"}},
                            },
                        }
                    },
                },
            },
            "properties_note": "ignored",
        }
        assert forbidden_public_fields(schema) == [
            "$defs.Outcome.finalRank",
            "$defs.Panel.items[].benchmark_score",
        ]

    @pytest.mark.parametrize("name", ["score", "rank", "grade", "points", "rating", "Rating", "ranking"])
    def test_each_forbidden_word_is_caught(self, name: str) -> None:
        assert forbidden_public_fields({"properties": {name: {"type": "number"}}}) == [name]

    def test_the_score_check_passes_pass_fail_announcements(self) -> None:
        schema = {
            "properties": {
                "stage_id": {"type": "string"},
                "advanced": {"type": "boolean"},
                "reason": {"enum": ["threshold", "originality"]},
            }
        }
        assert forbidden_public_fields(schema) == []


class TestEventCompatibility:
    def test_an_unchanged_schema_is_compatible(self) -> None:
        assert event_schema_breaks(team_registered_schema(), team_registered_schema()) == []

    def test_a_new_optional_field_is_compatible(self) -> None:
        new = team_registered_schema()
        new["properties"]["website"] = {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}
        assert event_schema_breaks(team_registered_schema(), new) == []

    def test_prose_and_length_changes_are_compatible(self) -> None:
        new = team_registered_schema()
        new["properties"]["name"]["description"] = "The consortium's name."
        new["properties"]["name"]["maxLength"] = 300
        assert event_schema_breaks(team_registered_schema(), new) == []

    def test_a_removed_field_breaks(self) -> None:
        new = team_registered_schema()
        del new["properties"]["lead_organisation"]
        new["required"].remove("lead_organisation")
        assert event_schema_breaks(team_registered_schema(), new) == ["lead_organisation: field removed"]

    def test_a_changed_type_breaks(self) -> None:
        new = team_registered_schema()
        new["properties"]["registered_at"] = {"type": "integer"}
        assert event_schema_breaks(team_registered_schema(), new) == [
            "registered_at: type changed from string format='date-time' to integer"
        ]

    def test_a_changed_format_breaks(self) -> None:
        new = team_registered_schema()
        new["properties"]["team_id"]["format"] = "ulid"
        assert len(event_schema_breaks(team_registered_schema(), new)) == 1

    def test_a_new_required_field_breaks(self) -> None:
        new = team_registered_schema()
        new["properties"]["country"] = {"type": "string"}
        new["required"].append("country")
        assert event_schema_breaks(team_registered_schema(), new) == ["country: new required field"]

    def test_an_optional_field_becoming_required_breaks(self) -> None:
        old = team_registered_schema()
        old["properties"]["website"] = {"type": "string"}
        new = copy.deepcopy(old)
        new["required"].append("website")
        assert event_schema_breaks(old, new) == ["website: optional field became required"]

    def test_losing_nullability_breaks(self) -> None:
        old = team_registered_schema()
        old["properties"]["website"] = {"anyOf": [{"type": "string"}, {"type": "null"}]}
        new = copy.deepcopy(old)
        new["properties"]["website"] = {"type": "string"}
        assert len(event_schema_breaks(old, new)) == 1

    def test_a_changed_enum_breaks(self) -> None:
        old = {"properties": {"status": {"enum": ["active", "eliminated"]}}}
        new = {"properties": {"status": {"enum": ["active"]}}}
        assert len(event_schema_breaks(old, new)) == 1

    def test_a_field_removed_inside_a_nested_model_breaks(self) -> None:
        old: dict[str, Any] = {
            "properties": {"gate": {"$ref": "#/$defs/Gate"}},
            "$defs": {
                "Gate": {
                    "type": "object",
                    "properties": {"passed": {"type": "boolean"}, "kind": {"type": "string"}},
                }
            },
        }
        new = copy.deepcopy(old)
        del new["$defs"]["Gate"]["properties"]["kind"]
        assert event_schema_breaks(old, new) == ["gate.kind: field removed"]

    def test_a_breaking_change_is_reported_with_the_next_version(self, generated: dict[str, str]) -> None:
        event_type = TeamRegistered.event_type
        path = f"schemas/{event_type}.json"
        changed = dict(generated)
        schema = json.loads(changed[path])
        del schema["properties"]["name"]
        changed[path] = json.dumps(schema)
        changes = [str(change) for change in breaking_changes(changed, generated)]
        assert changes == [
            f"{event_type}: name: field removed; publish the change as {next_version(event_type)}"
        ]
        assert next_version(event_type) == "fmc.registry.team-registered.v2"

    def test_removing_a_published_event_type_breaks(self, generated: dict[str, str]) -> None:
        committed = {**generated, "schemas/fmc.registry.team-retired.v1.json": json.dumps({"properties": {}})}
        assert [str(c) for c in breaking_changes(generated, committed)] == [
            "fmc.registry.team-retired.v1: published event type removed"
        ]

    def test_export_refuses_to_overwrite_a_published_schema_incompatibly(
        self, tmp_path: Path, generated: dict[str, str]
    ) -> None:
        write(tmp_path, generated)
        path = f"schemas/{TeamRegistered.event_type}.json"
        baseline = tmp_path / "docs" / "contracts" / path
        schema = json.loads(baseline.read_text(encoding="utf-8"))
        schema["properties"]["founded"] = {"type": "integer"}
        baseline.write_text(json.dumps(schema), encoding="utf-8")  # as if the code had dropped a field
        with pytest.raises(ContractBreak, match="founded: field removed"):
            write(tmp_path, generated)
        assert json.loads(baseline.read_text(encoding="utf-8")) == schema, "nothing was written"
        assert cli(["export", "--root", str(tmp_path)]) == 1
        assert write(tmp_path, generated, allow_breaking=True) == [path]


# --- protos --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def protos() -> dict[str, Any]:
    return proto_summary()


class TestProtoCompatibility:
    def test_the_summary_covers_every_service_and_rpc(self, protos: dict[str, Any]) -> None:
        assert set(protos) == {"fmc.registry.v1", "fmc.gateway.v1", "fmc.scoring.v1", "fmc.grievance.v1"}
        registry = protos["fmc.registry.v1"]
        assert set(registry["services"]["RegistryService"]) == {
            "RegisterTeam",
            "GetTeam",
            "ListTeams",
            "GetSubmission",
            "RegisterSubmission",
        }
        assert registry["messages"]["Team"]["fields"]["team_id"] == {
            "number": 1,
            "type": "string",
            "label": "singular",
        }

    def test_additions_are_compatible(self, protos: dict[str, Any]) -> None:
        new = copy.deepcopy(protos)
        registry = new["fmc.registry.v1"]
        registry["messages"]["Team"]["fields"]["website"] = {
            "number": 20,
            "type": "string",
            "label": "singular",
        }
        registry["messages"]["WatchTeamsRequest"] = {
            "fields": {},
            "reserved_numbers": [],
            "reserved_names": [],
        }
        registry["services"]["RegistryService"]["WatchTeams"] = {
            "input": ".fmc.registry.v1.WatchTeamsRequest",
            "output": ".fmc.registry.v1.Team",
            "client_streaming": False,
            "server_streaming": True,
        }
        new["fmc.registry.v2"] = copy.deepcopy(protos["fmc.registry.v1"])
        assert proto_breaks(protos, new) == []

    def test_removing_a_reserved_field_is_compatible(self, protos: dict[str, Any]) -> None:
        new = copy.deepcopy(protos)
        team = new["fmc.registry.v1"]["messages"]["Team"]
        del team["fields"]["status"]
        team["reserved_numbers"] = [4]
        team["reserved_names"] = ["status"]
        assert proto_breaks(protos, new) == []

    @pytest.mark.parametrize(
        ("change", "expected"),
        [
            (
                "remove-field",
                "fmc.registry.v1.Team.status: field 4 removed without reserving its number and name",
            ),
            ("renumber-field", "fmc.registry.v1.Team.status: renumbered from 4 to 19"),
            ("retype-field", "fmc.registry.v1.Team.status: type changed from string to int32"),
            ("repeat-field", "fmc.registry.v1.Team.status: cardinality changed from singular to repeated"),
            ("remove-rpc", "fmc.registry.v1.RegistryService/GetTeam: RPC removed"),
            ("remove-message", "fmc.registry.v1.GetTeamRequest: message removed"),
            ("remove-package", "fmc.registry.v1: package removed"),
        ],
    )
    def test_breaking_changes_are_caught(self, protos: dict[str, Any], change: str, expected: str) -> None:
        new = copy.deepcopy(protos)
        registry = new["fmc.registry.v1"]
        status = registry["messages"]["Team"]["fields"]["status"]
        if change == "remove-field":
            del registry["messages"]["Team"]["fields"]["status"]
        elif change == "renumber-field":
            status["number"] = 19
        elif change == "retype-field":
            status["type"] = "int32"
        elif change == "repeat-field":
            status["label"] = "repeated"
        elif change == "remove-rpc":
            del registry["services"]["RegistryService"]["GetTeam"]
        elif change == "remove-message":
            del registry["messages"]["GetTeamRequest"]
        elif change == "remove-package":
            del new["fmc.registry.v1"]
        assert expected in proto_breaks(protos, new)

    def test_a_changed_rpc_response_breaks(self, protos: dict[str, Any]) -> None:
        new = copy.deepcopy(protos)
        new["fmc.registry.v1"]["services"]["RegistryService"]["GetTeam"]["output"] = (
            ".fmc.registry.v1.GetTeamRequest"
        )
        assert len(proto_breaks(protos, new)) == 1

    def test_an_edited_proto_file_is_compiled_and_caught(
        self, tmp_path: Path, protos: dict[str, Any]
    ) -> None:
        shutil.copytree(
            proto_root() / "fmc_protos", tmp_path / "fmc_protos", ignore=shutil.ignore_patterns("*.py*")
        )
        proto = tmp_path / "fmc_protos" / "registry" / "v1" / "registry.proto"
        text = proto.read_text(encoding="utf-8")
        edited, count = re.subn(r"string lead_organisation = 3;", "string lead_organisation = 17;", text)
        assert count == 1
        proto.write_text(edited, encoding="utf-8")
        problems = proto_breaks(protos, proto_summary(tmp_path))
        assert problems == ["fmc.registry.v1.Team.lead_organisation: renumbered from 3 to 17"]


# --- OpenAPI -------------------------------------------------------------------------------------


class TestOpenApi:
    @pytest.mark.parametrize("service", ["registry", "inference-gateway", "scoring", "grievance"])
    def test_each_service_publishes_its_api_with_the_operations_endpoints(
        self, generated: dict[str, str], service: str
    ) -> None:
        document = json.loads(generated[f"openapi/{service}.json"])
        assert document["openapi"].startswith("3.1.")
        assert {"/healthz", "/readyz", "/metrics"} <= set(document["paths"])
        assert document["info"]["title"].startswith("FMC ")
