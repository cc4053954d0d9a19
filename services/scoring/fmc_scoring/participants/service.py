"""Recording teams from the registry's events; reading them back (the kit: ``fmc_common.participants``)."""

from __future__ import annotations

from fmc_common.participants import Participants
from fmc_scoring.participants.models import Participant

participants = Participants(Participant, service="scoring")
