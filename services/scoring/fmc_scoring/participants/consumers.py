"""Kafka handlers: thin adapters over the participant service."""

from __future__ import annotations

from fmc_scoring.participants.service import participants

consumer_spec = participants.consumer_spec
