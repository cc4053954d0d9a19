"""The AsyncAPI 3.0 document of the platform's event streams, generated from the event catalogue.

Every topic of the catalogue is a channel (address = topic name) with its partition key, owner and
whether partners may read it. Every event type is a message whose payload is the CloudEvents envelope
with ``type`` fixed and ``data`` the event's own schema. The document is self-contained: the ``$defs``
of each event schema move to ``components/schemas`` under the event's message id.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from fmc_common.events.base import Event
from fmc_common.events.catalog import ALL_EVENTS
from fmc_common.events.envelope import CONTENT_TYPE, Envelope
from fmc_common.events.topics import CATALOGUE, TopicSpec

ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING_VERSION = "0.5.0"


def channel_id(spec: TopicSpec) -> str:
    """``fmc.inference-gateway.events.v1`` -> ``inferenceGatewayEventsV1``."""
    words = re.split(r"[^A-Za-z0-9]+", spec.topic.removeprefix("fmc."))
    return words[0] + "".join(word[:1].upper() + word[1:] for word in words[1:])


def message_id(event: type[Event]) -> str:
    """``fmc.registry.team-registered.v1`` -> ``registry_TeamRegistered_v1`` (a valid component key)."""
    _, service, name, version = event.event_type.split(".", 3)
    words = [part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", name)]
    return f"{service.replace('-', '_')}_{''.join(words)}_{version}"


def build(version: str = "1.0.0") -> dict[str, Any]:
    schemas: dict[str, Any] = {"CloudEventsEnvelope": _envelope_schema()}
    messages: dict[str, Any] = {}
    for event in ALL_EVENTS:
        messages[message_id(event)] = _message(event, schemas)
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for spec in CATALOGUE:
        cid = channel_id(spec)
        events = [event for event in ALL_EVENTS if event.topic == spec.topic]
        channels[cid] = _channel(spec, events)
        operations[f"publish{cid[:1].upper()}{cid[1:]}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{cid}"},
            "summary": f"The {spec.owner} service publishes to {spec.topic}.",
            "messages": [{"$ref": f"#/channels/{cid}/messages/{message_id(event)}"} for event in events],
        }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "id": "urn:fmc:events",
        "info": {
            "title": "FMC evaluation platform events",
            "version": version,
            "description": (
                "Events of the national foundation-model competition's evaluation platform. Every message"
                " is a CloudEvents 1.0 envelope in structured JSON mode; `type` names the event and its"
                " version. Partners may read only channels marked `x-fmc-partner-facing: true`; those"
                " never carry a score or a rank. A published event type only gains optional fields; any"
                " other change is published as a new type with the next version."
            ),
        },
        "defaultContentType": CONTENT_TYPE.split(";")[0],
        "servers": {
            "production": {
                "host": "fmc-kafka-kafka-bootstrap:9093",
                "protocol": "kafka-secure",
                "description": "Apache Kafka (Strimzi) in the cluster: TLS, SCRAM-SHA-512, ACLs per user.",
                "security": [{"$ref": "#/components/securitySchemes/scram"}],
            },
            "development": {
                "host": "localhost:19092",
                "protocol": "kafka",
                "description": "docker compose on a laptop (plaintext).",
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": schemas,
            "messages": messages,
            "securitySchemes": {
                "scram": {
                    "type": "scramSha512",
                    "description": "One KafkaUser per service and per partner; see deploy/k8s.",
                }
            },
        },
    }


def _channel(spec: TopicSpec, events: list[type[Event]]) -> dict[str, Any]:
    description = spec.description
    if spec.partner_facing:
        description += " Partner-facing: carries no score, rank or grade."
    return {
        "address": str(spec.topic),
        "title": str(spec.topic),
        "description": description,
        "messages": {
            message_id(event): {"$ref": f"#/components/messages/{message_id(event)}"} for event in events
        },
        "bindings": {"kafka": {"topic": str(spec.topic), "bindingVersion": KAFKA_BINDING_VERSION}},
        "x-fmc-owner": spec.owner,
        "x-fmc-key": spec.key,
        "x-fmc-partner-facing": spec.partner_facing,
        "x-fmc-dead-letter": spec.dead_letter,
    }


def _message(event: type[Event], schemas: dict[str, Any]) -> dict[str, Any]:
    name = message_id(event)
    data = _relocate(event.json_schema(), name, schemas)
    schemas[name] = data
    spec = next(spec for spec in CATALOGUE if spec.topic == event.topic)
    return {
        "name": event.event_type,
        "title": event.__name__,
        "summary": (event.__doc__ or event.__name__).strip().splitlines()[0],
        "contentType": CONTENT_TYPE.split(";")[0],
        "correlationId": {
            "description": "The id shared by every event and request of one business flow.",
            "location": "$message.payload#/correlationid",
        },
        "payload": {
            "allOf": [
                {"$ref": "#/components/schemas/CloudEventsEnvelope"},
                {
                    "type": "object",
                    "required": ["type", "data"],
                    "properties": {
                        "type": {"const": event.event_type},
                        "data": {"$ref": f"#/components/schemas/{name}"},
                    },
                },
            ]
        },
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": f"Partition key: {spec.key}."},
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
        "x-fmc-event-type": event.event_type,
    }


def _envelope_schema() -> dict[str, Any]:
    schema = Envelope.model_json_schema()
    schema["title"] = "CloudEvents 1.0 envelope"
    return schema


def _relocate(schema: Mapping[str, Any], name: str, schemas: dict[str, Any]) -> dict[str, Any]:
    """Move ``$defs`` to ``components/schemas/<name>_<def>`` and point the ``$ref``s there."""
    defs = schema.get("$defs", {})
    prefix = f"#/components/schemas/{name}_"

    def rewrite(node: Any) -> Any:
        if isinstance(node, Mapping):
            result = {key: rewrite(value) for key, value in node.items() if key != "$defs"}
            ref = result.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                result["$ref"] = prefix + ref.removeprefix("#/$defs/")
            return result
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        return node

    for def_name, def_schema in defs.items():
        schemas[f"{name}_{def_name}"] = rewrite(def_schema)
    relocated: dict[str, Any] = rewrite(schema)
    # A nested $id would rebase the document's own references: keep it in the standalone file only.
    relocated.pop("$id", None)
    return relocated
