"""The digest of a weights manifest (pure, ``fmc_common.manifests``) and where a submission's weights
are delivered."""

from __future__ import annotations

import uuid

from fmc_common.manifests import manifest_digest

__all__ = ["manifest_digest", "weights_location"]


def weights_location(team_id: uuid.UUID, submission_id: uuid.UUID) -> str:
    """The folder, relative to the shared weights store, where the team places this submission's files
    (every file of its manifest, at its manifest path). Deterministic: nothing to store or to choose."""
    return f"submissions/{team_id}/{submission_id}/"
