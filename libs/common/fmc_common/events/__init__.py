"""Event envelope, event types and the topic catalogue."""

from fmc_common.events.base import Event
from fmc_common.events.catalog import ALL_EVENTS, EVENT_TYPES, event_class
from fmc_common.events.envelope import Envelope
from fmc_common.events.topics import CATALOGUE, Topic, dead_letter_topic

__all__ = [
    "ALL_EVENTS",
    "CATALOGUE",
    "EVENT_TYPES",
    "Envelope",
    "Event",
    "Topic",
    "dead_letter_topic",
    "event_class",
]
