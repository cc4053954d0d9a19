"""The topic catalogue: internal topics per service, one partner-facing public topic, dead letters."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Topic(StrEnum):
    REGISTRY = "fmc.registry.events.v1"
    GATEWAY = "fmc.inference-gateway.events.v1"
    SCORING = "fmc.scoring.events.v1"
    GRIEVANCE = "fmc.grievance.events.v1"
    PUBLIC = "fmc.public.announcements.v1"
    REGISTRY_DLQ = "fmc.registry.dlq.v1"
    GATEWAY_DLQ = "fmc.inference-gateway.dlq.v1"
    SCORING_DLQ = "fmc.scoring.dlq.v1"
    GRIEVANCE_DLQ = "fmc.grievance.dlq.v1"


@dataclass(frozen=True)
class TopicSpec:
    topic: Topic
    owner: str
    partner_facing: bool
    key: str
    description: str
    dead_letter: bool = False


CATALOGUE: tuple[TopicSpec, ...] = (
    TopicSpec(Topic.REGISTRY, "registry", False, "team id or stage id", "Teams, stages, submissions."),
    TopicSpec(Topic.GATEWAY, "inference-gateway", False, "run id", "Inference run progress and completion."),
    TopicSpec(Topic.SCORING, "scoring", False, "stage id", "Grades, verdicts, results with full detail."),
    TopicSpec(
        Topic.GRIEVANCE,
        "grievance",
        False,
        "stage id (audit/grievance for audit checkpoints)",
        "Notifications, objections, windows; the audit trail's signed checkpoints.",
    ),
    TopicSpec(
        Topic.PUBLIC,
        "scoring",
        True,
        "stage id",
        "Partner-facing announcements: who takes part, who advances. Never a score or a rank.",
    ),
    TopicSpec(Topic.REGISTRY_DLQ, "registry", False, "original key", "Registry's dead letters.", True),
    TopicSpec(Topic.GATEWAY_DLQ, "inference-gateway", False, "original key", "Gateway's dead letters.", True),
    TopicSpec(Topic.SCORING_DLQ, "scoring", False, "original key", "Scoring's dead letters.", True),
    TopicSpec(Topic.GRIEVANCE_DLQ, "grievance", False, "original key", "Grievance's dead letters.", True),
)


def dead_letter_topic(service: str) -> Topic:
    for spec in CATALOGUE:
        if spec.dead_letter and spec.owner == service:
            return spec.topic
    raise KeyError(f"no dead-letter topic for service {service!r}")
