"""Where scoring reads artefacts: donor weights, submissions' weights and suite files.

Local folders in development (``originality_weights_root``, ``submission_weights_root``,
``suites_directory``); one S3-compatible bucket in production (``artefact_store=s3``), each kind of
artefact below its own key prefix. One S3 client is shared by the three stores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from fmc_common.artefacts import ArtefactStore, LocalArtefactStore
from fmc_common.s3 import S3ArtefactStore, s3_client
from fmc_common.settings import ArtefactStoreKind
from fmc_common.web.deps import component
from fmc_scoring.settings import ScoringSettings


@dataclass(frozen=True)
class ScoringArtefacts:
    donors: ArtefactStore
    submissions: ArtefactStore
    suites: ArtefactStore

    @classmethod
    def from_settings(cls, settings: ScoringSettings) -> ScoringArtefacts:
        block = settings.artefact_read_block_bytes
        if settings.artefact_store is ArtefactStoreKind.LOCAL:
            return cls(
                LocalArtefactStore(settings.originality_weights_root, block),
                LocalArtefactStore(settings.submission_weights, block),
                LocalArtefactStore(settings.suites_directory, block),
            )
        config = settings.s3_config()
        client = s3_client(config)
        submissions = settings.s3_submission_weights_prefix or settings.s3_weights_prefix
        return cls(
            S3ArtefactStore(config, settings.s3_weights_prefix, block, client),
            S3ArtefactStore(config, submissions, block, client),
            S3ArtefactStore(config, settings.s3_suites_prefix, block, client),
        )


ArtefactsDep = Annotated[ScoringArtefacts, Depends(component(ScoringArtefacts))]
