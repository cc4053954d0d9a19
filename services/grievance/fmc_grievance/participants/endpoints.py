"""REST: /v1/participants."""

from __future__ import annotations

from fmc_grievance.participants.service import participants

router = participants.router()
